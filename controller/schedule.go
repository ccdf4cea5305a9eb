package controller

import (
	"fmt"
	"sort"

	"github.com/nomad-tune/tune/results"
	"github.com/nomad-tune/tune/scheduler"
)

// schedule asks the experiment's scheduler about a trial's latest report
// and returns why the trial stops, or "" when it goes on.
func (c *controller) schedule(rec *results.TrialRecord) string {
	if c.sched == nil {
		return ""
	}
	if d := c.sched.Report(scheduler.Trial{ID: rec.ID, Index: rec.Index}, rec.LastResult); d.Stop {
		return d.Reason
	}
	return ""
}

// scheduleEnd tells the scheduler an attempt ended: for good when the
// trial is finished, otherwise it runs again from the start.
func (c *controller) scheduleEnd(rec *results.TrialRecord) {
	if c.sched != nil {
		c.sched.Ended(scheduler.Trial{ID: rec.ID, Index: rec.Index}, rec.Status.Finished())
	}
}

// replaySchedule rebuilds the scheduler of a resumed experiment from the
// results folder: the reports of every finished trial, trial by trial in
// the order they finished, then their ends. The folder is the only state:
// nothing else is kept that could disagree with it. Trials that are not
// finished run again, and report again, from the start.
func (c *controller) replaySchedule() error {
	if c.sched == nil || !c.opts.Store.Resumed() {
		return nil
	}
	var done []*results.TrialRecord
	for _, rec := range c.order {
		if rec.Status.Finished() && !c.taken[rec.ID] {
			done = append(done, rec)
		}
	}
	sort.SliceStable(done, func(i, j int) bool { return done[i].FinishedAt.Before(done[j].FinishedAt) })
	for _, rec := range done {
		rows, err := c.opts.Store.Rows(rec.ID)
		if err != nil {
			return fmt.Errorf("rebuilding the scheduler from the results folder: %w", err)
		}
		t := scheduler.Trial{ID: rec.ID, Index: rec.Index}
		for _, row := range rows {
			c.sched.Report(t, row)
		}
		c.sched.Ended(t, true)
	}
	return nil
}
