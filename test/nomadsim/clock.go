package nomadsim

import (
	"sync"
	"time"
)

// Clock is where the simulated cluster reads the time. Every duration a
// job describes (mock_driver run_for, restart and reschedule delays,
// max_run_duration, kill timeouts) is waited for with After, and every
// timestamp the API reports (task events, alloc and eval times, job submit
// times) comes from Now, so a scaled clock speeds all of them up alike.
//
// The HTTP protocol keeps real time: blocking-query waits, stream
// heartbeats and injected latency are about the connection, not the
// cluster.
type Clock interface {
	Now() time.Time
	// After delivers the clock's time once d has passed on the clock.
	After(d time.Duration) <-chan time.Time
}

// RealClock is the wall clock.
type RealClock struct{}

// Now is time.Now.
func (RealClock) Now() time.Time { return time.Now() }

// After is time.After.
func (RealClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Scaled is a clock that runs Factor times faster than the wall clock,
// starting from the wall-clock time it was created at: with Factor 600 a
// ten-minute trial takes one second, and its task events are still ten
// minutes apart.
type Scaled struct {
	factor float64
	origin time.Time
}

// NewScaled returns a clock running factor times faster than real time;
// factor must be positive (1 is real time).
func NewScaled(factor float64) *Scaled {
	if factor <= 0 {
		factor = 1
	}
	return &Scaled{factor: factor, origin: time.Now()}
}

// Factor is how many simulated seconds pass per real second.
func (c *Scaled) Factor() float64 { return c.factor }

// Now is the origin plus the scaled time elapsed since it.
func (c *Scaled) Now() time.Time {
	elapsed := time.Since(c.origin)
	return c.origin.Add(time.Duration(float64(elapsed) * c.factor))
}

// After waits d of simulated time, d/Factor of real time.
func (c *Scaled) After(d time.Duration) <-chan time.Time {
	out := make(chan time.Time, 1)
	real := time.Duration(float64(d) / c.factor)
	if d > 0 && real <= 0 {
		real = 1
	}
	time.AfterFunc(real, func() { out <- c.Now() })
	return out
}

// Manual is a clock that moves only when Advance is called, for tests that
// must decide exactly when simulated time passes.
type Manual struct {
	mu      sync.Mutex
	now     time.Time
	waiters []manualWaiter
}

type manualWaiter struct {
	at time.Time
	ch chan time.Time
}

// NewManual returns a clock stopped at start.
func NewManual(start time.Time) *Manual { return &Manual{now: start} }

// Now is the clock's current time.
func (c *Manual) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After fires once Advance has moved the clock d past now.
func (c *Manual) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	at := c.now.Add(d)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, manualWaiter{at: at, ch: ch})
	return ch
}

// Advance moves the clock forward by d and fires every After that has
// come due.
func (c *Manual) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	now := c.now
	var keep []manualWaiter
	var due []manualWaiter
	for _, w := range c.waiters {
		if !w.at.After(now) {
			due = append(due, w)
		} else {
			keep = append(keep, w)
		}
	}
	c.waiters = keep
	c.mu.Unlock()
	for _, w := range due {
		w.ch <- now
	}
}
