package nomad

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/nomad/api"

	"github.com/nomad-tune/tune/jobs"
)

// jobDeregistered is the event type of a job stopped or purged.
const jobDeregistered = "JobDeregistered"

// streamTopics are what the watcher follows: every allocation and job of
// the namespace. Attempts come and go faster than a subscription could be
// changed without a gap, so the filtering by job happens here.
var streamTopics = map[api.Topic][]string{
	api.TopicAllocation: {"*"},
	api.TopicJob:        {"*"},
}

// watch follows the event stream until the driver closes. When the stream
// fails or ends it is subscribed to again, from the last index seen, after
// a backoff; each time it is (re)established the allocations of every
// attempt are read once, for what happened while it was down.
func (d *Driver) watch() {
	defer close(d.watching)
	// Catch-ups run beside the stream they follow, one at a time: read
	// first, thousands of attempts' worth would leave the new
	// subscription unread until it fell behind again.
	var catching sync.WaitGroup
	var catchUpMu sync.Mutex
	defer catching.Wait()
	var index uint64
	failures := 0
	for d.ctx.Err() == nil {
		body, err := d.subscribe(d.ctx, index)
		if err == nil {
			d.mu.Lock()
			d.streamGen++
			gen := d.streamGen
			d.mu.Unlock()
			catching.Go(func() {
				catchUpMu.Lock()
				defer catchUpMu.Unlock()
				d.catchUp(gen)
			})
		}
		d.subscribeOnce.Do(func() { close(d.subscribed) })
		if err == nil {
			d.health.answered()
			d.log.Debug("following the event stream", "index", index)
			dec := json.NewDecoder(body)
			for {
				var frame *streamFrame
				if frame, err = nextFrame(dec); err != nil {
					break
				}
				failures = -1
				index = max(index, frame.Index)
				d.handleBatch(frame.Events)
			}
			body.Close()
		}
		if d.ctx.Err() != nil {
			return
		}
		// A stream that delivered is followed again at once: Nomad ends
		// the subscription of a reader that fell behind its buffer, and
		// every moment without one is more to catch up. Failures in a
		// row wait longer and longer.
		var wait time.Duration
		if failures >= 0 {
			wait = d.backoff.delay(failures)
		}
		failures++
		if err != nil && transient(err) {
			// Said once, with the outage, rather than once a retry.
			d.health.failed(err)
		}
		d.log.Debug("the event stream ended; subscribing again", "index", index, "wait", wait, "error", err)
		select {
		case <-d.ctx.Done():
			return
		case <-d.clock.After(wait):
		}
	}
}

