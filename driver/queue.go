package driver

import "sync"

// EventQueue feeds a driver's event channel from a queue without bound.
// Pushing never blocks, so what watches a trial (a process's output
// readers, an event-stream watcher, log followers) never waits for the
// controller, and a controller that calls Stop or Start while it is behind
// on events cannot deadlock against them; no event is ever dropped.
type EventQueue struct {
	out  chan Event
	wake chan struct{}

	mu     sync.Mutex
	items  []Event
	closed bool
}

// NewEventQueue starts delivering pushed events on Out.
func NewEventQueue() *EventQueue {
	q := &EventQueue{
		out:  make(chan Event),
		wake: make(chan struct{}, 1),
	}
	go q.deliver()
	return q
}

// Out is the channel the events arrive on, in the order pushed.
func (q *EventQueue) Out() <-chan Event { return q.out }

// Push queues an event; it never blocks.
func (q *EventQueue) Push(ev Event) {
	q.mu.Lock()
	q.items = append(q.items, ev)
	q.mu.Unlock()
	q.signal()
}

// Close ends delivery once everything pushed so far has been received:
// Out is closed then.
func (q *EventQueue) Close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

func (q *EventQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *EventQueue) deliver() {
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
		q.items[0] = Event{}
		q.items = q.items[1:]
		q.mu.Unlock()
		q.out <- ev
	}
}
