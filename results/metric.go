package results

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// HasMetric says whether a result holds a number (NaN included) for
// metric: what the experiment's metric asks of every result, as Ray Tune
// asks it.
func HasMetric(row map[string]any, metric string) bool {
	_, ok := Number(row[metric])
	return ok
}

// MissingMetric are the finished trials that never gave the experiment's
// metric a number: terminated trials whose last result has none, of those
// that reported something or ended by themselves (a trial a time budget
// or timeout cut off before its first report is left out: it had no
// chance to). Ray Tune raises an error for them; tune names them and
// apply exits 1. nil when the experiment has no metric.
func MissingMetric(records []*TrialRecord, metric string) []*TrialRecord {
	if metric == "" {
		return nil
	}
	var out []*TrialRecord
	for _, r := range records {
		if r.Status == Terminated && !HasMetric(r.LastResult, metric) && (r.Iterations > 0 || r.StopReason == "") {
			out = append(out, r)
		}
	}
	return out
}

// ReportedKeys are the keys of a result that the trial reported itself,
// sorted: the fields tune adds left out.
func ReportedKeys(row map[string]any) []string {
	added := map[string]bool{}
	for _, f := range AddedFields {
		added[f] = true
	}
	var keys []string
	for k := range row {
		if !added[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// shownKeys is how many keys WhatWasReported names before counting the
// rest: a trial may report hundreds.
const shownKeys = 8

// WhatWasReported says what a result holds instead of a number for
// metric, for a warning or summary line: "reported loss as "0.5", not a
// number", "reported val_loss, epoch", "reported nothing".
func WhatWasReported(row map[string]any, metric string) string {
	if v, ok := row[metric]; ok {
		text, err := json.Marshal(v)
		if err != nil {
			text = []byte(fmt.Sprint(v))
		}
		if len(text) > 40 {
			text = append(text[:39], "…"...)
		}
		return fmt.Sprintf("reported %s as %s, not a number", metric, text)
	}
	keys := ReportedKeys(row)
	switch {
	case len(keys) == 0:
		return "reported nothing"
	case len(keys) > shownKeys:
		return fmt.Sprintf("reported %s and %d more", strings.Join(keys[:shownKeys], ", "), len(keys)-shownKeys)
	}
	return "reported " + strings.Join(keys, ", ")
}
