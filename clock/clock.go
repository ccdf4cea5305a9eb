// Package clock is where tune reads the time. The controller, the Nomad
// driver and the simulated Nomad cluster take a Clock instead of calling
// the time package, so that a test can move time itself (Manual) and a
// benchmark can run a long experiment in seconds (Scaled).
//
// It holds clocks only: nothing here knows about trials, drivers or Nomad.
package clock

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Clock is a source of time.
type Clock interface {
	Now() time.Time
	// After delivers the clock's time once d has passed on the clock; a d
	// of zero or less delivers at once. The channel is buffered, so a
	// caller that stops listening leaks nothing but the channel.
	After(d time.Duration) <-chan time.Time
}

var (
	_ Clock = Real{}
	_ Clock = (*Scaled)(nil)
	_ Clock = (*Manual)(nil)
)

// Real is the wall clock.
type Real struct{}

// Now is time.Now.
func (Real) Now() time.Time { return time.Now() }

// After is time.After.
func (Real) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Scaled runs Factor times faster than the wall clock, starting from the
// wall-clock time it was created at: with factor 600 a ten-minute trial
// takes one second of real time, and its events are still ten minutes
// apart.
type Scaled struct {
	factor float64
	origin time.Time
}

// NewScaled returns a clock running factor times faster than real time;
// a factor that is not positive means real time.
func NewScaled(factor float64) *Scaled {
	if factor <= 0 {
		factor = 1
	}
	return &Scaled{factor: factor, origin: time.Now()}
}

// Factor is how many seconds of this clock pass per real second.
func (c *Scaled) Factor() float64 { return c.factor }

// Now is the origin plus the scaled time elapsed since it.
func (c *Scaled) Now() time.Time {
	elapsed := time.Since(c.origin)
	return c.origin.Add(time.Duration(float64(elapsed) * c.factor))
}

// After waits d of this clock's time, d/Factor of real time.
func (c *Scaled) After(d time.Duration) <-chan time.Time {
	out := make(chan time.Time, 1)
	real := time.Duration(float64(d) / c.factor)
	if d > 0 && real <= 0 {
		real = 1
	}
	time.AfterFunc(real, func() { out <- c.Now() })
	return out
}

// Manual moves only when Advance is called: a test decides exactly when
// time passes, and waits (WaitUntil, WaitForWaiters) until the code under
// test is parked on the clock before moving it, instead of sleeping. An
// After whose channel nobody reads any more stays pending until the clock
// passes it.
type Manual struct {
	mu      sync.Mutex
	now     time.Time
	waiters []manualWaiter
	// changed is closed, and replaced, whenever the waiters or the time
	// change, so that WaitUntil wakes without polling.
	changed chan struct{}
}

type manualWaiter struct {
	at time.Time
	ch chan time.Time
}

// NewManual returns a clock stopped at start.
func NewManual(start time.Time) *Manual {
	return &Manual{now: start, changed: make(chan struct{})}
}

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
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, manualWaiter{at: c.now.Add(d), ch: ch})
	close(c.changed)
	c.changed = make(chan struct{})
	return ch
}

// Advance moves the clock forward by d and fires every After that has
// come due, earliest first.
func (c *Manual) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	now := c.now
	var keep, due []manualWaiter
	for _, w := range c.waiters {
		if w.at.After(now) {
			keep = append(keep, w)
		} else {
			due = append(due, w)
		}
	}
	c.waiters = keep
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	sort.SliceStable(due, func(i, j int) bool { return due[i].at.Before(due[j].at) })
	for _, w := range due {
		w.ch <- now
	}
}

// Waiters is how many Afters are pending: called and not yet fired.
func (c *Manual) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// Pending is how far each pending After is from now, soonest first.
func (c *Manual) Pending() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pendingLocked()
}

func (c *Manual) pendingLocked() []time.Duration {
	out := make([]time.Duration, len(c.waiters))
	for i, w := range c.waiters {
		out[i] = w.at.Sub(c.now)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// WaitUntil blocks until cond holds for the pending Afters (as Pending
// gives them), or ctx ends (then it returns ctx's error). cond is called
// again each time an After is added or the clock is advanced. Tests call it before Advance so that
// the advance reaches the waits it is meant for.
func (c *Manual) WaitUntil(ctx context.Context, cond func(pending []time.Duration) bool) error {
	for {
		c.mu.Lock()
		pending, changed := c.pendingLocked(), c.changed
		c.mu.Unlock()
		if cond(pending) {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// WaitForWaiters blocks until at least n Afters are pending, or ctx ends.
func (c *Manual) WaitForWaiters(ctx context.Context, n int) error {
	return c.WaitUntil(ctx, func(pending []time.Duration) bool { return len(pending) >= n })
}
