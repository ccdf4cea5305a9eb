package controller

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/nomad-tune/tune/driver"
	"github.com/nomad-tune/tune/experiment"
	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/results"
)

// adopt takes over the attempts that the target still holds from an
// earlier run of the experiment, when its driver can say which (Nomad jobs
// outlive a tune that was killed; local processes do not). A trial whose
// record is not finished and whose attempt is still running is followed
// to its end instead of being submitted again, and one whose attempt ended
// while tune was away has its results collected from the target: no trial
// runs twice. Its results are read again from the start, so its attempt
// begins afresh in the store. An attempt of a trial whose outcome is
// already recorded is stopped instead. The rest is left to initialise.
func (c *controller) adopt(ctx context.Context) error {
	stale := c.staleRecords()
	ad, ok := c.opts.Driver.(driver.Adopter)
	var existing []driver.Existing
	if ok {
		var err error
		existing, err = ad.Existing(ctx, c.exp, c.opts.Trials)
		if err != nil {
			// Starting trials without knowing which already run could run
			// them twice.
			return fmt.Errorf("reading which trials already run on %s: %w", c.opts.Target, err)
		}
	}
	if err := c.checkChanged(existing, stale); err != nil {
		return err
	}
	for _, rec := range stale {
		c.log.Info("running a trial again: its recorded attempt ran another definition", "trial", rec.ID)
		c.forget(rec)
	}
	if !ok {
		return nil
	}
	// Running attempts take their share of the capacity snapshot first:
	// they hold it on the target already, whatever else waits.
	sort.SliceStable(existing, func(i, j int) bool {
		if existing[i].Running != existing[j].Running {
			return existing[i].Running
		}
		ri, rj := c.records[existing[i].TrialID], c.records[existing[j].TrialID]
		if ri == nil || rj == nil {
			return rj != nil
		}
		return ri.Index < rj.Index
	})
	for _, ex := range existing {
		rec := c.records[ex.TrialID]
		if rec == nil {
			c.log.Warn("the target holds a job of a trial this experiment does not have; leaving it alone", "trial", ex.TrialID, "attempt", ex.Attempt)
			continue
		}
		switch {
		case ex.Changed:
			c.replaceChanged(ctx, ad, rec, ex)
		case rec.Status.Finished() || ex.Attempt < rec.Attempts:
			// The attempt's end is recorded already; if it still runs,
			// tune died before it was stopped.
			if ex.Running {
				c.stopLeftover(ctx, ad, rec, ex, "its outcome was already recorded")
			}
		default:
			c.adoptAttempt(ctx, ad, rec, ex)
		}
	}
	return nil
}

// adoptAttempt follows an attempt an earlier run started as if this run
// had started it.
func (c *controller) adoptAttempt(ctx context.Context, ad driver.Adopter, rec *results.TrialRecord, ex driver.Existing) {
	c.taken[rec.ID] = true
	t := c.trials[rec.ID]
	now := c.clock.Now()
	started := now
	if !ex.Submitted.IsZero() && ex.Submitted.Before(now) {
		started = ex.Submitted
	}
	var a *planner.Assignment
	if ex.Running {
		a = c.commitAdopted(t.Shape)
	}
	prevAttempts := rec.Attempts
	attempt := ex.Attempt
	rec.Attempts = attempt + 1
	rec.Spec = c.specOf(t)
	c.setStatus(rec, results.Running)
	rec.Error, rec.StopReason = "", ""
	rec.Iterations, rec.LastResult = 0, nil
	rec.StartedAt, rec.FinishedAt = started, time.Time{}
	stdout, stderr, err := c.opts.Store.BeginAttempt(rec, attempt, started)
	if err != nil {
		// As in start: nothing could be recorded. The attempt is left
		// running on the target, for a later run to adopt.
		c.log.Error("cannot record the trial", "trial", rec.ID, "error", err)
		c.capacity.Release(a)
		rec.Attempts = prevAttempts
		c.setStatus(rec, results.Pending)
		c.fail(fmt.Sprintf("cannot write results of trial %s: %v", rec.ID, err))
		return
	}
	// When an earlier run admitted it is not known; the driver says when
	// the target registered, placed and ran it.
	rec.Begin(results.AttemptTimes{Attempt: attempt, Held: c.capacity.Held(a)})
	r := &run{rec: rec, trial: t, attempt: attempt, assignment: a, started: started}
	c.running[rec.ID] = r
	err = ad.Adopt(ctx, driver.StartRequest{
		Experiment: c.exp, Trial: t, Attempt: attempt, Assignment: a, Stdout: stdout, Stderr: stderr,
	})
	if err != nil {
		// The attempt's outcome cannot be known: it counts as failed,
		// like a start that failed, and the trial is retried (with the
		// next attempt, which replaces whatever is left of this one)
		// within max_failures.
		c.log.Debug("trial could not be adopted", "trial", rec.ID, "attempt", attempt, "error", err)
		c.ended(r, driver.Event{Kind: driver.EventExited, TrialID: rec.ID, Attempt: attempt, Time: now, Failed: true, ExitCode: -1,
			Message: "could not adopt the attempt an earlier run started: " + err.Error()})
		return
	}
	if d := c.exp.Stop.TrialTimeout; d > 0 {
		c.addTimer(timer{at: started.Add(d), kind: timerTrialTimeout, trialID: rec.ID, attempt: attempt})
	}
	message := "adopted: it ended while tune was away"
	if ex.Running {
		message = "adopted: it was already running"
	}
	c.notify(TrialStarted, rec, message)
}

