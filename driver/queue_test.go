package driver

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bound is how long a test waits for what must happen; it only matters
// when the test fails.
const bound = 10 * time.Second

// receive takes the next event, failing the test if none comes.
func receive(t *testing.T, q *EventQueue) Event {
	t.Helper()
	select {
	case ev, ok := <-q.Out():
		require.True(t, ok, "the queue closed")
		return ev
	case <-time.After(bound):
		t.Fatal("no event came")
		return Event{}
	}
}

// done fails the test unless ch closes.
func done(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(bound):
		t.Fatal(what)
	}
}

// fullQueue is a queue of room 2 holding two reports (a report counts
// until it is received), and a channel that
// gets a value each time a push starts to wait for room.
func fullQueue(t *testing.T) (*EventQueue, chan struct{}) {
	t.Helper()
	q := newEventQueue(2)
	waits := make(chan struct{}, 16)
	q.waiting = func() { waits <- struct{}{} }
	q.Push(Event{Kind: EventReport, Attempt: 0})
	q.Push(Event{Kind: EventReport, Attempt: 1})
	return q, waits
}

func TestEventQueueDeliversEverythingInOrder(t *testing.T) {
	q := NewEventQueue()
	pushed := make(chan struct{})
	go func() {
		defer close(pushed)
		for i := 0; i < 3*MaxQueuedReports; i++ {
			q.Push(Event{Kind: EventReport, Attempt: i})
		}
		q.Push(Event{Kind: EventExited, Attempt: -1})
		q.Close()
	}()
	var got []int
	for ev := range q.Out() {
		got = append(got, ev.Attempt)
	}
	done(t, pushed, "the pusher never finished")
	require.Len(t, got, 3*MaxQueuedReports+1)
	for i := 0; i < 3*MaxQueuedReports; i++ {
		assert.Equal(t, i, got[i])
	}
	assert.Equal(t, -1, got[len(got)-1])
}

func TestAReportWaitsForRoomUntilOneIsReceived(t *testing.T) {
	q, waits := fullQueue(t)
	pushed := make(chan struct{})
	go func() {
		q.Push(Event{Kind: EventReport, Attempt: 2})
		close(pushed)
	}()
	done(t, waits, "the third report did not wait for room")
	select {
	case <-pushed:
		t.Fatal("a report was queued past the bound")
	default:
	}
	assert.Equal(t, 0, receive(t, q).Attempt)
	done(t, pushed, "the waiting report was not queued once there was room")
	for want := 1; want <= 2; want++ {
		assert.Equal(t, want, receive(t, q).Attempt)
	}
}

func TestEventsOtherThanReportsNeverWait(t *testing.T) {
	q, _ := fullQueue(t)
	pushed := make(chan struct{})
	go func() {
		q.Push(Event{Kind: EventRunning, Attempt: 10})
		q.Push(Event{Kind: EventWarning, Attempt: 11})
		q.Push(Event{Kind: EventExited, Attempt: 12})
		close(pushed)
	}()
	done(t, pushed, "an event other than a report waited for room")
	var got []int
	for range 5 {
		got = append(got, receive(t, q).Attempt)
	}
	assert.Equal(t, []int{0, 1, 10, 11, 12}, got)
}

func TestDroppingReportsReleasesWaitingPushersAndKeepsOtherEvents(t *testing.T) {
	q, waits := fullQueue(t)
	pushed := make(chan struct{})
	go func() {
		q.Push(Event{Kind: EventReport, Attempt: 2})
		close(pushed)
	}()
	done(t, waits, "the report did not wait for room")
	q.DropReports()
	done(t, pushed, "DropReports left a pusher waiting")
	q.Push(Event{Kind: EventReport, Attempt: 4})
	q.Push(Event{Kind: EventExited, Attempt: 5})
	q.Close()
	var got []int
	for ev := range q.Out() {
		got = append(got, ev.Attempt)
	}
	assert.Equal(t, []int{0, 1, 5}, got, "reports queued before stay, later ones are dropped, the end is kept")
}
