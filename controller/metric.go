package controller

import (
	"fmt"

	"github.com/nomad-tune/tune/results"
)

// checkMetric warns, at a trial's first report that has no number for
// the experiment's metric, what the trial reported instead: a trial that
// reports val_loss when the file says loss, or "0.5" as a string, would
// otherwise run to its end unranked without a word (Ray Tune raises an
// error there). Once per trial, whatever its attempts: the summary at the
// end names every such trial again.
func (c *controller) checkMetric(rec *results.TrialRecord) {
	metric := c.exp.Metric
	if metric == "" || results.HasMetric(rec.LastResult, metric) {
		return
	}
	key := rec.ID + "\x00metric"
	if c.warnings[key] {
		return
	}
	c.warnings[key] = true
	c.notify(Warning, rec, fmt.Sprintf("trial %s %s; metric = %q needs a number in every report (see its result.json)",
		rec.ID, results.WhatWasReported(rec.LastResult, metric), metric))
}
