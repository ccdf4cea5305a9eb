package report

import (
	"time"
)

// RefreshInterval is how often apply rewrites the page while it runs:
// often enough to watch, rare enough that building the page of a large
// experiment stays a small share of the machine.
const RefreshInterval = 5 * time.Second

// Refresher rewrites an experiment's page on a ticker, outside the
// controller's loop, while the experiment runs. A write that takes longer
// than the interval delays the next one: the ticker drops the ticks it
// missed, so the rate never exceeds one page per interval.
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
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-r.stop:
				return
			case <-tick.C:
				if _, err := Write(root, name, now(), true); err != nil {
					onErr(err)
				}
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
