package controller

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/driver"
	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/results"
)

// These tests play a target whose trials outlived the tune that started
// them (Nomad jobs after `tune apply` was killed): the fake driver's
// Existing reports them, and the run must adopt them, not start them.

// resultLines counts the rows of a trial's result.json.
func (f *fixture) resultLines(t *testing.T, id string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(results.TrialDir(f.root, f.exp.Name, id), results.ResultFile))
	require.NoError(t, err)
	return strings.Count(string(b), "\n")
}

func TestARunningAttemptIsAdoptedAndNotStartedAgain(t *testing.T) {
	f := newFixture(t, experimentFile(3, ""))
	d := newFakeDriver(localCapacity(4, 0), func(tr *planner.Trial, _ int) script {
		return script{reports: []map[string]any{loss(float64(tr.Index) + 0.5)}}
	})
	d.existing = []driver.Existing{{TrialID: f.trials[0].ID, Attempt: 0, Running: true}}
	var started []Change
	rep := &funcReporter{changed: func(c Change, _ *Snapshot) {
		if c.Kind == TrialStarted {
			started = append(started, c)
		}
	}}
	out := f.run(t, context.Background(), d, rep)

	assert.Equal(t, StatusFinished, out.Status)
	assert.Equal(t, []string{f.trials[0].ID + "#0"}, d.adopts)
	assert.Equal(t, []string{f.trials[1].ID + "#0", f.trials[2].ID + "#0"}, d.starts,
		"the trials without a job start; the adopted one does not start again")
	require.NotEmpty(t, started)
	assert.Equal(t, f.trials[0].ID, started[0].Trial.ID)
	assert.Contains(t, started[0].Message, "adopted")
	recs := f.store.Records()
	assert.Equal(t, map[results.Status]int{results.Terminated: 3}, statuses(recs))
	assert.Equal(t, 1, recs[0].Attempts)
	assert.Equal(t, 1, recs[0].Iterations)
	assert.Equal(t, 0.5, recs[0].LastResult["loss"], "the adopted attempt's report is recorded")
	assert.Equal(t, 1, f.resultLines(t, f.trials[0].ID))
}

func TestAnAttemptThatEndedWhileTuneWasAwayIsCollected(t *testing.T) {
	f := newFixture(t, experimentFile(2, ""))
	// A first run records one report of trial 0 and is interrupted while
	// trial 0 runs, so its result.json holds that report.
	ctx, cancel := context.WithCancel(context.Background())
	first := newFakeDriver(localCapacity(1, 0), func(*planner.Trial, int) script {
		return script{hold: true, reports: []map[string]any{loss(9)}}
	})
	rep := &funcReporter{changed: func(c Change, _ *Snapshot) {
		if c.Kind == TrialReported {
			cancel()
		}
	}}
	f.run(t, ctx, first, rep)
	require.Equal(t, 1, f.resultLines(t, f.trials[0].ID))
	require.NoError(t, f.store.Close())

	// Trial 0's attempt went on and ended while no tune watched.
	f.open(t)
	d := newFakeDriver(localCapacity(1, 0), func(*planner.Trial, int) script {
		return script{reports: []map[string]any{loss(9), loss(2), loss(1)}}
	})
	d.existing = []driver.Existing{{TrialID: f.trials[0].ID, Attempt: 0, Running: false}}
	out := f.run(t, context.Background(), d, nil)

	assert.Equal(t, StatusFinished, out.Status)
	assert.Equal(t, []string{f.trials[0].ID + "#0"}, d.adopts)
	assert.Equal(t, []string{f.trials[1].ID + "#0"}, d.starts, "the ended attempt is collected, not submitted again")
	rec := f.store.Records()[0]
	assert.Equal(t, results.Terminated, rec.Status)
	assert.Equal(t, 1, rec.Attempts)
	assert.Equal(t, 3, rec.Iterations)
	assert.Equal(t, 3, f.resultLines(t, rec.ID), "the whole attempt's reports, read again from the start, once each")
}

