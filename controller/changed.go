package controller

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nomad-tune/tune/driver"
	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/results"
)

// ChangedError is Run's refusal of attempts the target holds that were
// made from another definition of their trials: their results belong to
// that definition. Nothing was adopted, started or stopped.
type ChangedError struct {
	// TrialIDs are the changed trials, sorted.
	TrialIDs []string
}

func (e *ChangedError) Error() string {
	return fmt.Sprintf("%d %s on the target %s made from another definition of the experiment: %s",
		len(e.TrialIDs), plural(len(e.TrialIDs), "trial", "trials"), plural(len(e.TrialIDs), "was", "were"), strings.Join(e.TrialIDs, ", "))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// checkChanged refuses changed attempts, and records whose attempt ran
// another definition (stale), unless the run replaces them. It looks at
// every one before any is adopted, so a refusal leaves everything as it
// was.
func (c *controller) checkChanged(existing []driver.Existing, stale []*results.TrialRecord) error {
	if c.opts.ReplaceChanged {
		return nil
	}
	seen := map[string]bool{}
	for _, ex := range existing {
		if ex.Changed && c.records[ex.TrialID] != nil {
			seen[ex.TrialID] = true
		}
	}
	for _, rec := range stale {
		seen[rec.ID] = true
	}
	if len(seen) == 0 {
		return nil
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return &ChangedError{TrialIDs: ids}
}

// specOf is what an attempt of the trial runs now, as the target says;
// "" when it does not say (or cannot now, which is logged: the record
// then keeps no spec and is never taken as stale).
func (c *controller) specOf(t *planner.Trial) string {
	sp, ok := c.opts.Driver.(driver.Specifier)
	if !ok {
		return ""
	}
	spec, err := sp.Spec(c.exp, t)
	if err != nil {
		c.log.Warn("cannot say what the trial runs", "trial", t.ID, "error", err)
		return ""
	}
	return spec
}

// staleRecords are the records whose last attempt ran another definition
// of their trial than the trial's now: their results are not this
// definition's, whether or not the target still holds the attempt.
func (c *controller) staleRecords() []*results.TrialRecord {
	var out []*results.TrialRecord
	for _, rec := range c.order {
		if rec.Spec == "" || rec.Attempts == 0 {
			continue
		}
		if spec := c.specOf(c.trials[rec.ID]); spec != "" && spec != rec.Spec {
			out = append(out, rec)
		}
	}
	return out
}

// forget clears what the record holds of its last attempts, which ran
// another definition of the trial: it runs again, with its next attempt.
func (c *controller) forget(rec *results.TrialRecord) {
	if rec.Status.Finished() {
		c.setStatus(rec, results.Pending)
	}
	rec.Failures = 0
	rec.Error, rec.StopReason = "", ""
	rec.Iterations, rec.LastResult = 0, nil
	rec.StartedAt, rec.FinishedAt = time.Time{}, time.Time{}
}

// replaceChanged forgets what the trial's record holds (it may be the
// changed definition's outcome) and runs the trial again with its next
// attempt, a new version of its job. A changed attempt that still runs is
// stopped first, as a leftover: it holds resources the capacity snapshot
// counts as free, and the trial is queued again once it has ended.
func (c *controller) replaceChanged(ctx context.Context, ad driver.Adopter, rec *results.TrialRecord, ex driver.Existing) {
	c.log.Info("running a trial again: its attempt on the target was made from another definition", "trial", rec.ID, "attempt", ex.Attempt)
	c.forget(rec)
	rec.Attempts = max(rec.Attempts, ex.Attempt+1)
	if ex.Running {
		c.stopLeftover(ctx, ad, rec, ex, "it was made from another definition of the trial")
	}
}
