package controller

import (
	"fmt"

	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/results"
)

// openBatch is the fewest trials an open-ended experiment generates at a
// time (max_concurrent_trials when more): enough to keep the admission
// pass busy, few enough that the
// results folder lists only a handful of trials that never started when
// the budget ends the run.
const openBatch = 8

// extend generates the next trials of an open-ended experiment
// (num_samples = -1) when none is waiting to start, until
// stop.max_trials (or the hard ceiling) is reached. Trial i is the one
// the planner gives index i, so a resumed run generates the same trials;
// the summary is written before any of them starts, so that a resume
// after kill -9 knows of them.
func (c *controller) extend() {
	if !c.exp.OpenEnded() || c.exhausted || c.stopAll {
		return
	}
	if len(c.pending)+len(c.delayed) > 0 {
		return
	}
	batch := max(c.exp.MaxConcurrentTrials, openBatch)
	from := len(c.order)
	to := min(from+batch, c.exp.TrialCap())
	if to <= from {
		c.exhausted = true
		return
	}
	trials, _ := planner.TrialRange(c.exp, from, to)
	infos := make([]results.TrialInfo, len(trials))
	for i, t := range trials {
		c.trials[t.ID] = t
		infos[i] = results.TrialInfo{ID: t.ID, Index: t.Index}
		if !t.Suggested {
			infos[i].Params = t.Params(&c.exp.Space)
		}
	}
	recs, err := c.opts.Store.Add(infos)
	if err != nil {
		c.fail(fmt.Sprintf("adding trials to the results folder: %v", err))
		return
	}
	queued := 0
	for i, rec := range recs {
		c.order = append(c.order, rec)
		c.records[rec.ID] = rec
		c.statusCount[rec.Status]++
		t := trials[i]
		if _, diags := c.exp.ResolveShape(t.Vars()); diags.HasErrors() && !t.Suggested {
			c.setStatus(rec, results.Error)
			rec.Error = "its resources cannot be evaluated: " + diags.Error()
			c.persist(rec)
			c.notify(TrialFailed, rec, rec.Error)
			continue
		}
		before := len(c.pending)
		c.enqueue(rec)
		queued += len(c.pending) - before
	}
	if queued == 0 {
		// Not one of them can run here: more of the same would fill the
		// results folder with errors up to the cap.
		c.exhausted = true
		message := fmt.Sprintf("trials %d to %d can never run here; no more are generated", from, to-1)
		c.log.Warn(message)
		c.notify(Warning, recs[len(recs)-1], message)
	}
	c.maybeWriteSummary(true)
}
