//go:build unix

package test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// osExperiment is two trials, one constrained to Linux nodes and one to
// Windows nodes, which no node of the test clusters is.
func osExperiment(name, onUnfit string) string {
	return fmt.Sprintf(`experiment %q {
  on_unfit = %q
  space {
    os = grid(["linux", "windows"])
  }
  constraint {
    attribute = "${attr.kernel.name}"
    value     = trial.os
  }
  resources {
    cpu    = 0.1
    memory = 64
  }
  task "t" {
    driver = "mock_driver"
    config {
      run_for = "100ms"
    }
  }
}
`, name, onUnfit)
}

func TestNomadATrialNoNodeCanEverHoldIsNeverRunnableInPlanAndAnErrorInApply(t *testing.T) {
	for _, onUnfit := range []string{"wait", "queue"} {
		t.Run("on_unfit = "+onUnfit, func(t *testing.T) {
			w := newNomadWorkspace(t)
			w.needs(t, clusterNeeds{drivers: []string{"mock_driver"}})
			w.write(t, "exp.hcl", osExperiment(w.name, onUnfit))

			plan := w.tune(t, "plan", "exp.hcl")
			assert.Equal(t, 2, plan.code, "one of two trials can never run:\n%s%s", plan.stdout, plan.stderr)
			assert.Contains(t, plan.stdout, "Can never run")
			assert.Contains(t, plan.stdout, "can never be placed: constraint ${attr.kernel.name} = windows filtered")
			assert.Empty(t, w.jobsOf(t), "plan registers nothing")

			r := w.apply(t)
			assert.Equal(t, 1, r.code, "a trial ended in error:\n%s%s", r.stdout, r.stderr)
			assert.Contains(t, r.stdout, "1 trial can never run here and is marked as an error: constraint ${attr.kernel.name} = windows filtered")
			assert.NotContains(t, r.stdout, "queued")
			res := w.resultsOf(t, w.name)
			require.Len(t, res.Trials, 2)
			byOS := map[string]string{}
			for _, rec := range res.Trials {
				byOS[fmt.Sprint(rec.Params["os"])] = rec.Status
			}
			assert.Equal(t, map[string]string{"linux": "TERMINATED", "windows": "ERROR"}, byOS)
			assert.Len(t, w.jobsOf(t), 1, "only the trial that can run was submitted")
		})
	}
}

func TestNomadADriverNoNodeHasFailsPlanAndApplyInNomadsWords(t *testing.T) {
	for _, onUnfit := range []string{"wait", "queue"} {
		t.Run("on_unfit = "+onUnfit, func(t *testing.T) {
			w := newNomadWorkspace(t)
			w.write(t, "exp.hcl", fmt.Sprintf(`experiment %q {
  on_unfit    = %q
  num_samples = 3
  resources {
    cpu    = 0.1
    memory = 64
  }
  task "t" {
    driver = "tune-no-such-driver"
    config {
      image = "x"
    }
  }
}
`, w.name, onUnfit))
			plan := w.tune(t, "plan", "exp.hcl")
			assert.Equal(t, 1, plan.code, "nothing can run:\n%s%s", plan.stdout, plan.stderr)
			assert.Contains(t, plan.stdout, "missing drivers filtered")
			assert.NotContains(t, plan.stdout, "3 at a time")

			r := w.apply(t)
			assert.Equal(t, 1, r.code, "%s%s", r.stdout, r.stderr)
			assert.Contains(t, r.stderr, "no trial of "+fmt.Sprintf("%q", w.name)+" can run")
			assert.Contains(t, r.stderr, "missing drivers filtered")
			assert.Empty(t, w.jobsOf(t), "nothing was submitted")
		})
	}
}
