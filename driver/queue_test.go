package driver

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestEventQueueDeliversEverythingInOrderWithoutBlockingThePusher(t *testing.T) {
	q := NewEventQueue()
	// Nobody reads while these are pushed: pushing must not block.
	for i := 0; i < 1000; i++ {
		q.Push(Event{Kind: EventReport, Attempt: i})
	}
	q.Close()
	var got []int
	for ev := range q.Out() {
		got = append(got, ev.Attempt)
	}
	assert.Len(t, got, 1000)
	for i, a := range got {
		assert.Equal(t, i, a)
	}
}