func TestAttemptNumberingContinuesFromTheAdoptedAttempt(t *testing.T) {
	f := newFixture(t, experimentFile(1, "failure {\n max_failures = 3\n }"))
	d := newFakeDriver(localCapacity(1, 0), func(_ *planner.Trial, attempt int) script {
		// The attempt found on the target failed; the next one succeeds.
		return script{fail: attempt == 2, reports: []map[string]any{loss(1)}}
	})
	d.existing = []driver.Existing{{TrialID: f.trials[0].ID, Attempt: 2, Running: false}}
	out := f.run(t, context.Background(), d, nil)

	assert.Equal(t, StatusFinished, out.Status)
	assert.Equal(t, []string{f.trials[0].ID + "#2"}, d.adopts)
	assert.Equal(t, []string{f.trials[0].ID + "#3"}, d.starts, "the retry is the attempt after the adopted one")
	rec := f.store.Records()[0]
	assert.Equal(t, results.Terminated, rec.Status)
	assert.Equal(t, 4, rec.Attempts)
	assert.Equal(t, 1, rec.Failures, "the adopted attempt's failure counts under max_failures")
}

func TestAFinishedTrialWhoseAttemptStillRunsIsStoppedAndKeepsItsResults(t *testing.T) {
	f := newFixture(t, experimentFile(2, ""))
	first := newFakeDriver(localCapacity(2, 0), func(tr *planner.Trial, _ int) script {
		return script{reports: []map[string]any{loss(float64(tr.Index))}}
	})
	f.run(t, context.Background(), first, nil)
	require.NoError(t, f.store.Close())

	// tune died after recording trial 0's end and before stopping it.
	f.open(t)
	d := newFakeDriver(localCapacity(2, 0), func(*planner.Trial, int) script {
		return script{hold: true, reports: []map[string]any{loss(100)}}
	})
	d.existing = []driver.Existing{{TrialID: f.trials[0].ID, Attempt: 0, Running: true}}
	out := f.run(t, context.Background(), d, nil)

	assert.Equal(t, StatusFinished, out.Status)
	assert.Empty(t, d.starts)
	require.Len(t, d.stops, 1)
	assert.True(t, strings.HasPrefix(d.stops[0], f.trials[0].ID+": "), d.stops)
	rec := f.store.Records()[0]
	assert.Equal(t, results.Terminated, rec.Status)
	assert.Equal(t, 0.0, rec.LastResult["loss"], "the recorded outcome stands")
	assert.Equal(t, 1, f.resultLines(t, rec.ID))
}

func TestAStaleAttemptThatStillRunsIsStoppedBeforeItsTrialRunsAgain(t *testing.T) {
	f := newFixture(t, experimentFile(1, "failure {\n max_failures = 1\n }"))
	// A first run records attempt 0's failure, and is interrupted during
	// attempt 1, which counts for nothing: the trial is pending with one
	// attempt.
	ctx, cancel := context.WithCancel(context.Background())
	first := newFakeDriver(localCapacity(1, 0), func(_ *planner.Trial, attempt int) script {
		if attempt == 1 {
			cancel()
			return script{hold: true}
		}
		return script{fail: true}
	})
	f.run(t, ctx, first, nil)
	rec := f.store.Records()[0]
	require.Equal(t, results.Pending, rec.Status)
	require.Equal(t, 1, rec.Attempts)
	require.NoError(t, f.store.Close())

	// Attempt 0's job was never stopped (tune died first) and still runs.
	f.open(t)
	d := newFakeDriver(localCapacity(1, 0), func(_ *planner.Trial, attempt int) script {
		return script{hold: attempt == 0, reports: []map[string]any{loss(1)}}
	})
	d.existing = []driver.Existing{{TrialID: f.trials[0].ID, Attempt: 0, Running: true}}
	out := f.run(t, context.Background(), d, nil)

	assert.Equal(t, StatusFinished, out.Status)
	assert.Len(t, d.stops, 1, "the stale attempt is stopped")
	assert.Equal(t, []string{f.trials[0].ID + "#1"}, d.starts, "then the trial runs its next attempt")
	assert.Equal(t, 1, d.maxRunning, "never both at once")
	rec = f.store.Records()[0]
	assert.Equal(t, results.Terminated, rec.Status)
	assert.Equal(t, 2, rec.Attempts)
	assert.Equal(t, 1, rec.Failures)
}

// endTrial ends a held attempt of the fake driver, as if it had exited 0.
func (f *fakeDriver) endTrial(id string, attempt int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.running, id)
	f.events <- driver.Event{Kind: driver.EventExited, TrialID: id, Attempt: attempt, Time: time.Now()}
}

