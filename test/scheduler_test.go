package test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// prunedReason is why asha stops the second trial of prunedExperiment:
// it reports loss 5 at the first rung, where the first trial reported 1.
const prunedReason = "asha: at rung training_iteration = 1, loss 5 is above the cut-off 1 of 1 trial"

// prunedExperiment runs three trials one at a time under asha, with task
// as the attributes of their task; they report loss 1, 5 and 0.5 once (the
// loss parameter). The third can start only once the second has ended.
func prunedExperiment(name, task string) string {
	return fmt.Sprintf(`experiment %q {
  metric                = "loss"
  mode                  = "min"
  max_concurrent_trials = 1
  space {
    loss = grid([1, 5, 0.5])
  }
  resources {
    cpu    = 0.5
    memory = 128
  }
  scheduler "asha" {
    max_t            = 10
    reduction_factor = 2
  }
  task "t" {
%s
  }
}
`, name, task)
}

// reportOnceTask reports the trial's loss; the second trial then runs for
// 30 s more and leaves marker behind unless it is stopped.
func reportOnceTask(marker string) string {
	return fmt.Sprintf(`    driver  = "raw_exec"
    command = "/bin/sh"
    args    = ["-c", "echo \"@tune {\\\"loss\\\": ${trial.loss}}\"; if [ ${trial.index} -eq 1 ]; then sleep 30; touch %s; fi"]`, marker)
}

// checkPruned checks what an apply of prunedExperiment left: the second
// trial stopped at its first report with the reason in its record, the
// output and `tune results`, and the third run after it.
func checkPruned(t *testing.T, w *workspace, name string, r result) {
	t.Helper()
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	assert.NoFileExists(t, filepath.Join(w.dir, "late"), "the pruned trial was stopped, not left to finish")
	byIndex := map[int]trialRecord{}
	for _, rec := range w.trialFiles(t, name) {
		byIndex[rec.Index] = rec
	}
	require.Len(t, byIndex, 3)
	pruned, next := byIndex[1], byIndex[2]
	assert.Equal(t, "TERMINATED", pruned.Status)
	assert.Equal(t, prunedReason, pruned.StopReason)
	assert.Equal(t, 1, pruned.Iterations)
	assert.Equal(t, "TERMINATED", next.Status)
	assert.Empty(t, next.StopReason, "the third trial ends by itself")
	assert.Equal(t, 0.5, next.LastResult["loss"])
	assert.LessOrEqual(t, trialInterval(t, w, name, pruned.ID).end, trialInterval(t, w, name, next.ID).start,
		"the third trial runs in the place the pruned one freed")
	assert.Contains(t, r.stdout, prunedReason)

	table := tune(t, "", "results", name, "-results", w.results)
	require.Equal(t, 0, table.code, table.stderr)
	assert.Contains(t, table.stdout, prunedReason)
}

func TestApplyStopsATrialTheSchedulerPrunesAndStartsTheNext(t *testing.T) {
	w := newWorkspace(t)
	w.write(t, "exp.hcl", prunedExperiment("pruned", reportOnceTask(filepath.Join(w.dir, "late"))))
	r := w.apply(t, "-local-cpus", "2", "-local-memory", "64GiB", "-progress", "plain")
	checkPruned(t, w, "pruned", r)
}

func TestNomadStopsTheJobOfATrialTheSchedulerPrunesAndStartsTheNext(t *testing.T) {
	w := newNomadWorkspace(t)
	w.needs(t, clusterNeeds{drivers: []string{"raw_exec"}})
	w.write(t, "exp.hcl", prunedExperiment(w.name, reportOnceTask(filepath.Join(w.dir, "late"))))
	r := w.apply(t)
	checkPruned(t, w.workspace, w.name, r)
	for _, j := range w.jobsOf(t) {
		assert.Equal(t, "dead", j.Status, j.ID)
	}
}

