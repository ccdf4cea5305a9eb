package controller

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/driver"
	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/results"
)

func TestASubmittedTrialIsPendingAndStartsWhenTheTargetRunsIt(t *testing.T) {
	const bound = 20 * time.Second // only matters when the test fails
	f := newFixture(t, experimentFile(1, ""))
	d := newFakeDriver(localCapacity(1, 0), func(*planner.Trial, int) script { return script{queued: true, hold: true} })
	d.started = make(chan string, 4)
	id := f.trials[0].ID

	var mu sync.Mutex
	var changes []string
	var atStart *Snapshot
	rep := &funcReporter{changed: func(c Change, s *Snapshot) {
		mu.Lock()
		defer mu.Unlock()
		changes = append(changes, string(c.Kind))
		if c.Kind == TrialStarted {
			atStart = s
		}
	}}
	done := make(chan *Outcome, 1)
	go func() { done <- f.run(t, context.Background(), d, rep) }()
	next := func() {
		t.Helper()
		select {
		case <-d.started:
		case <-time.After(bound):
			t.Fatal("no attempt was started")
		}
	}
	send := func(ev driver.Event) {
		ev.TrialID, ev.Time = id, time.Now()
		d.events <- ev
	}

	// Submitted, queued by the target, and rolled back without running.
	next()
	send(driver.Event{Kind: driver.EventExited, Unplaced: true, ExitCode: -1, Message: "not placed in time"})
	// Submitted again; this time the target runs it.
	next()
	send(driver.Event{Kind: driver.EventRunning})
	send(driver.Event{Kind: driver.EventExited})

	var out *Outcome
	select {
	case out = <-done:
	case <-time.After(bound):
		t.Fatal("the run did not end")
	}
	assert.Equal(t, StatusFinished, out.Status)
	assert.Equal(t, results.Terminated, f.store.Records()[0].Status)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"stopped", "started", "finished", "done"}, changes,
		"an attempt that never ran is never said to have started")
	require.NotNil(t, atStart)
	assert.Equal(t, 1, atStart.Running, "running once the target runs it")
	assert.Equal(t, 0, atStart.Pending)
}
