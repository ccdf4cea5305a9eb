package planner

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/nomad-tune/tune/experiment"
)

// Limit is what bounds how many trials run at once; `tune plan` shows it
// next to the number so a user knows which knob to turn.
type Limit string

const (
	// LimitTrials: every trial that can run here runs at once; there are
	// simply no more trials.
	LimitTrials Limit = "trials"
	// LimitMaxConcurrent: max_concurrent_trials stops admission before the
	// target is full.
	LimitMaxConcurrent Limit = "max_concurrent_trials"
	// LimitCapacity: the target runs out of a resource (or of nodes that
	// qualify) before max_concurrent_trials is reached.
	LimitCapacity Limit = "capacity"
)

// AtOnceResult is how many trials run at the same time and why no more.
type AtOnceResult struct {
	Count int
	Limit Limit
	// Detail is a line for people, e.g. "8 at once: CPU (4 cores / 0.5
	// per trial)".
	Detail string
	// Unfit is why the first trial that had to wait did not fit; set only
	// with LimitCapacity.
	Unfit *Unfit
}

// AtOnce admits trials in order onto the empty target, as the scheduler
// will when the experiment starts, and counts how many run together. A
// trial that does not fit is skipped (it waits) and later, smaller trials
// may still be admitted. Trials that could never run anywhere do not
// count as the limit; they are reported by FitsEmpty. maxTrials is
// max_concurrent_trials, 0 for no cap.
//
// Admission only ever takes capacity, so a shape that failed once never
// fits again: each distinct shape is tried until its first failure, which
// keeps 100,000 trials of a few shapes to a few fits each.
//
// The limit is explained by the last shape that stopped fitting, against
// the target as admission left it: a large trial that waits early while
// smaller ones keep filling the target is not what bounds the count.
func AtOnce(c *Capacity, shapes []*experiment.Shape, placement experiment.Placement, maxTrials int) AtOnceResult {
	sim := c.emptyClone()
	type entry struct {
		plan *trialPlan
		full bool
	}
	entries := map[string]*entry{}
	var (
		key       []byte
		last      *experiment.Shape
		lastEntry *entry
		f         = &fitter{}
		count     int
		limitPlan *trialPlan
	)
	for i, s := range shapes {
		if maxTrials > 0 && count == maxTrials {
			return AtOnceResult{Count: count, Limit: LimitMaxConcurrent,
				Detail: fmt.Sprintf("%d at once: max_concurrent_trials = %d", count, maxTrials)}
		}
		e := lastEntry
		if s != last || i == 0 {
			key = fitKey(key[:0], s)
			e = entries[string(key)]
			if e == nil {
				e = &entry{}
				entries[string(key)] = e
			}
			last, lastEntry = s, e
		}
		if e.full {
			continue
		}
		if e.plan == nil {
			e.plan = prepare(sim, s)
		}
		f.reset(sim, e.plan, placement, false)
		a, _ := f.fit(false)
		if a == nil {
			e.full = true
			if sim.fitsEmpty(e.plan, placement) {
				limitPlan = e.plan
			}
			continue
		}
		sim.Commit(a)
		count++
	}
	if limitPlan != nil {
		f.reset(sim, limitPlan, placement, false)
		if _, limit := f.fit(true); limit != nil {
			return AtOnceResult{Count: count, Limit: LimitCapacity, Detail: capacityDetail(sim, count, limit, limitPlan, len(entries) == 1), Unfit: limit}
		}
	}
	res := AtOnceResult{Count: count, Limit: LimitTrials}
	switch {
	case len(shapes) == 0:
		res.Detail = "0 at once: there are no trials"
	case count == 0:
		res.Detail = "0 at once: no trial can run on this target"
	case count == len(shapes) && count == 1:
		res.Detail = "1 at once: the only trial"
	case count == len(shapes):
		res.Detail = fmt.Sprintf("%d at once: all %d trials", count, count)
	case count == 1:
		res.Detail = "1 at once: the only trial that can run on this target"
	default:
		res.Detail = fmt.Sprintf("%d at once: all %d trials that can run on this target", count, count)
	}
	return res
}

// fitsEmpty is FitsEmpty for an already prepared shape.
func (c *Capacity) fitsEmpty(tp *trialPlan, placement experiment.Placement) bool {
	a, _ := newFitter(c, tp, placement, true).fit(false)
	return a != nil
}

