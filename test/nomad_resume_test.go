//go:build unix

package test

import (
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests kill `tune apply` with SIGKILL while its trial jobs run on
// the cluster, which goes on running them, and check that the next apply
// adopts them: nothing is submitted twice, and every result is collected.

// reportingExperiment is samples mock_driver trials of runFor each, at
// most three at once, each reporting its x.
func reportingExperiment(name string, samples int, runFor string) string {
	return lossExperiment(name, samples, 3, fmt.Sprintf(`    driver = "mock_driver"
    config {
      run_for       = %q
      stdout_string = "@tune {\"loss\": ${trial.x}}\n"
    }`, runFor))
}

// heldExperiment is samples raw_exec trials, at most concurrent at once,
// each reporting its x at once and then, if its index is from or more,
// running until the file release exists (a minute at most, so that a
// failed test leaves nothing running): the test decides when they end,
// however slowly the machine runs them.
func heldExperiment(name string, samples, concurrent, from int, release string) string {
	return lossExperiment(name, samples, concurrent, fmt.Sprintf(`    driver  = "raw_exec"
    command = "/bin/sh"
    args    = ["-c", "echo \"@tune {\\\"loss\\\": ${trial.x}}\"; i=0; while [ ${trial.index} -ge %d ] && [ ! -e %s ] && [ $i -lt 6000 ]; do sleep 0.01; i=$((i+1)); done"]`, from, release))
}

// lossExperiment is samples trials of one task, at most concurrent at
// once, minimising the loss they report, with x drawn from [0, 1).
func lossExperiment(name string, samples, concurrent int, task string) string {
	return fmt.Sprintf(`experiment %q {
  metric                = "loss"
  mode                  = "min"
  num_samples           = %d
  max_concurrent_trials = %d
  space {
    x = uniform(0, 1)
  }
  resources {
    cpu    = 0.5
    memory = 128
  }
  task "t" {
%s
  }
}
`, name, samples, concurrent, task)
}

// waitAllRunning waits until Nomad runs a job for each of the trials of
// the apply, or fails the test with the apply's output.
func (w *nomadWorkspace) waitAllRunning(t *testing.T, apply *background, trials int) {
	t.Helper()
	ok := assert.Eventually(t, func() bool {
		states := w.jobStates(t)
		for _, s := range states {
			if s != "running" {
				return false
			}
		}
		return len(states) == trials
	}, 60*time.Second, 20*time.Millisecond, "every trial runs")
	if !ok {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", apply.stdout.String(), apply.stderr.String())
	}
}

// jobStates are the experiment's jobs' statuses in Nomad, by job ID.
func (w *nomadWorkspace) jobStates(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, j := range w.jobsOf(t) {
		out[j.ID] = j.Status
	}
	return out
}

// assertRanOnce checks, from Nomad itself, that every trial job of the
// experiment was registered once, as attempt 0, and placed once.
func (w *nomadWorkspace) assertRanOnce(t *testing.T, trials int) {
	t.Helper()
	c := w.client(t)
	stubs := w.jobsOf(t)
	require.Len(t, stubs, trials, "one job per trial")
	for _, s := range stubs {
		job, _, err := c.Jobs().Info(s.ID, nil)
		require.NoError(t, err)
		assert.Equal(t, "0", job.Meta["tune_attempt"], "job %s", s.ID)
		versions, _, _, err := c.Jobs().Versions(s.ID, false, nil)
		require.NoError(t, err)
		assert.Len(t, versions, 1, "job %s was registered once", s.ID)
		allocs, _, err := c.Jobs().Allocations(s.ID, true, nil)
		require.NoError(t, err)
		assert.Len(t, allocs, 1, "job %s ran once", s.ID)
		for _, a := range allocs {
			assert.Equal(t, api.AllocClientStatusComplete, a.ClientStatus, "job %s allocation %s", s.ID, a.ID)
		}
	}
}

// assertReported checks that every trial finished with its own report,
// once, in result.json.
func (w *nomadWorkspace) assertReported(t *testing.T, trials int) {
	t.Helper()
	recs := w.trialFiles(t, w.name)
	require.Len(t, recs, trials)
	for id, rec := range recs {
		assert.Equal(t, "TERMINATED", rec.Status, id)
		assert.Equal(t, 1, rec.Attempts, "%s: the adopted attempt is the only one", id)
		rows := w.resultRows(t, w.name, id)
		if assert.Len(t, rows, 1, "%s: its report, read once", id) {
			x, ok := rec.Params["x"].(float64)
			require.True(t, ok, "%s: params %v", id, rec.Params)
			assert.InDelta(t, x, rows[0]["loss"], 1e-9, "%s: the report is the trial's own", id)
			assert.Equal(t, id, rows[0]["trial_id"])
		}
	}
}

func TestNomadApplyAdoptsTheJobsOfAKilledApply(t *testing.T) {
	const trials = 6
	w := newNomadWorkspace(t)
	w.needs(t, clusterNeeds{drivers: []string{"raw_exec"}})
	// Trial 0 ends at once; the others run until released.
	release := filepath.Join(w.dir, "release")
	w.write(t, "exp.hcl", heldExperiment(w.name, trials, 3, 1, release))
	first := w.startNomad(t)

	// Kill it once a trial is done and others run in Nomad.
	var states map[string]string
	ok := assert.Eventually(t, func() bool {
		done := w.finishedIDs(t, w.name)
		states = w.jobStates(t)
		running := 0
		for _, s := range states {
			if s != "dead" {
				running++
			}
		}
		return len(done) >= 1 && running >= 1
	}, 60*time.Second, 20*time.Millisecond, "a trial finished while others ran")
	if !ok {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", first.stdout.String(), first.stderr.String())
	}
	require.NoError(t, first.cmd.Process.Kill())
	first.wait(t, 10*time.Second)
	done := w.finishedIDs(t, w.name)
	require.Less(t, len(done), trials, "the kill left trials to do")
	w.write(t, "release", "")

	resumed := time.Now()
	r := w.apply(t)
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	assert.Contains(t, r.stdout, strconv.Itoa(len(done))+" of "+strconv.Itoa(trials)+" trials are already done")
	w.assertReported(t, trials)
	w.assertRanOnce(t, trials)
	adopted := 0
	for _, rec := range w.trialFiles(t, w.name) {
		assertStagesInOrder(t, rec, resumed)
		if rec.History[0].Admitted.IsZero() {
			adopted++
		}
	}
	assert.Positive(t, adopted, "the trials that ran in Nomad when tune was killed were adopted")
}

func TestNomadATrialThatEndedWhileTuneWasAwayIsCollected(t *testing.T) {
	const trials = 2
	w := newNomadWorkspace(t)
	w.needs(t, clusterNeeds{drivers: []string{"raw_exec"}})
	release := filepath.Join(w.dir, "release")
	w.write(t, "exp.hcl", heldExperiment(w.name, trials, 3, 0, release))
	first := w.startNomad(t)

	// Kill it while both trials run, before either is recorded.
	w.waitAllRunning(t, first, trials)
	require.NoError(t, first.cmd.Process.Kill())
	first.wait(t, 10*time.Second)
	require.Empty(t, w.finishedIDs(t, w.name), "nothing was recorded before the kill")
	w.write(t, "release", "")

	// Nomad runs them to their end with no tune watching.
	require.Eventually(t, func() bool {
		for _, s := range w.jobStates(t) {
			if s != "dead" {
				return false
			}
		}
		return true
	}, 60*time.Second, 20*time.Millisecond, "the jobs ended in Nomad")

	r := w.apply(t)
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "0 of 2 trials are already done")
	w.assertReported(t, trials)
	w.assertRanOnce(t, trials)
}
