package test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAnOpenEndedExperimentRunsToItsTrialCapAcrossAKill(t *testing.T) {
	w := newWorkspace(t)
	w.write(t, "trial.sh", xTrial)
	w.write(t, "exp.hcl", `experiment "open" {
  metric      = "loss"
  mode        = "min"
  num_samples = -1
  stop {
    max_trials = 12
  }
  space {
    x = uniform(0, 1)
  }
  resources {
    cpu    = 1
    memory = 64
  }
  task "train" {
    command = "sh"
    args    = ["trial.sh", "${trial.x}"]
  }
}
`)
	plan := tune(t, w.dir, "plan", w.path("exp.hcl"), "-local-cpus", "2")
	require.Equal(t, 0, plan.code, plan.stderr)
	assert.Contains(t, plan.stdout, "open-ended (num_samples = -1), until 12 trials were generated (stop.max_trials)")

	finished, runs, xs := w.killAndResume(t, "open")
	assert.Len(t, runs, 12, "twelve trials ran, no more")
	values := map[string]bool{}
	for _, x := range xs {
		values[x] = true
	}
	assert.Len(t, values, 12, "no values ran under two trial IDs")
	res := w.resultsOf(t, "open")
	require.Len(t, res.Trials, 12)
	for _, rec := range res.Trials {
		assert.Equal(t, "TERMINATED", rec.Status, rec.ID)
		if finished[rec.ID] {
			assert.Equal(t, 1, runs[rec.ID], "trial %s finished before the kill and does not run again", rec.ID)
		}
	}
}