// capacityDetail names the exhausted resource with the target's total and
// one trial's need, which is the arithmetic behind the count. Trials of
// different sizes have no one need: then it is how much of the resource
// admission left in use. When the arithmetic is not the whole story
// (trials of different sizes, nodes too small to use all of a resource, a
// shortage that is not a resource) the Unfit's own reason is given too.
func capacityDetail(c *Capacity, count int, u *Unfit, tp *trialPlan, oneShape bool) string {
	if !oneShape {
		if use := inUse(c, u.Dimension); use != "" {
			return fmt.Sprintf("%d at once: %s; %s", count, use, u.Reason())
		}
		return fmt.Sprintf("%d at once: %s", count, u.Reason())
	}
	spc := float64(c.SharesPerCore())
	totals := c.Totals()
	var total, per float64
	var text string
	switch dim := u.Dimension; {
	case dim == "cpu":
		total = totals.CPUCores
		for _, g := range tp.groups {
			per += float64(g.count) * (float64(g.cpu)/spc + float64(g.cores))
		}
		text = fmt.Sprintf("CPU (%s cores / %s per trial)", experiment.FormatNumber(total), experiment.FormatNumber(per))
	case dim == "cores":
		total = float64(totals.Cores)
		for _, g := range tp.groups {
			per += float64(g.count * g.cores)
		}
		text = fmt.Sprintf("cores (%d / %s per trial)", totals.Cores, experiment.FormatNumber(per))
	case dim == "memory":
		total = float64(totals.MemoryMiB)
		for _, g := range tp.groups {
			per += float64(int64(g.count) * g.mem)
		}
		text = fmt.Sprintf("memory (%d MiB / %s per trial)", totals.MemoryMiB, experiment.FormatNumber(per))
	case strings.HasPrefix(dim, "devices: "):
		name := strings.TrimPrefix(dim, "devices: ")
		for _, g := range tp.groups {
			for _, n := range g.needs {
				if n.label == name {
					per += float64(g.count) * n.amount
				}
			}
		}
		total, _ = c.deviceUse(name)
		text = fmt.Sprintf("%s (%s / %s per trial)", name, experiment.FormatNumber(total), experiment.FormatNumber(per))
	default:
		return fmt.Sprintf("%d at once: %s", count, u.Reason())
	}
	if oneShape && per > 0 && int(math.Floor(total/per+1e-9)) == count {
		return fmt.Sprintf("%d at once: %s", count, text)
	}
	return fmt.Sprintf("%d at once: %s; %s", count, text, u.Reason())
}

// inUse says how much of a dimension is taken, e.g. "CPU (10 of 10 cores
// in use)"; empty for a dimension that is not a resource.
func inUse(c *Capacity, dim string) string {
	t := c.Totals()
	switch {
	case dim == "cpu":
		return fmt.Sprintf("CPU (%s of %s cores in use)", experiment.FormatNumber(math.Round((t.CPUCores-t.FreeCPUCores)*100)/100), experiment.FormatNumber(t.CPUCores))
	case dim == "cores":
		return fmt.Sprintf("cores (%d of %d in use)", t.Cores-t.FreeCores, t.Cores)
	case dim == "memory":
		return fmt.Sprintf("memory (%d of %d MiB in use)", t.MemoryMiB-t.FreeMemoryMiB, t.MemoryMiB)
	case strings.HasPrefix(dim, "devices: "):
		name := strings.TrimPrefix(dim, "devices: ")
		total, free := c.deviceUse(name)
		return fmt.Sprintf("%s (%s of %s in use)", name, experiment.FormatNumber(math.Round((total-free)*100)/100), experiment.FormatNumber(total))
	}
	return ""
}

// fitKey writes what fitting depends on of a shape: two shapes with equal
// keys fit the same way. It stands in for Shape.Key, which formats every
// field and costs too much per trial when each trial has its own shape
// value; task names and memory_max are left out, as no fit looks at them.
func fitKey(b []byte, s *experiment.Shape) []byte {
	num := func(f float64) {
		b = strconv.AppendUint(b, math.Float64bits(f), 36)
		b = append(b, ',')
	}
	str := func(s string) {
		b = append(b, s...)
		b = append(b, 0)
	}
	for _, g := range s.Groups {
		b = append(b, 'g')
		str(g.Name)
		b = strconv.AppendInt(b, int64(g.Count), 10)
		for _, t := range g.Tasks {
			b = append(b, 't')
			num(t.CPU)
			b = strconv.AppendInt(b, int64(t.Cores), 10)
			b = append(b, ',')
			b = strconv.AppendInt(b, int64(t.MemoryMiB), 10)
			b = append(b, ',')
			num(t.GPU)
			for _, d := range t.Devices {
				b = append(b, 'd')
				str(d.Name)
				b = strconv.AppendInt(b, int64(d.Count), 10)
				for _, c := range d.Constraints {
					b = append(b, 'c')
					str(c.Attribute)
					str(c.Operator)
					str(c.Value)
				}
			}
		}
		for _, c := range g.Constraints {
			b = append(b, 'c')
			str(c.Attribute)
			str(c.Operator)
			str(c.Value)
		}
	}
	return b
}
