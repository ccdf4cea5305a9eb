package report

import (
	"time"
)

// RefreshInterval is how often apply rewrites the page while it runs:
// often enough to watch, rare enough that building the page of a large
// experiment stays a small share of the machine.
const RefreshInterval = 5 * time.Second

// Refresher rewrites an experiment's page on a timer of its own, outside
// the controller's loop, while the experiment runs. The rate is bounded
// twice: a write waits at least the interval after the one before ended,
// and at least four times as long as that one took, so that a large
// experiment's page (seconds to build) never keeps a core busy.
type Refresher struct {
	stop chan struct{}
	done chan struct{}
}

// StartRefresh writes the page every interval until Stop. now gives the
// time the page is built at; onErr hears each failed write.
func StartRefresh(root, name string, interval time.Duration, now func() time.Time, onErr func(error)) *Refresher {
	r := &Refresher{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		timer := time.NewTimer(interval)
		defer timer.Stop()
		for {
			select {
			case <-r.stop:
				return
			case <-timer.C:
				began := time.Now()
				if _, err := Write(root, name, now(), true); err != nil {
					onErr(err)
				}
				timer.Reset(max(interval, 4*time.Since(began)))
			}
		}
	}()
	return r
}

// Stop ends the refreshing and waits for a write in progress, so that the
// caller's final write is the last.
func (r *Refresher) Stop() {
	close(r.stop)
	<-r.done
}
