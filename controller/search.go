package controller

import (
	"fmt"

	"github.com/nomad-tune/tune/experiment"
	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/results"
	"github.com/nomad-tune/tune/search"
)

// initSearch builds the searcher from the records alone, so a resumed
// experiment needs no state of its own: a trial that started before keeps
// the values its folder holds, and every finished trial is told to the
// searcher again, in index order, as the searcher orders them anyway.
func (c *controller) initSearch() error {
	c.searcher = search.New(c.exp)
	if !c.exp.Search.Adaptive() {
		return nil
	}
	for _, rec := range c.order {
		t := c.trials[rec.ID]
		if t.Suggested && rec.Params != nil {
			vals, err := search.Values(&c.exp.Space, rec.Params)
			if err != nil {
				return fmt.Errorf("the results folder's trial %s cannot be resumed: %v", rec.ID, err)
			}
			shape, diags := c.exp.ResolveShape(experiment.TrialVars{ID: t.ID, Index: t.Index, Values: vals})
			if diags.HasErrors() {
				return fmt.Errorf("the resources of trial %s, with the values it started with: %s", rec.ID, diags.Error())
			}
			t.Values, t.Shape, t.Suggested = vals, shape, false
		}
		c.observe(rec)
	}
	return nil
}

// observe tells the searcher of a trial that ended for good. A trial that
// failed, or reported no number for the metric, teaches it nothing.
func (c *controller) observe(rec *results.TrialRecord) {
	if !rec.Status.Finished() {
		return
	}
	t := c.trials[rec.ID]
	v, ok := results.MetricValue(rec.LastResult, c.exp.Metric)
	c.searcher.Finished(t.Index, t.GridPoint, t.Values, v, ok && rec.Status == results.Terminated)
}

// suggest chooses the values of a trial about to be admitted and
// evaluates its resources with them; false when the trial cannot run with
// them, which ends it as an error.
func (c *controller) suggest(rec *results.TrialRecord, t *planner.Trial) bool {
	vals := c.searcher.Suggest(t.Index, t.GridPoint)
	shape, diags := c.exp.ResolveShape(experiment.TrialVars{ID: t.ID, Index: t.Index, Values: vals})
	c.unwait(t.Shape)
	t.Values, t.Suggested = vals, false
	rec.Params = t.Params(&c.exp.Space)
	var reason string
	switch {
	case diags.HasErrors():
		reason = "its resources cannot be evaluated with the suggested values: " + diags.Error()
	case !c.opts.QueueUnfit:
		if u := c.capacity.FitsEmpty(shape, c.exp.Placement); u != nil {
			reason = fmt.Sprintf("can never run on %s with the suggested values: %s", c.opts.Target, u.Reason())
		}
	}
	if reason != "" {
		c.setStatus(rec, results.Error)
		rec.Error = reason
		c.persist(rec)
		c.notify(TrialFailed, rec, reason)
		c.observe(rec)
		return false
	}
	t.Shape = shape
	c.wait(shape)
	return true
}
