package controller

import (
	"math"
	"slices"
	"sort"
	"time"

	"github.com/nomad-tune/tune/experiment"
	"github.com/nomad-tune/tune/planner"
)

// Reservations (admission = "reserve"): pending gangs are tried first;
// when the oldest pending gang (with no gang pending, the oldest pending
// trial) does not fit and trials of other shapes wait behind it, it gets
// a planner.Reservation, and a later trial starts before it only where
// the reservation admits it. The capacity arithmetic is the planner's; the
// controller feeds it what runs and when each is expected to end.

// estimateWindow is how many recent attempts of a shape its duration
// estimate is taken from: enough for a percentile, few enough to follow a
// change (trials that get longer as the search narrows).
const estimateWindow = 64

// estimateMin is how many attempts of a shape must have ended before
// their durations are trusted: one attempt can be an outlier.
const estimateMin = 3

// estimatePercentile is the share of attempts an estimate is at least as
// long as. Too short an estimate lets a trial that passed the head run
// past the shadow time and delay it; too long only forgoes some
// backfill. A high percentile rather than the longest keeps one straggler
// from turning backfill off.
const estimatePercentile = 0.9

// durations are how long a shape's recent attempts ran, newest last
// (a ring of estimateWindow), with the estimate taken from them.
type durations struct {
	ring  []time.Duration
	next  int
	est   time.Duration
	fresh bool
}

func (d *durations) add(v time.Duration) {
	if len(d.ring) < estimateWindow {
		d.ring = append(d.ring, v)
	} else {
		d.ring[d.next] = v
		d.next = (d.next + 1) % estimateWindow
	}
	d.fresh = false
}

// estimate is the percentile of the durations; false when too few
// attempts have ended.
func (d *durations) estimate() (time.Duration, bool) {
	if d == nil || len(d.ring) < estimateMin {
		return 0, false
	}
	if !d.fresh {
		sorted := slices.Clone(d.ring)
		slices.Sort(sorted)
		i := int(math.Ceil(float64(len(sorted))*estimatePercentile)) - 1
		d.est, d.fresh = sorted[min(max(i, 0), len(sorted)-1)], true
	}
	return d.est, true
}

// ranFor records how long an attempt held its capacity, for the estimates
// of its shape's later attempts. Only attempts that ended well count: a
// failure says little of how long the trial runs.
func (c *controller) ranFor(r *run, end time.Time) {
	if c.exp.Admission != experiment.AdmissionReserve || r.trial == nil {
		return
	}
	d := c.ran[r.trial.Shape]
	if d == nil {
		d = &durations{}
		c.ran[r.trial.Shape] = d
	}
	d.add(max(end.Sub(r.started), 0))
}

// expectedEnd is when an attempt of t started at started is expected to
// end: its trial_timeout, an upper bound (as Slurm uses time limits);
// else the estimate from its shape's attempts; else the zero time, not
// known.
func (c *controller) expectedEnd(t *planner.Trial, started time.Time) time.Time {
	if d := c.exp.Stop.TrialTimeout; d > 0 {
		return started.Add(d)
	}
	if est, ok := c.ran[t.Shape].estimate(); ok {
		return started.Add(est)
	}
	return time.Time{}
}

// reserve computes the head's reservation from the running attempts and
// their expected ends. An attempt past its expected end is expected to
// end at any moment. Attempts whose end is not known are listed oldest
// first: with nothing else to go on, the one that has run longest is
// taken to end first.
func (c *controller) reserve(head *planner.Trial) *planner.Reservation {
	runs := make([]*run, 0, len(c.running))
	for _, r := range c.running {
		runs = append(runs, r)
	}
	sort.Slice(runs, func(i, j int) bool {
		if !runs[i].started.Equal(runs[j].started) {
			return runs[i].started.Before(runs[j].started)
		}
		return runs[i].rec.Index < runs[j].rec.Index
	})
	now := c.clock.Now()
	held := make([]planner.Running, len(runs))
	for i, r := range runs {
		end := c.expectedEnd(r.trial, r.started)
		if !end.IsZero() && end.Before(now) {
			end = now
		}
		held[i] = planner.Running{Assignment: r.assignment, End: end}
	}
	return c.capacity.Reserve(head.Shape, c.exp.Placement, held)
}

// passing is the state of one admission pass with a head that does not
// fit: its reservation is computed the first time a later trial fits, so
// a pass in which nothing else fits costs nothing.
type passing struct {
	// gangsFirst says the pass tries the pending gangs first, and only
	// a gang may be the head.
	gangsFirst bool
	head       *planner.Trial
	computed   bool
	res        *planner.Reservation
}

// gangsFirst orders the queue for a pass: the pending gangs (trials of
// more than one allocation) first, then the other trials, each in index
// order; found says a gang is pending. The head is then the oldest gang
// that does not fit, not the oldest trial. Trials of one allocation fit
// in the gaps gangs leave, but gangs do not fit in the gaps they leave:
// in the queue's order alone, the last gangs start only once every trial
// before them has, then run with the cluster half idle around them at the
// end. The one-allocation trials still start wherever they do not delay
// the head.
func (c *controller) gangsFirst(queue []int) (order []int, found bool) {
	gangShape := false
	for s := range c.waiting {
		if s.Allocs() > 1 {
			gangShape = true
			break
		}
	}
	if !gangShape {
		return queue, false
	}
	order = make([]int, 0, len(queue))
	var rest []int
	for _, idx := range queue {
		if t := c.trials[c.order[idx].ID]; !t.Suggested && t.Shape.Allocs() > 1 {
			order = append(order, idx)
		} else {
			rest = append(rest, idx)
		}
	}
	return append(order, rest...), len(order) > 0
}

// mergeRuns puts back in index order a queue that gangsFirst split into
// two runs, each in order.
func mergeRuns(q []int) []int {
	cut := 1
	for cut < len(q) && q[cut-1] < q[cut] {
		cut++
	}
	if cut >= len(q) {
		return q
	}
	out := make([]int, 0, len(q))
	a, b := q[:cut], q[cut:]
	for len(a) > 0 && len(b) > 0 {
		if a[0] < b[0] {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}

// admits says whether a later trial that fits now at a may start before
// the head.
func (c *controller) admits(p *passing, t *planner.Trial, a *planner.Assignment) bool {
	if p.head == nil || a == nil {
		return true
	}
	if !p.computed {
		p.res, p.computed = c.reserve(p.head), true
	}
	if p.res == nil {
		// Nothing this experiment runs holds the head back.
		return true
	}
	return p.res.Admits(a, c.expectedEnd(t, c.clock.Now()))
}