func TestAnAdoptedTrialHoldsItsShareOfTheCapacity(t *testing.T) {
	f := newFixture(t, experimentFile(2, ""))
	d := newFakeDriver(localCapacity(1, 0), func(tr *planner.Trial, _ int) script {
		return script{hold: tr.Index == 0}
	})
	d.existing = []driver.Existing{{TrialID: f.trials[0].ID, Attempt: 0, Running: true}}
	rep := &funcReporter{changed: func(c Change, s *Snapshot) {
		if c.Kind == TrialStarted && c.Trial.ID == f.trials[0].ID {
			assert.InDelta(t, 1.0, s.InUse.CPUCores, 1e-9)
			// Queued before the first admission: were the adopted trial
			// not counted, trial 1 would start beside it there.
			d.endTrial(f.trials[0].ID, 0)
		}
	}}
	out := f.run(t, context.Background(), d, rep)

	assert.Equal(t, StatusFinished, out.Status)
	assert.Equal(t, 1, d.maxRunning, "one CPU: trial 1 waits for the adopted trial 0")
	assert.Equal(t, []string{f.trials[1].ID + "#0"}, d.starts)
	assert.Equal(t, []string{"started " + f.trials[0].ID, "finished " + f.trials[0].ID, "started " + f.trials[1].ID, "finished " + f.trials[1].ID, "done "}, rep.lines)
}

func TestAdoptedTrialsThatDoNotFitNeverInflateTheCapacity(t *testing.T) {
	f := newFixture(t, experimentFile(3, ""))
	d := newFakeDriver(localCapacity(1, 0), func(tr *planner.Trial, _ int) script {
		return script{hold: tr.Index < 2}
	})
	// Two trials of one CPU each run on a target the snapshot says has
	// one: the snapshot is not the target.
	d.existing = []driver.Existing{
		{TrialID: f.trials[0].ID, Attempt: 0, Running: true},
		{TrialID: f.trials[1].ID, Attempt: 0, Running: true},
	}
	var final *Snapshot
	rep := &funcReporter{changed: func(c Change, s *Snapshot) {
		switch {
		case c.Kind == TrialStarted && c.Trial.ID == f.trials[1].ID:
			assert.InDelta(t, 1.0, s.InUse.CPUCores, 1e-9, "what is in use never exceeds the snapshot")
			d.endTrial(f.trials[0].ID, 0)
		case c.Kind == TrialFinished && c.Trial.ID == f.trials[0].ID:
			assert.InDelta(t, 0.0, s.InUse.CPUCores, 1e-9, "trial 1 holds nothing the snapshot had")
			d.endTrial(f.trials[1].ID, 0)
		case c.Kind == ExperimentDone:
			final = s
		}
	}}
	out := f.run(t, context.Background(), d, rep)

	assert.Equal(t, StatusFinished, out.Status)
	assert.Equal(t, []string{f.trials[0].ID + "#0", f.trials[1].ID + "#0"}, d.adopts)
	assert.Equal(t, []string{f.trials[2].ID + "#0"}, d.starts)
	require.NotNil(t, final)
	assert.InDelta(t, 0.0, final.InUse.CPUCores, 1e-9)
	assert.InDelta(t, 1.0, final.Capacity.FreeCPUCores, 1e-9, "releasing gives back exactly what was reserved")
}

func TestAnAdoptedTrialsTimeoutCountsFromItsSubmission(t *testing.T) {
	f := newFixture(t, experimentFile(1, "stop {\n trial_timeout = \"10m\"\n }"))
	d := newFakeDriver(localCapacity(1, 0), func(*planner.Trial, int) script { return script{hold: true} })
	d.existing = []driver.Existing{{TrialID: f.trials[0].ID, Attempt: 0, Running: true, Submitted: time.Now().Add(-time.Hour)}}
	out := f.run(t, context.Background(), d, nil)

	assert.Equal(t, StatusFinished, out.Status)
	assert.Empty(t, d.starts)
	rec := f.store.Records()[0]
	assert.Equal(t, results.Terminated, rec.Status)
	assert.Equal(t, "trial_timeout 10m0s", rec.StopReason, "it ran for an hour already")
}
