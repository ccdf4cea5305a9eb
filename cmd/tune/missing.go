package main

import (
	"fmt"
	"io"

	"github.com/nomad-tune/tune/progress"
	"github.com/nomad-tune/tune/results"
)

// shownMissing is how many trials without the metric the summary names.
const shownMissing = 5

// printMissingMetric names the finished trials that never reported the
// experiment's metric as a number, and what they reported instead: the
// table shows them without a value, and without this a misspelt metric
// looks like a run that found nothing.
func printMissingMetric(w io.Writer, records []*results.TrialRecord, metric string) {
	missing := results.MissingMetric(records, metric)
	if len(missing) == 0 {
		return
	}
	fmt.Fprintf(w, "\nTrials that never reported %s, the experiment's metric (%d):\n", progress.Sanitize(metric), len(missing))
	for i, r := range missing {
		if i == shownMissing {
			fmt.Fprintf(w, "  ... and %d more\n", len(missing)-shownMissing)
			break
		}
		fmt.Fprintf(w, "  %s %s\n", progress.Sanitize(r.ID), progress.Sanitize(results.WhatWasReported(r.LastResult, metric)))
	}
}