// handleBatch passes a batch of events to the attempts they concern, and
// moves each of those attempts on once the whole batch is taken. A batch
// is one change in Nomad's state: the plan that marks an allocation lost
// also places its replacement, and an attempt that judged the lost one
// alone would end without knowing that the replacement runs.
func (d *Driver) handleBatch(events []streamEvent) {
	touched := map[*attempt]bool{}
	var order []*attempt
	for i := range events {
		if a := d.handle(&events[i]); a != nil && !touched[a] {
			touched[a] = true
			order = append(order, a)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, a := range order {
		a.step()
	}
}

// handle passes one event to the attempt it concerns, if any, and
// returns the attempt when it took news of an allocation it has yet to
// move on after.
func (d *Driver) handle(ev *streamEvent) *attempt {
	switch ev.Topic {
	case api.TopicAllocation:
		if len(ev.FilterKeys) > 0 && !d.followsAny(ev.FilterKeys) {
			// Nomad lists an allocation's job ID among the event's filter
			// keys: other jobs' allocations are passed over undecoded.
			return nil
		}
		var p allocPayload
		if err := json.Unmarshal(ev.Payload, &p); err != nil || p.Allocation == nil {
			d.log.Debug("cannot read an allocation event", "key", ev.Key, "error", err)
			return nil
		}
		al := p.Allocation
		d.mu.Lock()
		defer d.mu.Unlock()
		if a := d.byJob[al.JobID]; a != nil && a.take(al.view()) {
			return a
		}
	case api.TopicJob:
		if ev.Type != jobDeregistered {
			return nil
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		if a := d.byJob[ev.Key]; a != nil {
			a.jobGone(ev.Index)
		}
	}
	return nil
}

// followsAny says whether any of the keys is the job of an attempt.
func (d *Driver) followsAny(keys []string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, k := range keys {
		if d.byJob[k] != nil {
			return true
		}
	}
	return false
}

// catchUpByListing is how many attempts make a catch-up list the
// experiment's jobs and allocations, two reads, rather than read each
// attempt's: thousands of reads one after the other would hold the new
// subscription unread until it fell behind again.
const catchUpByListing = 8

// catchUp reads the allocations and job of every attempt, once, after the
// stream is (re)established as subscription gen: events from before the
// subscription, or from while it was down, may never arrive. Allocations
// taken from a read never undo newer news from the stream (take keeps the
// latest modify index).
func (d *Driver) catchUp(gen uint64) {
	d.mu.Lock()
	var attempts []*attempt
	var regs []uint64
	for _, a := range d.byJob {
		// Nothing of a waiting submission was sent, and what Nomad does
		// with one sent since the subscription comes through it.
		if a.phase != phaseFinishing && a.phase != phaseWaiting && a.sentGen < gen {
			attempts = append(attempts, a)
			// Only a job read after the registration can say it is
			// gone.
			regs = append(regs, a.regIndex)
		}
	}
	d.mu.Unlock()
	if len(attempts) > catchUpByListing && d.catchUpListed(attempts, regs) {
		return
	}
	for i, a := range attempts {
		stubs, err := d.listJobAllocations(d.ctx, a.jobID)
		if err != nil {
			d.log.Warn("cannot read a trial job's allocations", "job", a.jobID, "error", err)
			continue
		}
		job, jobErr := d.readJob(d.ctx, a.jobID)
		d.mu.Lock()
		if jobErr == nil && regs[i] > 0 {
			a.checkJob(job)
		}
		a.caughtUp(stubs)
		d.mu.Unlock()
	}
}

// catchUpListed catches the attempts up from one listing of the
// experiment's jobs and one of their allocations; false when either
// cannot be read.
func (d *Driver) catchUpListed(attempts []*attempt, regs []uint64) bool {
	jobList, err := d.experimentJobs(d.ctx, d.exp.Name, false)
	if err != nil {
		d.log.Warn("cannot list the experiment's jobs", "error", err)
		return false
	}
	var allocs []*api.AllocationListStub
	err = d.retry(d.ctx, "list the experiment's allocations", func() error {
		q := d.queryOpts(d.ctx, map[string]string{"resources": "true", "task_states": "true"})
		// Narrows the listing to the experiment's jobs (and those of
		// experiments whose names start alike, which are passed over).
		q.Filter = fmt.Sprintf("JobID matches %q", "^"+jobIDPrefix(d.exp.Name))
		var err error
		allocs, _, err = d.client.Allocations().List(q)
		return err
	})
	if err != nil {
		d.log.Warn("cannot list the experiment's allocations", "error", err)
		return false
	}
	byJob := make(map[string]*api.JobListStub, len(jobList))
	for _, j := range jobList {
		byJob[j.ID] = j
	}
	allocsOf := map[string][]*api.AllocationListStub{}
	for _, al := range allocs {
		allocsOf[al.JobID] = append(allocsOf[al.JobID], al)
	}
	for i, a := range attempts {
		// The lock is taken attempt by attempt: held for thousands, it
		// would hold the stream's reader back as long.
		d.mu.Lock()
		if regs[i] > 0 {
			switch j := byJob[a.jobID]; {
			case j == nil:
				a.jobGone(math.MaxUint64)
			case j.Stop:
				a.jobGone(j.JobModifyIndex)
			}
		}
		a.caughtUp(allocsOf[a.jobID])
		d.mu.Unlock()
	}
	return true
}

// jobIDPrefix is what the job IDs of the experiment's trials start with
// (see jobs.JobID), or as much of it as every one of them does.
func jobIDPrefix(experiment string) string {
	prefix := "tune-" + experiment + "-"
	if !strings.HasPrefix(jobs.JobID(experiment, "0"), prefix) {
		// A long name is cut, and a hash added.
		return "tune-"
	}
	return prefix
}

// caughtUp takes the allocations read in a catch-up, all of them before
// the attempt moves on, as with a batch of events. The job is taken
// first (checkJob, jobGone), so allocations it stopped are not mistaken
// for ones Nomad stopped on its own. Called with d.mu held.
func (a *attempt) caughtUp(stubs []*api.AllocationListStub) {
	for _, s := range stubs {
		a.take(viewOfStub(s))
	}
	a.step()
}

// jobGone takes note of the job's deregistration at index. One tune did
// not ask for ends the attempt as stopped: nothing more of it will run,
// and whoever stopped it meant it to stop. Called with d.mu held.
func (a *attempt) jobGone(index uint64) {
	if !a.phase.registered() {
		a.goneAt = max(a.goneAt, index)
		return
	}
	if a.regIndex == 0 || index <= a.regIndex || a.phase.deregistering() {
		return
	}
	a.stoppedOutside()
	a.step()
}

// checkJob compares the job as read with the attempt's registration.
// Called with d.mu held.
func (a *attempt) checkJob(job *api.Job) {
	if !a.phase.registered() || a.regIndex == 0 {
		return
	}
	switch {
	case job == nil:
		a.jobGone(math.MaxUint64)
	case deref(job.Stop):
		a.jobGone(deref(job.JobModifyIndex))
	}
}

// stoppedOutside takes the job as stopped by someone other than this
// attempt. Called with d.mu held.
func (a *attempt) stoppedOutside() {
	a.outcome.decide(outcomeJobStopped, fmt.Sprintf("job %s was stopped in Nomad", a.jobID))
	a.phase = phaseStopped
}

// listJobAllocations lists a job's allocations; none when the job is gone.
func (d *Driver) listJobAllocations(ctx context.Context, jobID string) ([]*api.AllocationListStub, error) {
	var stubs []*api.AllocationListStub
	err := d.retry(ctx, "list job allocations", func() error {
		var err error
		stubs, _, err = d.client.Jobs().Allocations(jobID, true, d.queryOpts(ctx, nil))
		if notFound(err) {
			stubs = nil
			return nil
		}
		return err
	})
	return stubs, err
}
