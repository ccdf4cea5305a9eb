package nomad

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/hashicorp/nomad/api"

	"github.com/nomad-tune/tune/driver"
	"github.com/nomad-tune/tune/experiment"
	"github.com/nomad-tune/tune/jobs"
	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/trialenv"
)

// jobStatusDead is the status of a job nothing of which runs or will run.
const jobStatusDead = "dead"

// experimentJobs lists the jobs of the experiment's trials in its
// namespace. withMeta asks for their meta too, which Nomad leaves out of
// job list entries unless asked.
func (d *Driver) experimentJobs(ctx context.Context, name string, withMeta bool) ([]*api.JobListStub, error) {
	var params map[string]string
	if withMeta {
		params = map[string]string{"meta": "true"}
	}
	var stubs []*api.JobListStub
	err := d.retry(ctx, "list the experiment's jobs", func() error {
		q := d.queryOpts(ctx, params)
		q.Filter = trialenv.Filter(name)
		var err error
		stubs, _, err = d.client.Jobs().List(q)
		return err
	})
	return stubs, err
}

// Existing lists the latest attempt of every trial of the experiment that
// has a job in Nomad, found by the jobs' meta. A stopped job is left out:
// tune stopped it (an interrupt, a stop rule) or a person did (tune stop),
// and either way nothing of it is left to follow. So is a job whose meta
// does not name a trial and attempt, which tune did not write. A job is
// changed when its spec (jobs.Spec) is not its trial's now, or when it
// has none (an older tune wrote it, and what it ran cannot be told).
func (d *Driver) Existing(ctx context.Context, e *experiment.Experiment, trials []*planner.Trial) ([]driver.Existing, error) {
	if e == nil {
		return nil, errors.New("nomad driver: an experiment is required")
	}
	stubs, err := d.experimentJobs(ctx, e.Name, true)
	if err != nil {
		return nil, fmt.Errorf("listing the jobs of experiment %q: %w", e.Name, err)
	}
	byID := make(map[string]*planner.Trial, len(trials))
	for _, t := range trials {
		byID[t.ID] = t
	}
	out := make([]driver.Existing, 0, len(stubs))
	for _, s := range stubs {
		// The next attempt of a trial registers over the version listed.
		d.setKnownIndex(s.ID, s.JobModifyIndex)
		if s.Stop {
			continue
		}
		id := s.Meta[trialenv.MetaTrialID]
		attempt, err := strconv.Atoi(s.Meta[trialenv.MetaAttempt])
		if id == "" || err != nil || attempt < 0 {
			d.log.Warn("a job with the experiment's meta names no trial attempt; leaving it alone", "job", s.ID,
				"trial", id, "attempt", s.Meta[trialenv.MetaAttempt])
			continue
		}
		ex := driver.Existing{TrialID: id, Attempt: attempt, Running: s.Status != jobStatusDead}
		if s.SubmitTime > 0 {
			ex.Submitted = time.Unix(0, s.SubmitTime)
		}
		if t := byID[id]; t != nil {
			spec, err := d.spec(e, t)
			if err != nil {
				return nil, err
			}
			ex.Changed = s.Meta[trialenv.MetaSpec] != spec
		}
		out = append(out, ex)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].TrialID < out[j].TrialID })
	return out, nil
}

// Spec is the trial's jobs.Spec: the hash of its job.
func (d *Driver) Spec(e *experiment.Experiment, t *planner.Trial) (string, error) {
	return d.spec(e, t)
}

// spec is the trial's jobs.Spec. Compiling a trial is the costly part
// of Existing, which plan and apply call before the controller calls it
// again, so the specs of the driver's own experiment are kept.
func (d *Driver) spec(e *experiment.Experiment, t *planner.Trial) (string, error) {
	if e == d.exp {
		d.specMu.Lock()
		spec, ok := d.specs[t.ID]
		d.specMu.Unlock()
		if ok {
			return spec, nil
		}
	}
	spec, diags := jobs.Spec(e, t)
	if diags.HasErrors() {
		return "", fmt.Errorf("trial %s: %w", t.ID, diags)
	}
	if e == d.exp {
		d.specMu.Lock()
		d.specs[t.ID] = spec
		d.specMu.Unlock()
	}
	return spec, nil
}

