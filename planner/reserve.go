package planner

import (
	"sort"
	"time"

	"github.com/nomad-tune/tune/experiment"
)

// Running is a trial that holds capacity, as a reservation sees it.
type Running struct {
	Assignment *Assignment
	// End is when the trial is expected to have ended. The zero time
	// says nobody knows: the reservation counts on it running past any
	// time it computes.
	End time.Time
}

// Reservation holds capacity for the oldest waiting trial (the head)
// while later trials start before it: EASY backfill, as Slurm does it.
// The head will fit at the shadow time, once the running trials expected
// to end by then have ended; a later trial may start now only if it is
// expected to end by the shadow time, or if the head still fits at the
// shadow time beside it. So trials that pass the head never delay it, and
// a big trial cannot wait for ever behind a stream of small ones.
type Reservation struct {
	// At is the shadow time. Zero means the head fits only once running
	// trials whose end is unknown have ended: no trial is known to end
	// before it, so later trials may only use what the head does not
	// need.
	At time.Time
	// Assignment is where the head goes at At, as the capacity looks
	// now; trials admitted since may move it, never delay it.
	Assignment *Assignment

	placement experiment.Placement
	// shadow is the capacity at At: what holds capacity now, less the
	// trials expected to have ended by then, plus the trials Admits let
	// through that run past it.
	shadow *Capacity
	fit    *fitter
}

// Reserve computes the head's reservation, given what runs now. It
// releases the running trials' assignments on a clone of the capacity in
// the order of their expected ends (trials that end at the same time
// together; trials with unknown ends last, one at a time in the order
// given, so the caller lists the likeliest to end first) until the head
// fits.
//
// It returns nil when the head does not fit even once every running
// trial has ended: what holds it back is not in running (on a shared
// cluster, other users' work), so holding the other trials back would not
// make room for it. A head that never fits the target at all is an error
// before it is queued (FitsEmpty).
func (c *Capacity) Reserve(head *experiment.Shape, placement experiment.Placement, running []Running) *Reservation {
	if c.refused(head) != nil {
		return nil
	}
	order := make([]int, len(running))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := running[order[i]].End, running[order[j]].End
		if a.IsZero() || b.IsZero() {
			return !a.IsZero() && b.IsZero()
		}
		return a.Before(b)
	})
	shadow := c.Clone()
	f := newFitter(shadow, prepare(shadow, head), placement, false)
	if a, u := f.fit(false); u == nil {
		// It fits now: nothing needs to end for it.
		return &Reservation{Assignment: a, placement: placement, shadow: shadow, fit: f}
	}
	for i := 0; i < len(order); {
		end := running[order[i]].End
		shadow.Release(running[order[i]].Assignment)
		i++
		for !end.IsZero() && i < len(order) && running[order[i]].End.Equal(end) {
			shadow.Release(running[order[i]].Assignment)
			i++
		}
		f.clear()
		if a, u := f.fit(false); u == nil {
			return &Reservation{At: end, Assignment: a, placement: placement, shadow: shadow, fit: f}
		}
	}
	return nil
}

// Admits says whether a trial that fits now, at a, and is expected to end
// at end (zero: unknown) may start without delaying the head. A trial it
// admits that may run past the shadow time is counted in the reservation
// from then on, so the next trial is checked against both.
func (r *Reservation) Admits(a *Assignment, end time.Time) bool {
	if !end.IsZero() && !r.At.IsZero() && !end.After(r.At) {
		return true
	}
	r.shadow.Commit(a)
	r.fit.clear()
	if _, u := r.fit.fit(false); u == nil {
		return true
	}
	r.shadow.Release(a)
	return false
}
