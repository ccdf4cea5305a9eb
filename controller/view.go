package controller

import (
	"math"

	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/results"
)

// remember puts a trial that ended at the head of the snapshot's recent list.
func (c *controller) remember(rec *results.TrialRecord) {
	c.recent = append([]TrialView{c.view(rec)}, c.recent...)
	if len(c.recent) > RecentLimit {
		c.recent = c.recent[:RecentLimit]
	}
}

// notify tells the reporter of a change, with the state after it.
func (c *controller) notify(kind ChangeKind, rec *results.TrialRecord, message string) {
	if c.opts.Reporter == nil {
		return
	}
	c.opts.Reporter.Changed(Change{Time: c.clock.Now(), Kind: kind, Trial: c.view(rec), Message: message}, c.snapshot())
}

// view is a trial as reporters see it: a copy, so they may keep it.
func (c *controller) view(rec *results.TrialRecord) TrialView {
	v := TrialView{
		ID: rec.ID, Index: rec.Index, Status: rec.Status, Params: rec.Params,
		Attempt: max(rec.Attempts-1, 0), Iterations: rec.Iterations, Last: rec.LastResult,
		Error: rec.Error, StopReason: rec.StopReason,
	}
	switch {
	case rec.StartedAt.IsZero():
	case rec.FinishedAt.IsZero() || rec.Status == results.Running:
		v.Runtime = c.clock.Now().Sub(rec.StartedAt)
	default:
		v.Runtime = rec.FinishedAt.Sub(rec.StartedAt)
	}
	return v
}

// snapshot is the whole experiment as reporters see it, built afresh.
func (c *controller) snapshot() *Snapshot {
	s := &Snapshot{
		Experiment: c.exp.Name,
		Metric:     c.exp.Metric,
		Mode:       string(c.exp.Mode),
		ParamNames: c.exp.Space.Names(),
		Target:     c.opts.Target,
		ResultsDir: c.opts.Store.Dir(),
		Elapsed:    c.clock.Now().Sub(c.started),
		TimeBudget: c.exp.Stop.TimeBudget,
		Total:      len(c.order),
		Recent:     append([]TrialView(nil), c.recent...),
	}
	counts := c.counts()
	s.Pending, s.Running, s.Terminated, s.Errored = counts[results.Pending], counts[results.Running], counts[results.Terminated], counts[results.Error]
	totals := c.capacity.Totals()
	s.Capacity = totals
	s.InUse = planner.Totals{
		Nodes:     totals.Nodes,
		CPUCores:  totals.CPUCores - totals.FreeCPUCores,
		Cores:     totals.Cores - totals.FreeCores,
		MemoryMiB: totals.MemoryMiB - totals.FreeMemoryMiB,
		// FreeGPUs may be fractional on shared local GPUs; InUse reports
		// whole devices touched, rounded up.
		GPUs: int(math.Ceil(float64(totals.GPUs) - totals.FreeGPUs - 1e-9)),
	}
	for _, r := range c.sortedRuns() {
		s.Active = append(s.Active, c.view(r.rec))
	}
	if c.best != nil {
		b := c.view(c.best)
		s.Best = &b
	}
	return s
}
