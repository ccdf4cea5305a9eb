package controller

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nomad-tune/tune/driver"
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

// checkChanged refuses changed attempts unless the run replaces them.
// It looks at every attempt before any is adopted, so a refusal leaves
// everything as it was.
func (c *controller) checkChanged(existing []driver.Existing) error {
	if c.opts.ReplaceChanged {
		return nil
	}
	var ids []string
	for _, ex := range existing {
		if ex.Changed && c.records[ex.TrialID] != nil {
			ids = append(ids, ex.TrialID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	sort.Strings(ids)
	return &ChangedError{TrialIDs: ids}
}

// replaceChanged forgets what the trial's record holds (it may be the
// changed definition's outcome) and runs the trial again with its next
// attempt, a new version of its job. A changed attempt that still runs is
// stopped first, as a leftover: it holds resources the capacity snapshot
// counts as free, and the trial is queued again once it has ended.
func (c *controller) replaceChanged(ctx context.Context, ad driver.Adopter, rec *results.TrialRecord, ex driver.Existing) {
	c.log.Info("running a trial again: its attempt on the target was made from another definition", "trial", rec.ID, "attempt", ex.Attempt)
	if rec.Status.Finished() {
		c.setStatus(rec, results.Pending)
	}
	rec.Attempts = max(rec.Attempts, ex.Attempt+1)
	rec.Failures = 0
	rec.Error, rec.StopReason = "", ""
	rec.Iterations, rec.LastResult = 0, nil
	rec.StartedAt, rec.FinishedAt = time.Time{}, time.Time{}
	if ex.Running {
		c.stopLeftover(ctx, ad, rec, ex, "it was made from another definition of the trial")
	}
}
