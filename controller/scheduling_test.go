package controller

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/driver"
	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/results"
)

// origin is the manual clock's time in runAdvancing: when the controller
// admits every attempt, since the tests do not move it.
var origin = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func after(s int) time.Time { return origin.Add(time.Duration(s) * time.Second) }

func TestEveryAttemptRecordsWhenItWasAdmittedRegisteredPlacedAndRunning(t *testing.T) {
	f := newFixture(t, experimentFile(2, "failure {\n max_failures = 1\n }"))
	d := newFakeDriver(localCapacity(2, 0), func(tr *planner.Trial, attempt int) script {
		switch {
		case tr.Index == 0 && attempt == 0:
			return script{fail: true, registered: after(1), placed: after(2), running: after(4), ended: after(10)}
		case tr.Index == 0:
			return script{registered: after(11), placed: after(11), running: after(12), ended: after(20)}
		}
		return script{registered: after(1), placed: after(3), running: after(5), ended: after(15)}
	})
	out, _ := f.runAdvancing(t, d)
	require.Equal(t, StatusFinished, out.Status)

	one := planner.Amounts{CPU: 1, MemoryMiB: 300} // the default resources
	recs := f.store.Records()
	assert.Equal(t, []results.AttemptTimes{
		{Attempt: 0, AdmittedAt: origin, RegisteredAt: after(1), PlacedAt: after(2), RunningAt: after(4), EndedAt: after(10), Held: one},
		{Attempt: 1, AdmittedAt: origin, RegisteredAt: after(11), PlacedAt: after(11), RunningAt: after(12), EndedAt: after(20), Held: one},
	}, recs[0].History, "a retried trial keeps both attempts")
	assert.Equal(t, []results.AttemptTimes{
		{Attempt: 0, AdmittedAt: origin, RegisteredAt: after(1), PlacedAt: after(3), RunningAt: after(5), EndedAt: after(15), Held: one},
	}, recs[1].History)

	sched := out.Summary.Scheduling
	require.NotNil(t, sched)
	assert.Equal(t, 3, sched.Ran)
	assert.Equal(t, results.Latency{Count: 3, P50S: 3, P99S: 4, MaxS: 4}, sched.SubmitToRunning, "1, 3 and 4 seconds")
	assert.Equal(t, results.Latency{Count: 3, P50S: 5, P99S: 12, MaxS: 12}, sched.AdmitToRunning, "4, 5 and 12 seconds")
	assert.Equal(t, 2, sched.Concurrency.Peak)
	assert.InDelta(t, 24.0/20, sched.Concurrency.Mean, 1e-9, "6 + 8 + 10 trial-seconds over 20 busy seconds")
	require.NotEmpty(t, sched.Utilisation)
	assert.Equal(t, "cpu", sched.Utilisation[0].Resource)
	assert.InDelta(t, 24.0/20/2, sched.Utilisation[0].Fraction, 1e-9, "one core each of two")

	// The summary on disk says the same.
	sum, _, err := results.Load(f.root, f.exp.Name)
	require.NoError(t, err)
	assert.Equal(t, sched.AdmitToRunning, sum.Scheduling.AdmitToRunning)
}