// Adopt follows an attempt an earlier tune registered, as Start follows
// its own: its allocations are read once now and then followed on the
// event stream; the output of each of their tasks is read from the start,
// so every report of the attempt is delivered again; an attempt whose
// allocations have all ended is judged once its output is read. The job
// must still be the attempt's (its meta names the trial and attempt):
// a later registration or a purge since Existing is an error, and nothing
// is followed.
func (d *Driver) Adopt(ctx context.Context, req driver.StartRequest) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if req.Experiment == nil || req.Trial == nil {
		return errors.New("nomad driver: an adopt request needs an experiment and a trial")
	}
	jobID := jobs.JobID(req.Experiment.Name, req.Trial.ID)
	job, err := d.readJob(ctx, jobID)
	switch {
	case err != nil:
		return fmt.Errorf("trial %s attempt %d: reading job %s: %w", req.Trial.ID, req.Attempt, jobID, err)
	case job == nil:
		return fmt.Errorf("trial %s attempt %d: job %s is no longer in Nomad", req.Trial.ID, req.Attempt, jobID)
	case job.Meta[trialenv.MetaTrialID] != req.Trial.ID || job.Meta[trialenv.MetaAttempt] != strconv.Itoa(req.Attempt):
		return fmt.Errorf("trial %s attempt %d: job %s now holds trial %s attempt %s", req.Trial.ID, req.Attempt, jobID,
			job.Meta[trialenv.MetaTrialID], job.Meta[trialenv.MetaAttempt])
	}
	d.setKnownIndex(jobID, deref(job.JobModifyIndex))
	a, err := newAttempt(d, req, job)
	if err != nil {
		return fmt.Errorf("trial %s attempt %d: %w", req.Trial.ID, req.Attempt, err)
	}
	// Followed before its allocations are listed, so that what changes
	// after the listing reaches it as events (held until it is adopted).
	if err := d.track(a); err != nil {
		return err
	}
	d.startWatch()
	var stubs []*api.AllocationListStub
	err = d.retry(ctx, "list job allocations", func() error {
		var err error
		stubs, _, err = d.client.Jobs().Allocations(jobID, true, d.queryOpts(ctx, nil))
		return err
	})
	if err != nil {
		d.abandon(a)
		return fmt.Errorf("trial %s attempt %d: listing the allocations of job %s: %w", req.Trial.ID, req.Attempt, jobID, err)
	}
	views := make([]allocView, len(stubs))
	for i, s := range stubs {
		views[i] = viewOfStub(s)
	}
	d.log.Debug("adopted", "job", jobID, "trial", req.Trial.ID, "attempt", req.Attempt,
		"status", deref(job.Status), "allocations", len(stubs))
	d.mu.Lock()
	a.registeredAt, a.placedAt, a.ranAt = adoptedStages(job, stubs, a.want)
	a.adopted(job, views)
	d.mu.Unlock()
	go a.gangWatch()
	return nil
}

// adopted takes the job as it was read and its allocations, and moves the
// attempt on once with all of them: a step per allocation could judge an
// ended job on part of its allocations. Called with d.mu held.
func (a *attempt) adopted(job *api.Job, views []allocView) {
	a.phase = phaseQueued
	// Allocations created at or before the registration of this version
	// belong to earlier attempts, as for a registration of tune's own.
	a.regIndex = deref(job.JobModifyIndex)
	pending := a.pending
	a.pending = nil
	// What was placed before now was placed when Nomad says (Adopt read
	// it), not when tune saw it.
	placed := a.placedAt
	for _, v := range append(pending, views...) {
		a.take(v)
	}
	a.placedAt = placed
	switch {
	case deref(job.Stop):
		// Stopped by someone between Existing and now.
		a.stoppedOutside()
	case a.goneAt > a.regIndex:
		a.jobGone(a.goneAt)
	case deref(job.Status) == jobStatusDead:
		a.adoptedDead = true
	}
	a.step()
}

// adoptedStages are when Nomad says an adopted attempt's job was
// registered (its submit time), when its last allocation was placed and
// when its last allocation began to run (the first start of any of its
// tasks), from the allocations of this version of the job. A stage Nomad
// cannot say of every allocation, as when it has garbage-collected some,
// is zero: never a guess.
func adoptedStages(job *api.Job, stubs []*api.AllocationListStub, want int) (registered, placed, ran time.Time) {
	if t := deref(job.SubmitTime); t > 0 {
		registered = time.Unix(0, t)
	}
	var created, started []time.Time
	for _, s := range stubs {
		if s.CreateIndex <= deref(job.JobModifyIndex) {
			// An earlier attempt's, as take judges it.
			continue
		}
		if s.CreateTime > 0 {
			created = append(created, time.Unix(0, s.CreateTime))
		}
		var first time.Time
		for _, st := range s.TaskStates {
			if st != nil && !st.StartedAt.IsZero() && (first.IsZero() || st.StartedAt.Before(first)) {
				first = st.StartedAt
			}
		}
		if !first.IsZero() {
			started = append(started, first)
		}
	}
	return registered, nthEarliest(created, want), nthEarliest(started, want)
}

// nthEarliest is the n-th earliest of times (when n of them had
// happened), zero when there are fewer.
func nthEarliest(times []time.Time, n int) time.Time {
	if n < 1 || len(times) < n {
		return time.Time{}
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	return times[n-1]
}