// stopLeftover stops an attempt whose trial's outcome is already recorded.
// The driver can only stop what it follows, so it is adopted first, with
// its output going nowhere: its record stays as it is.
func (c *controller) stopLeftover(ctx context.Context, ad driver.Adopter, rec *results.TrialRecord, ex driver.Existing, reason string) {
	err := ad.Adopt(ctx, driver.StartRequest{Experiment: c.exp, Trial: c.trials[rec.ID], Attempt: ex.Attempt})
	if err != nil {
		c.log.Warn("cannot stop an attempt of a finished trial that still runs", "trial", rec.ID, "attempt", ex.Attempt, "error", err)
		return
	}
	c.log.Info("stopping an attempt that still ran", "trial", rec.ID, "attempt", ex.Attempt, "reason", reason)
	c.taken[rec.ID] = true
	r := &run{rec: rec, trial: c.trials[rec.ID], attempt: ex.Attempt, started: c.clock.Now(), stopping: true, stopReason: reason}
	c.leftovers[rec.ID] = r
	if err := c.opts.Driver.Stop(ctx, rec.ID, ex.Attempt, reason); err != nil {
		c.log.Warn("cannot stop a trial", "trial", rec.ID, "error", err)
	}
}

// leftoverEvent takes an event of a leftover attempt: only its end
// matters, after which a trial that is not done may run again.
func (c *controller) leftoverEvent(r *run, ev driver.Event) {
	if ev.Kind != driver.EventExited {
		return
	}
	delete(c.leftovers, r.rec.ID)
	c.log.Debug("a leftover attempt ended", "trial", r.rec.ID, "attempt", r.attempt)
	if rec := r.rec; !rec.Status.Finished() && !c.stopAll {
		c.setStatus(rec, results.Pending)
		c.requeue(rec)
	}
}

// commitAdopted reserves an adopted running trial's shape on the capacity
// snapshot. It runs whatever the snapshot says, so when it does not fit
// (the planner's packing is not Nomad's, or the cluster shrank) it is
// placed as if the nodes were empty and only what is still free where it
// lands is reserved: the snapshot never shows more in use than it has,
// and Release of the assignment returned frees exactly what was reserved.
// nil when it could not be placed even on empty nodes.
func (c *controller) commitAdopted(s *experiment.Shape) *planner.Assignment {
	if a, unfit := c.capacity.Fit(s, c.exp.Placement); unfit == nil {
		c.capacity.Commit(a)
		return a
	}
	empty := c.capacity.Clone()
	for _, n := range empty.Nodes {
		n.Used = planner.Usage{}
		for _, g := range n.Devices {
			for _, inst := range g.Instances {
				inst.Share = 0
			}
		}
	}
	a, unfit := empty.Fit(s, c.exp.Placement)
	if unfit != nil {
		return nil
	}
	out := &planner.Assignment{}
	for _, al := range a.Allocs {
		part := c.freePart(al)
		// Committed one allocation at a time, so the next one sees what
		// this one took of a node they share.
		c.capacity.Commit(&planner.Assignment{Allocs: []planner.AllocAssignment{part}})
		out.Allocs = append(out.Allocs, part)
	}
	return out
}

// freePart is as much of an allocation as is still free on its node of
// the snapshot.
func (c *controller) freePart(al planner.AllocAssignment) planner.AllocAssignment {
	part := al
	part.CPUShares, part.Cores, part.MemoryMiB, part.Devices = 0, 0, 0, nil
	var n *planner.Node
	for _, cand := range c.capacity.Nodes {
		if cand.ID == al.NodeID {
			n = cand
			break
		}
	}
	if n == nil {
		return part
	}
	part.CPUShares = min(al.CPUShares, max(n.CPUShares-n.Used.CPUShares, 0))
	part.Cores = min(al.Cores, max(n.Cores-n.Used.Cores, 0))
	part.MemoryMiB = min(al.MemoryMiB, max(n.MemoryMiB-n.Used.MemoryMiB, 0))
	for _, g := range al.Devices {
		if inst := deviceInstance(n, g); inst != nil {
			if g.Share = min(g.Share, max(1000-inst.Share, 0)); g.Share > 0 {
				part.Devices = append(part.Devices, g)
			}
		}
	}
	return part
}

// deviceInstance is the instance of the node that a grant names.
func deviceInstance(n *planner.Node, g planner.DeviceGrant) *planner.DeviceInstance {
	for _, grp := range n.Devices {
		if grp.ID() != g.Device {
			continue
		}
		for _, inst := range grp.Instances {
			if inst.ID == g.InstanceID {
				return inst
			}
		}
	}
	return nil
}
