package driver

import "sync"

// MaxQueuedReports bounds the reports an EventQueue holds. A trial that
// prints reports faster than the controller records them then waits: the
// output reader that pushes its reports blocks, the pipe (or log stream)
// fills, and the trial blocks on its next write, so tune's memory does
// not grow with the reports. It is large enough that bursts never wait.
const MaxQueuedReports = 1024

// EventQueue feeds a driver's event channel. Reports are bounded (see
// MaxQueuedReports); every other event — an attempt running, a warning,
// an attempt's end — is queued at once whatever the queue holds, so what
// watches trials (event-stream watchers, a process reaper) never waits
// for the controller, a controller that calls Stop or Start while it is
// behind on events cannot deadlock against them, and an end is never
// dropped. Those events are a few per attempt, so they need no bound.
type EventQueue struct {
	out  chan Event
	wake chan struct{}

	mu sync.Mutex
	// room is signalled when a report leaves the queue, or reports start
	// being dropped.
	room       sync.Cond
	items      []Event
	reports    int
	maxReports int
	dropping   bool
	closed     bool
	// waiting is called, for tests, when a push starts to wait for room.
	waiting func()
}

// NewEventQueue starts delivering pushed events on Out.
func NewEventQueue() *EventQueue { return newEventQueue(MaxQueuedReports) }

func newEventQueue(maxReports int) *EventQueue {
	q := &EventQueue{
		out:        make(chan Event),
		wake:       make(chan struct{}, 1),
		maxReports: maxReports,
	}
	q.room.L = &q.mu
	go q.deliver()
	return q
}

// Out is the channel the events arrive on, in the order pushed.
func (q *EventQueue) Out() <-chan Event { return q.out }

// Push queues an event. A report waits while the queue holds
// MaxQueuedReports of them, and is dropped once DropReports was called;
// other events never wait.
func (q *EventQueue) Push(ev Event) {
	q.mu.Lock()
	if ev.Kind == EventReport {
		for q.reports >= q.maxReports && !q.dropping {
			if q.waiting != nil {
				q.waiting()
			}
			q.room.Wait()
		}
		if q.dropping {
			q.mu.Unlock()
			return
		}
		q.reports++
	}
	q.items = append(q.items, ev)
	q.mu.Unlock()
	q.signal()
}

// DropReports makes reports pushed from now on, and those waiting for
// room, go nowhere. A driver calls it when it closes: nobody may read its
// events any more, and every attempt is being stopped, whose reports the
// controller does not record anyway; waiting for room then would keep
// the attempts' output readers, and so Close, from ever ending.
func (q *EventQueue) DropReports() {
	q.mu.Lock()
	q.dropping = true
	q.mu.Unlock()
	q.room.Broadcast()
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
		if ev.Kind == EventReport {
			// Counted until received, so the bound holds whether or not
			// the next report is already on its way.
			q.mu.Lock()
			q.reports--
			q.mu.Unlock()
			q.room.Signal()
		}
	}
}
