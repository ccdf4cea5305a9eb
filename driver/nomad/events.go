package nomad

import (
	"sync"

	"github.com/nomad-tune/tune/driver"
)

// eventQueue feeds the driver's event channel from a queue without bound.
// Pushing never blocks, so the event-stream watcher and the log followers
// never wait for the controller, and a controller that calls Stop or Start
// while it is behind on events cannot deadlock against them; no event is
// ever dropped.
type eventQueue struct {
	out  chan driver.Event
	wake chan struct{}

	mu     sync.Mutex
	items  []driver.Event
	closed bool
}

func newEventQueue() *eventQueue {
	q := &eventQueue{
		out:  make(chan driver.Event),
		wake: make(chan struct{}, 1),
	}
	go q.deliver()
	return q
}

func (q *eventQueue) push(ev driver.Event) {
	q.mu.Lock()
	q.items = append(q.items, ev)
	q.mu.Unlock()
	q.signal()
}

// close ends delivery once everything pushed so far has been received.
func (q *eventQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

func (q *eventQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *eventQueue) deliver() {
	defer close(q.out)
	for {
		q.mu.Lock()
		if len(q.items) == 0 {
			closed := q.closed
			// Let a burst's backing array go once it is delivered.
			q.items = nil
			q.mu.Unlock()
			if closed {
				return
			}
			<-q.wake
			continue
		}
		ev := q.items[0]
		q.items[0] = driver.Event{}
		q.items = q.items[1:]
		q.mu.Unlock()
		q.out <- ev
	}
}