func TestAnAttemptThatNeverRanRecordsNoRunningTime(t *testing.T) {
	f := newFixture(t, experimentFile(1, ""))
	d := newFakeDriver(localCapacity(1, 0), func(*planner.Trial, int) script { return script{queued: true, hold: true} })
	d.started = make(chan string, 4)
	done := make(chan *Outcome, 1)
	go func() { done <- f.run(t, context.Background(), d, nil) }()
	const bound = 20 * time.Second // only matters when the test fails
	next := func() {
		t.Helper()
		select {
		case <-d.started:
		case <-time.After(bound):
			t.Fatal("no attempt was started")
		}
	}
	id := f.trials[0].ID
	next()
	d.events <- driver.Event{Kind: driver.EventExited, TrialID: id, Time: time.Now(), Unplaced: true, ExitCode: -1, Message: "not placed in time"}
	next()
	d.events <- driver.Event{Kind: driver.EventRunning, TrialID: id, Time: time.Now()}
	d.events <- driver.Event{Kind: driver.EventExited, TrialID: id, Time: time.Now()}
	select {
	case <-done:
	case <-time.After(bound):
		t.Fatal("the run did not end")
	}

	h := f.store.Records()[0].History
	require.Len(t, h, 2, "the attempt rolled back counts in the history, under the number its successor reuses")
	assert.Equal(t, 0, h[0].Attempt)
	assert.Equal(t, 0, h[1].Attempt)
	assert.False(t, h[0].AdmittedAt.IsZero())
	assert.False(t, h[0].EndedAt.IsZero())
	assert.True(t, h[0].RunningAt.IsZero(), "it never ran")
	assert.True(t, h[1].RegisteredAt.IsZero(), "a target that does not say leaves the stage out")
	assert.False(t, h[1].RunningAt.IsZero())
}

func TestAnAdoptedAttemptTakesTheTargetsTimesAndNoAdmission(t *testing.T) {
	f := newFixture(t, experimentFile(1, ""))
	d := newFakeDriver(localCapacity(1, 0), func(*planner.Trial, int) script {
		return script{registered: after(-60), placed: after(-50), running: after(-40), ended: after(5)}
	})
	d.existing = []driver.Existing{{TrialID: f.trials[0].ID, Attempt: 0, Running: true, Submitted: after(-60)}}
	out, _ := f.runAdvancing(t, d)
	require.Equal(t, StatusFinished, out.Status)

	assert.Equal(t, []results.AttemptTimes{
		{Attempt: 0, RegisteredAt: after(-60), PlacedAt: after(-50), RunningAt: after(-40), EndedAt: after(5), Held: planner.Amounts{CPU: 1, MemoryMiB: 300}},
	}, f.store.Records()[0].History, "when an earlier run admitted it is not known, and not made up")
	sched := out.Summary.Scheduling
	require.NotNil(t, sched)
	assert.Equal(t, results.Latency{Count: 1, P50S: 20, P99S: 20, MaxS: 20}, sched.SubmitToRunning)
	assert.Equal(t, results.Latency{}, sched.AdmitToRunning)
}

func TestAResumedExperimentMeasuresTheAttemptsOfItsEarlierRun(t *testing.T) {
	f := newFixture(t, experimentFile(2, ""))
	// The first run finishes trial 0 and is interrupted while trial 1
	// runs.
	ctx, cancel := context.WithCancel(context.Background())
	first := newFakeDriver(localCapacity(1, 0), func(tr *planner.Trial, _ int) script {
		return script{hold: tr.Index == 1, reports: []map[string]any{loss(1)}}
	})
	rep := &funcReporter{changed: func(c Change, _ *Snapshot) {
		if c.Kind == TrialReported && c.Trial.ID == f.trials[1].ID {
			cancel()
		}
	}}
	f.run(t, ctx, first, rep)
	require.NoError(t, f.store.Close())

	f.open(t)
	d := newFakeDriver(localCapacity(1, 0), func(*planner.Trial, int) script {
		return script{reports: []map[string]any{loss(1)}}
	})
	out := f.run(t, context.Background(), d, nil)
	require.Equal(t, StatusFinished, out.Status)
	assert.Equal(t, []string{f.trials[1].ID + "#0"}, d.starts, "only the interrupted trial runs again")

	recs := f.store.Records()
	assert.Len(t, recs[0].History, 1, "trial 0's attempt is the first run's")
	require.Len(t, recs[1].History, 2, "trial 1's interrupted attempt and the one that finished")
	assert.False(t, recs[1].History[0].EndedAt.After(recs[1].History[1].AdmittedAt), "the resume admitted it again after it was stopped")
	sched := out.Summary.Scheduling
	require.NotNil(t, sched)
	assert.Equal(t, 3, sched.Attempts, "the figures count the first run's attempts too")
	assert.Equal(t, 3, sched.Ran)
	assert.Equal(t, 1, sched.Concurrency.Peak, "one CPU runs one trial at a time")
}