func TestApplyKilledMidExperimentResumesWithTheRungsOfItsResultsFolder(t *testing.T) {
	w := newWorkspace(t)
	// The second trial reports only once the test writes release, which
	// it does after killing the first apply; then it runs for a minute
	// more unless it is stopped.
	w.write(t, "trial.sh", `echo "$TUNE_TRIAL_ID $$" >> runs
if [ "$TUNE_TRIAL_INDEX" -eq 1 ]; then
  i=0
  while [ ! -e release ] && [ $i -lt 3000 ]; do sleep 0.02; i=$((i + 1)); done
fi
echo "@tune {\"loss\": $1}"
if [ "$TUNE_TRIAL_INDEX" -eq 1 ]; then
  i=0
  while [ $i -lt 3000 ]; do sleep 0.02; i=$((i + 1)); done
  touch late
fi
`)
	w.write(t, "exp.hcl", prunedExperiment("rungs", `    command = "sh"
    args    = ["trial.sh", "${trial.loss}"]`))
	flags := []string{"-local-cpus", "2", "-local-memory", "64GiB"}
	first := w.start(t, flags...)
	// With one trial at a time, the second runs once the first is done.
	require.Eventually(t, func() bool {
		return len(w.finishedIDs(t, "rungs")) == 1 && len(w.logLines(t, "runs")) == 2
	}, 30*time.Second, 10*time.Millisecond, "the first trial finished and the second runs")
	require.NoError(t, first.cmd.Process.Kill())
	first.wait(t, 10*time.Second)
	require.Eventually(t, func() bool {
		return allGone(pidsIn(t, w.logLines(t, "runs"), 1))
	}, 90*time.Second, 20*time.Millisecond, "the trials of the killed tune ended")
	w.write(t, "release", "")

	r := w.apply(t, flags...)
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	byIndex := map[int]trialRecord{}
	for _, rec := range w.resultsOf(t, "rungs").Trials {
		byIndex[rec.Index] = rec
	}
	require.Len(t, byIndex, 3)
	assert.Equal(t, prunedReason, byIndex[1].StopReason,
		"the second trial is judged against the first one's report, which only the results folder holds")
	assert.Equal(t, "TERMINATED", byIndex[2].Status)
	assert.Empty(t, byIndex[2].StopReason)
	assert.NoFileExists(t, w.path("late"))
}

func TestApplyRunsTheASHAExampleAndStopsSomeTrials(t *testing.T) {
	results := t.TempDir()
	r := tune(t, "", "apply", "examples/asha.hcl", "-results", results, "-progress", "plain", "-local-cpus", "4", "-local-memory", "64GiB")
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "Number of trials: 24 (24 TERMINATED)")
	table := tune(t, "", "results", "asha", "-results", results)
	require.Equal(t, 0, table.code, table.stderr)
	assert.Contains(t, table.stdout, "Stopped trials (")
	assert.Contains(t, table.stdout, ": asha: at rung step = ")
}

func TestNomadApplyKilledMidExperimentResumesWithTheRungsOfItsResultsFolder(t *testing.T) {
	w := newNomadWorkspace(t)
	w.needs(t, clusterNeeds{drivers: []string{"raw_exec"}})
	// The second trial reports only once the test writes release, after
	// killing the first apply: the resumed apply adopts its job and judges
	// its report against the first trial's, which only the results folder
	// holds.
	release, late := filepath.Join(w.dir, "release"), filepath.Join(w.dir, "late")
	w.write(t, "exp.hcl", prunedExperiment(w.name, fmt.Sprintf(`    driver  = "raw_exec"
    command = "/bin/sh"
    args    = ["-c", "if [ ${trial.index} -eq 1 ]; then i=0; while [ ! -e %s ] && [ $i -lt 6000 ]; do sleep 0.01; i=$((i+1)); done; fi; echo \"@tune {\\\"loss\\\": ${trial.loss}}\"; if [ ${trial.index} -eq 1 ]; then sleep 30; touch %s; fi"]`, release, late)))
	first := w.startNomad(t)
	ok := assert.Eventually(t, func() bool {
		running := 0
		for _, s := range w.jobStates(t) {
			if s != "dead" {
				running++
			}
		}
		return len(w.finishedIDs(t, w.name)) == 1 && running == 1
	}, 60*time.Second, 20*time.Millisecond, "the first trial finished and the second runs")
	if !ok {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", first.stdout.String(), first.stderr.String())
	}
	require.NoError(t, first.cmd.Process.Kill())
	first.wait(t, 10*time.Second)
	w.write(t, "release", "")

	r := w.apply(t)
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "adopted")
	checkPruned(t, w.workspace, w.name, r)
}
