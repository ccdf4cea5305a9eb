package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestApplyResumesATPESearchAfterBeingKilledWithoutSuggestingATrialTwice(t *testing.T) {
	w := newWorkspace(t)
	w.write(t, "trial.sh", xTrial)
	w.write(t, "exp.hcl", `experiment "tpe" {
  metric      = "loss"
  mode        = "min"
  num_samples = 10
  search "tpe" {
    startup_trials = 2
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
	finished, runs, xs := w.killAndResume(t, "tpe")
	res := w.resultsOf(t, "tpe")
	require.Len(t, res.Trials, 10)
	for _, rec := range res.Trials {
		assert.Equal(t, "TERMINATED", rec.Status, rec.ID)
		if finished[rec.ID] {
			assert.Equal(t, 1, runs[rec.ID], "trial %s finished before the kill and does not run again", rec.ID)
		}
		b, err := os.ReadFile(filepath.Join(w.results, "tpe", rec.ID, "params.json"))
		require.NoError(t, err)
		assert.Contains(t, string(b), `"x": `+xs[rec.ID], "trial %s ran with the values its params.json records", rec.ID)
	}
}

// xTrial logs its trial's ID, pid and x to runs when it starts, then
// reports (x - 0.7)² five times, a tenth of a second apart.
const xTrial = `echo "$TUNE_TRIAL_ID $$ $1" >> runs
i=1
while [ $i -le 5 ]; do
  echo "@tune {\"step\": $i, \"loss\": $(awk -v x="$1" 'BEGIN { print (x - 0.7) ^ 2 }')}"
  sleep 0.1
  i=$((i + 1))
done
`

// killAndResume applies exp.hcl of xTrial trials on two local CPUs,
// kills tune once 4 trials finished while others ran, and applies again
// to the end. It returns the trials finished before the kill, how often
// each trial started, and the x each started with, asserting that a
// trial that ran before the kill ran again with the same x.
func (w *workspace) killAndResume(t *testing.T, experiment string) (finished map[string]bool, runs map[string]int, xs map[string]string) {
	t.Helper()
	flags := []string{"-local-cpus", "2", "-local-memory", "64GiB"}
	first := w.start(t, flags...)
	finished = w.killMidway(t, first, experiment, 4)
	xBefore := map[string]string{}
	for _, line := range w.logLines(t, "runs") {
		f := strings.Fields(line)
		xBefore[f[0]] = f[2]
	}

	r := w.apply(t, flags...)
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	require.Contains(t, r.stdout, "Resuming from")

	runs, xs = map[string]int{}, map[string]string{}
	for _, line := range w.logLines(t, "runs") {
		f := strings.Fields(line)
		runs[f[0]]++
		if x, ok := xBefore[f[0]]; ok {
			assert.Equal(t, x, f[2], "trial %s started before the kill and runs again with its values", f[0])
		}
		xs[f[0]] = f[2]
	}
	return finished, runs, xs
}
