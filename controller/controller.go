// Package controller runs an experiment: one event-driven loop that owns
// the state of every trial, admits trials while they fit the target and
// max_concurrent_trials allows, records their reports, applies the failure
// and stop policies, and reports progress.
//
// A target whose trials outlive tune (Nomad) may still run, or have ended,
// attempts of an earlier run that was killed: the loop adopts them before
// it admits anything, so that no trial runs twice.
//
// It is the only place that decides what runs when; drivers only start,
// stop and report. It must not sleep-and-poll: it waits on driver events,
// timers from its clock, and cancellation.
package controller

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nomad-tune/tune/clock"
	"github.com/nomad-tune/tune/driver"
	"github.com/nomad-tune/tune/experiment"
	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/results"
	"github.com/nomad-tune/tune/scheduler"
	"github.com/nomad-tune/tune/search"
)

// Options are the inputs of one run.
type Options struct {
	Experiment *experiment.Experiment
	// Trials are every trial of the experiment, in index order; their
	// records come from Store.
	Trials   []*planner.Trial
	Driver   driver.Driver
	Store    *results.Store
	Reporter Reporter
	Logger   hclog.Logger
	Clock    clock.Clock
	// Target names the target in summaries ("local", a Nomad address).
	Target string
	// QueueUnfit submits trials that do not fit the capacity snapshot
	// instead of holding them (on_unfit = "queue" on a target that queues
	// work, such as Nomad with its blocked evaluations); the target then
	// places them when it can, and max_concurrent_trials still applies.
	QueueUnfit bool
	// Refused are the trial shapes (by Shape.Key) the target's scheduler
	// says no node can ever hold, with its reason (planner.Capacity's
	// Refused, from Nomad's dry run): those trials are errors from the
	// start, in on_unfit = "queue" mode too.
	Refused map[string]string
	// ReplaceChanged runs again the trials whose attempt on the target was
	// made from another definition of them (driver.Existing.Changed), as
	// new attempts; without it Run refuses them with a *ChangedError
	// before anything is adopted or started.
	ReplaceChanged bool
	// TickEvery is how often the reporter gets a Tick; default 250ms.
	TickEvery time.Duration
	// SummaryEvery bounds how often experiment.json and trials.csv are
	// rewritten while trials finish; default 1s.
	SummaryEvery time.Duration
}

// Outcome is how a run ended.
type Outcome struct {
	// Status is "finished" (every trial is done), "stopped" (interrupted
	// or out of time budget: resumable) or "failed" (fail_fast).
	Status string
	// Message says why, for people.
	Message string
	Summary results.Summary
	// Best is the best finished trial by metric and mode, nil when none.
	Best *results.TrialRecord
	// Interrupted says trials were stopped before their end (an interrupt,
	// or a stop outside tune) and run again when the experiment resumes;
	// a spent time budget is an end, not an interruption.
	Interrupted bool
}

// Outcome statuses.
const (
	StatusFinished = "finished"
	StatusStopped  = "stopped"
	StatusFailed   = "failed"
)

// run is one attempt in flight.
type run struct {
	rec        *results.TrialRecord
	trial      *planner.Trial
	attempt    int
	assignment *planner.Assignment
	started    time.Time
	// stopping is set once Stop was asked; stopReason says why, and
	// success whether the trial counts as finished well (a stop rule or
	// its timeout) rather than interrupted.
	stopping   bool
	stopReason string
	success    bool
	warned     bool
}

// controller is the loop's state; only the loop touches it.
type controller struct {
	opts  Options
	exp   *experiment.Experiment
	log   hclog.Logger
	clock clock.Clock

	capacity *planner.Capacity
	// total is what the target has, which the summary sets the trials'
	// use of resources against.
	total   planner.Amounts
	records map[string]*results.TrialRecord
	trials  map[string]*planner.Trial
	order   []*results.TrialRecord

	// pending holds trial indices waiting to start, lowest first; a trial
	// waiting out its retry delay is in delayed instead.
	pending []int
	// waiting counts pending trials by shape.
	waiting map[*experiment.Shape]int
	delayed map[string]bool
	// unplaced counts the attempts of each trial the target rolled back.
	unplaced map[string]int
	// statusCount counts trials by status.
	statusCount map[results.Status]int
	running     map[string]*run
	// leftovers are attempts of trials whose outcome is already recorded
	// that the target still ran when this run began (tune died between
	// recording an attempt's end and stopping it): adopted only to be
	// stopped, they change no record, but the experiment is not over, and
	// their trial is not started again, until they have ended.
	leftovers map[string]*run
	// taken are the trials adoption dealt with, which initialise does not
	// queue again.
	taken map[string]bool
	// never says, for each shape checked, why it can never run here (nil
	// when it can).
	never map[*experiment.Shape]*planner.Unfit
	// ran holds the durations of each shape's attempts that ended well,
	// for the expected ends reservations need (reserve.go).
	ran map[*experiment.Shape]*durations
	// exhausted is set when an open-ended experiment generates no more
	// trials: its cap is reached, or a whole batch could never run.
	exhausted bool

	timers  timerHeap
	started time.Time
	// stopAll is set when the experiment is ending (interrupt, budget,
	// fail fast); no trial is admitted after it.
	stopAll bool
	status  string
	message string
	// interrupted is set once trials were stopped to be run again later.
	interrupted bool

	// admitCut says the last admission pass stopped at its budget.
	admitCut bool
	// unsaved are records of attempts that ended and are not yet persisted.
	unsaved     []*results.TrialRecord
	recent      []TrialView
	best        *results.TrialRecord
	lastSummary time.Time
	warnings    map[string]bool
	// sched stops trials early; nil when the experiment has no scheduler.
	sched scheduler.Scheduler
	// searcher chooses the values of trials marked Suggested as they are
	// admitted, and is told of every trial that ends (search.go).
	searcher search.Searcher
}

// Run runs the experiment until every trial is done, the time budget is
// spent, fail_fast trips, or ctx is cancelled (an interrupt: running trials
// are stopped and left to be run again on resume).
func Run(ctx context.Context, opts Options) (*Outcome, error) {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.TickEvery <= 0 {
		opts.TickEvery = 250 * time.Millisecond
	}
	if opts.SummaryEvery <= 0 {
		opts.SummaryEvery = time.Second
	}
	c := &controller{
		opts:     opts,
		exp:      opts.Experiment,
		log:      opts.Logger.Named("controller"),
		clock:    opts.Clock,
		records:  map[string]*results.TrialRecord{},
		trials:   map[string]*planner.Trial{},
		delayed:  map[string]bool{},
		unplaced: map[string]int{},
		running:  map[string]*run{},
		waiting:  map[*experiment.Shape]int{},

		leftovers: map[string]*run{},
		taken:     map[string]bool{},
		never:     map[*experiment.Shape]*planner.Unfit{},
		ran:       map[*experiment.Shape]*durations{},

		statusCount: map[results.Status]int{},
		warnings:    map[string]bool{},
	}
	capacity, err := opts.Driver.Capacity(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the target's capacity: %w", err)
	}
	c.capacity = capacity
	c.total = capacity.Total()
	for key, reason := range opts.Refused {
		if c.capacity.Refused == nil {
			c.capacity.Refused = map[string]string{}
		}
		c.capacity.Refused[key] = reason
	}
	if c.sched, err = scheduler.New(c.exp.Scheduler, c.exp.Metric, c.exp.Mode, len(opts.Trials)); err != nil {
		return nil, err
	}
	for _, t := range opts.Trials {
		c.trials[t.ID] = t
	}
	c.order = opts.Store.Records()
	for _, rec := range c.order {
		c.records[rec.ID] = rec
		c.statusCount[rec.Status]++
		if _, ok := c.trials[rec.ID]; !ok {
			return nil, fmt.Errorf("the results folder has trial %s, which the experiment does not", rec.ID)
		}
	}
	c.started = c.clock.Now()
	if err := c.initSearch(); err != nil {
		return nil, err
	}
	if err := c.adopt(ctx); err != nil {
		return nil, err
	}
	if err := c.replaySchedule(); err != nil {
		return nil, err
	}
	c.initialise()
	return c.loop(ctx)
}

// enqueue makes rec pending, or an error when its trial can never run on
// this target.
func (c *controller) enqueue(rec *results.TrialRecord) {
	t := c.trials[rec.ID]
	// A trial still to be suggested is checked when its values are.
	if _, checked := c.never[t.Shape]; !checked && !t.Suggested {
		c.never[t.Shape] = c.capacity.FitsEmpty(t.Shape, c.exp.Placement)
	}
	// With on_unfit = "queue" the target may yet grow to hold it,
	// unless its own scheduler refused it.
	if u := c.never[t.Shape]; u != nil && (!c.opts.QueueUnfit || u.Refused) && !t.Suggested {
		c.setStatus(rec, results.Error)
		rec.Error = fmt.Sprintf("can never run on %s: %s", c.opts.Target, u.Reason())
		c.persist(rec)
		return
	}
	c.setStatus(rec, results.Pending)
	c.pending = append(c.pending, rec.Index)
	c.wait(t.Shape)
}

// initialise queues the trials that are not done, and marks those that
// can never run on this target as errors up front: waiting for them would
// hang the experiment (the deadlock Ray Tune warns of).
func (c *controller) initialise() {
	for _, rec := range c.order {
		if rec.Status.Finished() || c.taken[rec.ID] {
			continue
		}
		c.enqueue(rec)
	}
	sort.Ints(c.pending)
	c.updateBest(nil)
	if b := c.exp.Stop.TimeBudget; b > 0 {
		c.addTimer(timer{at: c.started.Add(b), kind: timerBudget})
	}
}

func (c *controller) loop(ctx context.Context) (*Outcome, error) {
	events := c.opts.Driver.Events()
	tick := c.clock.After(c.opts.TickEvery)
	done := ctx.Done()
	c.extend()
	c.admit(ctx)
	for !c.finished() {
		var next <-chan time.Time
		if len(c.timers) > 0 {
			next = c.clock.After(max(0, c.timers[0].at.Sub(c.clock.Now())))
		}
		select {
		case ev, ok := <-events:
			if !ok {
				return c.outcome(), errors.New("the driver closed its event stream while trials were running")
			}
			c.handle(ctx, ev)
		case <-next:
			c.fireTimers(ctx)
		case <-tick:
			tick = c.clock.After(c.opts.TickEvery)
			if c.opts.Reporter != nil {
				c.opts.Reporter.Tick(c.snapshot())
			}
			c.maybeWriteSummary(false)
		case <-done:
			done = nil
			c.interrupt("interrupted")
		case <-c.moreToAdmit():
		}
		c.extend()
		c.admit(ctx)
		c.save()
	}
	c.save()
	out := c.outcome()
	if err := c.opts.Store.WriteSummary(out.Summary); err != nil {
		return out, fmt.Errorf("writing the experiment summary: %w", err)
	}
	if c.opts.Reporter != nil {
		c.opts.Reporter.Changed(Change{Time: c.clock.Now(), Kind: ExperimentDone, Message: out.Message}, c.snapshot())
		c.opts.Reporter.Done(c.snapshot())
	}
	return out, nil
}

// finished: nothing runs and nothing more will start.
func (c *controller) finished() bool {
	if len(c.running) > 0 || len(c.leftovers) > 0 {
		return false
	}
	return c.stopAll || (len(c.pending) == 0 && len(c.delayed) == 0)
}

// admit starts pending trials, lowest index first, while they fit and
// max_concurrent_trials allows. A trial that does not fit now waits, and
// trials behind it may start: any that fits with admission = "greedy" (as
// Ray Tune does); with "reserve", pending gangs are tried first, the head
// is the first gang (or, with no gang pending, the first trial) that does
// not fit, and any other trial starts only where the head's
// reservation admits it, so the head is never delayed (reserve.go). Shapes that did not fit (or were held back) are
// not tried again in the same pass, since capacity only shrinks within a
// pass.
func (c *controller) admit(ctx context.Context) {
	if c.stopAll || len(c.pending) == 0 {
		return
	}
	limit := c.exp.MaxConcurrentTrials
	noFit := map[*experiment.Shape]bool{}
	started := 0
	c.admitCut = false
	queue := c.pending
	c.pending = nil
	var kept []int
	// Reservations apply when trials are held until they fit, and only
	// while trials of more than one shape wait.
	reserve := c.exp.Admission == experiment.AdmissionReserve && !c.opts.QueueUnfit && len(c.waiting) > 1
	var pass passing
	if reserve {
		queue, pass.gangsFirst = c.gangsFirst(queue)
	}
	for i, idx := range queue {
		// Stop early when nothing more can start: the limit is reached or
		// every shape still waiting has already failed to fit.
		if started >= admitBudget {
			c.admitCut = true
		}
		if limit > 0 && len(c.running) >= limit || c.stopAll || len(noFit) == len(c.waiting) ||
			started >= admitBudget || ctx.Err() != nil {
			kept = append(kept, queue[i:]...)
			break
		}
		t := c.trials[c.order[idx].ID]
		if t.Suggested {
			// Values are suggested only for a trial that may start now, so
			// each sees every trial finished before it could start.
			if len(noFit) > 0 {
				kept = append(kept, queue[i:]...)
				break
			}
			if !c.suggest(c.order[idx], t) {
				continue
			}
		}
		if noFit[t.Shape] {
			kept = append(kept, idx)
			continue
		}
		a, unfit := c.capacity.Fit(t.Shape, c.exp.Placement)
		if unfit != nil && !c.opts.QueueUnfit {
			noFit[t.Shape] = true
			kept = append(kept, idx)
			if reserve && pass.head == nil && (!pass.gangsFirst || t.Shape.Allocs() > 1) {
				pass.head = t
			}
			continue
		}
		if reserve && !c.admits(&pass, t, a) {
			// It would delay the head; so would the rest of its shape.
			noFit[t.Shape] = true
			kept = append(kept, idx)
			continue
		}
		// With on_unfit = "queue", a trial that does not fit is submitted
		// all the same, holding nothing in the snapshot, for the target to
		// queue (a blocked evaluation an autoscaler acts on).
		c.unwait(t.Shape)
		started++
		if !c.start(ctx, c.order[idx], t, a) {
			c.wait(t.Shape)
			kept = append(kept, idx)
		}
	}
	// Trials requeued while admitting (a start that failed at once) join
	// the ones that waited.
	requeued := c.pending
	c.pending = append(kept, requeued...)
	switch {
	case len(requeued) > 0:
		sort.Ints(c.pending)
	case pass.gangsFirst:
		c.pending = mergeRuns(c.pending)
	}
	// An open-ended experiment whose every pending trial started
	// generates more at once, and goes round to start them while they fit.
	if started > 0 && len(c.pending) == 0 && c.exp.OpenEnded() {
		c.extend()
		c.admitCut = c.admitCut || len(c.pending) > 0
	}
}

// moreToAdmit is ready when the last admission pass stopped at its
// budget with trials still to start, so the loop goes round at once.
func (c *controller) moreToAdmit() <-chan struct{} {
	if !c.admitCut {
		return nil
	}
	return closedChan
}

var closedChan = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

// admitBudget bounds the starts of one admission pass, so that with
// thousands of trials that fit at once the loop still gets back to events,
// ticks and interrupts between passes; the next pass follows at once.
const admitBudget = 256

// wait and unwait count the pending trials of each shape, so admit knows
// when every waiting shape has been tried.
func (c *controller) wait(s *experiment.Shape) { c.waiting[s]++ }

func (c *controller) unwait(s *experiment.Shape) {
	if c.waiting[s]--; c.waiting[s] <= 0 {
		delete(c.waiting, s)
	}
}

// start launches an attempt; false means it was not launched and the trial
// is still pending.
func (c *controller) start(ctx context.Context, rec *results.TrialRecord, t *planner.Trial, a *planner.Assignment) bool {
	// A trial retried at once must have its last attempt saved (and its
	// files closed) before the next one opens them.
	if len(c.unsaved) > 0 {
		c.save()
	}
	now := c.clock.Now()
	attempt := rec.Attempts
	rec.Attempts++
	rec.Spec = c.specOf(t)
	// Submitted is not running: a job may wait in Nomad's queue. The
	// trial is RUNNING, and said to have started, once the target says
	// it runs (EventRunning).
	c.setStatus(rec, results.Pending)
	rec.Error, rec.StopReason = "", ""
	rec.Iterations, rec.LastResult = 0, nil
	rec.StartedAt, rec.FinishedAt = now, time.Time{}
	stdout, stderr, err := c.opts.Store.BeginAttempt(rec, attempt, now)
	if err != nil {
		// The results folder is broken: nothing can be recorded, so stop
		// the experiment rather than run trials whose results are lost.
		c.log.Error("cannot record the trial", "trial", rec.ID, "error", err)
		rec.Attempts--
		c.setStatus(rec, results.Pending)
		c.fail(fmt.Sprintf("cannot write results of trial %s: %v", rec.ID, err))
		return false
	}
	if a != nil {
		c.capacity.Commit(a)
	}
	rec.Begin(results.AttemptTimes{Attempt: attempt, AdmittedAt: now, Held: c.capacity.Held(a)})
	r := &run{rec: rec, trial: t, attempt: attempt, assignment: a, started: now}
	c.running[rec.ID] = r
	err = c.opts.Driver.Start(ctx, driver.StartRequest{
		Experiment: c.exp, Trial: t, Attempt: attempt, Assignment: a, Stdout: stdout, Stderr: stderr,
		Dir: filepath.Join(c.opts.Store.Dir(), rec.ID),
	})
	if err != nil && ctx.Err() != nil {
		// Interrupted while starting: no failure of the trial's; it runs
		// when the experiment resumes.
		r.stopping, r.stopReason = true, "interrupted"
		c.ended(r, driver.Event{Kind: driver.EventExited, TrialID: rec.ID, Attempt: attempt, Time: now, Stopped: true, ExitCode: -1, Message: "interrupted"})
		return true
	}
	if err != nil {
		c.log.Debug("trial did not start", "trial", rec.ID, "error", err)
		c.ended(r, driver.Event{Kind: driver.EventExited, TrialID: rec.ID, Attempt: attempt, Time: now, Failed: true, ExitCode: -1,
			Message: "could not start: " + err.Error(), CannotRun: driver.IsCannotRun(err)})
		return true
	}
	if d := c.exp.Stop.TrialTimeout; d > 0 {
		c.addTimer(timer{at: now.Add(d), kind: timerTrialTimeout, trialID: rec.ID, attempt: attempt})
	}
	return true
}

func (c *controller) handle(ctx context.Context, ev driver.Event) {
	if r, ok := c.leftovers[ev.TrialID]; ok && r.attempt == ev.Attempt {
		c.leftoverEvent(r, ev)
		return
	}
	r, ok := c.running[ev.TrialID]
	if !ok || r.attempt != ev.Attempt {
		c.log.Debug("event of an attempt that is not running", "trial", ev.TrialID, "attempt", ev.Attempt, "kind", ev.Kind)
		return
	}
	switch ev.Kind {
	case driver.EventRunning:
		c.log.Trace("trial running", "trial", ev.TrialID)
		c.recordStages(r, ev)
		if r.rec.Status == results.Pending && !r.stopping {
			c.setStatus(r.rec, results.Running)
			c.notify(TrialStarted, r.rec, "")
		}
	case driver.EventReport:
		if ev.Rank != 0 {
			// A distributed trial's results are its rank 0's, as in Ray
			// Train; other ranks' lines stay in the log.
			return
		}
		if r.stopping {
			return
		}
		if _, err := c.opts.Store.Report(r.rec, ev.Metrics, ev.Time); err != nil {
			c.log.Error("cannot record a result", "trial", ev.TrialID, "error", err)
			c.fail(fmt.Sprintf("cannot write results of trial %s: %v", ev.TrialID, err))
			return
		}
		c.updateBest(r.rec)
		c.notify(TrialReported, r.rec, "")
		c.checkMetric(r.rec)
		// The scheduler sees every report, even one a stop rule ends the
		// trial at: its rungs rank the trials that reached them.
		reason := c.schedule(r.rec)
		if rule := c.stopRule(r.rec.LastResult); rule != "" {
			reason = rule
		}
		if reason != "" {
			c.stop(ctx, r, reason, true)
		}
	case driver.EventWarning:
		key := ev.TrialID + "\x00" + ev.Message
		if !r.warned && !c.warnings[key] {
			r.warned = true
			c.warnings[key] = true
			c.notify(Warning, r.rec, fmt.Sprintf("trial %s: %s (see its stdout.log)", ev.TrialID, ev.Message))
		}
	case driver.EventExited:
		if ev.Stopped && !r.stopping {
			// Someone stopped the trial outside tune (tune stop, nomad job
			// stop): they mean the experiment to stop, not this trial to
			// be run again at once. Stop it all, resumable.
			c.interrupt("stopped outside tune: " + ev.Message)
		}
		c.ended(r, ev)
	}
}

// recordStages records when the attempt was registered, placed and began to run,
// as its driver says.
func (c *controller) recordStages(r *run, ev driver.Event) {
	h := r.rec.Latest()
	if h == nil || h.Attempt != r.attempt || !h.RunningAt.IsZero() {
		return
	}
	h.RegisteredAt, h.PlacedAt, h.RunningAt = ev.Registered, ev.Placed, ev.Time
	if h.RunningAt.IsZero() {
		h.RunningAt = c.clock.Now()
	}
}

func (c *controller) requeue(rec *results.TrialRecord) {
	c.wait(c.trials[rec.ID].Shape)
	i := sort.SearchInts(c.pending, rec.Index)
	c.pending = append(c.pending, 0)
	copy(c.pending[i+1:], c.pending[i:])
	c.pending[i] = rec.Index
}

// stopRule returns why the result meets a stop condition, or "".
func (c *controller) stopRule(row map[string]any) string {
	for _, k := range sortedKeys(c.exp.Stop.AtLeast) {
		if v, ok := number(row[k]); ok && v >= c.exp.Stop.AtLeast[k] {
			return fmt.Sprintf("%s >= %s", k, experiment.FormatNumber(c.exp.Stop.AtLeast[k]))
		}
	}
	for _, k := range sortedKeys(c.exp.Stop.AtMost) {
		if v, ok := number(row[k]); ok && v <= c.exp.Stop.AtMost[k] {
			return fmt.Sprintf("%s <= %s", k, experiment.FormatNumber(c.exp.Stop.AtMost[k]))
		}
	}
	return ""
}

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, !math.IsNaN(x)
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	}
	return 0, false
}

// stop asks the driver to end an attempt; its Exited event settles it.
func (c *controller) stop(ctx context.Context, r *run, reason string, success bool) {
	if r.stopping {
		return
	}
	r.stopping, r.stopReason, r.success = true, reason, success
	if err := c.opts.Driver.Stop(ctx, r.rec.ID, r.attempt, reason); err != nil {
		c.log.Warn("cannot stop a trial", "trial", r.rec.ID, "error", err)
	}
}

// interrupt stops every running trial so that a resume runs them again.
func (c *controller) interrupt(reason string) {
	c.interrupted = true
	if c.status == "" {
		c.status, c.message = StatusStopped, reason+"; run tune apply again to resume"
	}
	c.stopAll = true
	for _, r := range c.sortedRuns() {
		// A fresh context: the run's own may be the one cancelled.
		c.stop(context.Background(), r, reason, false)
	}
}

// fail ends the experiment because of fail_fast or a broken results folder.
func (c *controller) fail(message string) {
	if c.status == "" || c.status == StatusStopped {
		c.status, c.message = StatusFailed, message
	}
	c.stopAll = true
	for _, r := range c.sortedRuns() {
		c.stop(context.Background(), r, "the experiment failed", false)
	}
}

func (c *controller) sortedRuns() []*run {
	runs := make([]*run, 0, len(c.running))
	for _, r := range c.running {
		runs = append(runs, r)
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].rec.Index < runs[j].rec.Index })
	return runs
}

// updateBest keeps the best trial so far by the experiment's metric. A
// trial that was best and got worse forces a full recount.
func (c *controller) updateBest(rec *results.TrialRecord) {
	if c.exp.Metric == "" {
		return
	}
	if rec == nil || rec == c.best {
		c.best = nil
		for _, r := range c.order {
			if c.better(r, c.best) {
				c.best = r
			}
		}
		return
	}
	if c.better(rec, c.best) {
		c.best = rec
	}
}

func (c *controller) better(a, b *results.TrialRecord) bool {
	av, ok := results.MetricValue(a.LastResult, c.exp.Metric)
	if !ok {
		return false
	}
	if b == nil {
		return true
	}
	bv, ok := results.MetricValue(b.LastResult, c.exp.Metric)
	if !ok {
		return true
	}
	if av == bv {
		return a.Index < b.Index
	}
	if c.exp.Mode == experiment.ModeMax {
		return av > bv
	}
	return av < bv
}

// save persists the records of ended attempts.
func (c *controller) save() {
	for _, rec := range c.unsaved {
		c.persist(rec)
	}
	c.unsaved = c.unsaved[:0]
}

func (c *controller) persist(rec *results.TrialRecord) {
	if err := c.opts.Store.EndAttempt(rec); err != nil {
		c.log.Error("cannot record a trial", "trial", rec.ID, "error", err)
	}
}

// setStatus is the one place a trial's status changes, so the counts stay
// right without a pass over every trial.
func (c *controller) setStatus(rec *results.TrialRecord, s results.Status) {
	c.statusCount[rec.Status]--
	rec.Status = s
	c.statusCount[s]++
}

func (c *controller) counts() map[results.Status]int {
	counts := make(map[results.Status]int, len(c.statusCount))
	for s, n := range c.statusCount {
		if n != 0 {
			counts[s] = n
		}
	}
	return counts
}

func (c *controller) maybeWriteSummary(force bool) {
	now := c.clock.Now()
	if !force && now.Sub(c.lastSummary) < c.opts.SummaryEvery {
		return
	}
	c.lastSummary = now
	if err := c.opts.Store.WriteSummary(c.summary("running")); err != nil {
		c.log.Error("cannot write the experiment summary", "error", err)
	}
}

func (c *controller) summary(status string) results.Summary {
	s := results.Summary{
		Name:      c.exp.Name,
		File:      c.exp.Filename,
		Metric:    c.exp.Metric,
		Mode:      string(c.exp.Mode),
		Seed:      c.exp.Seed,
		Status:    status,
		Counts:    c.counts(),
		NumTrials: len(c.order),
		StartedAt: c.started,
		UpdatedAt: c.clock.Now(),
		Target:    c.opts.Target,
		// A pass over every attempt, at most once per SummaryEvery.
		Scheduling: results.Measure(c.order, c.total, c.clock.Now()),
	}
	if best := results.Best(c.order, c.exp.Metric, string(c.exp.Mode)); best != nil {
		s.BestTrial, s.BestResult, s.BestParams = best.ID, best.LastResult, best.Params
	}
	return s
}

func (c *controller) outcome() *Outcome {
	status, message := c.status, c.message
	if status == "" {
		status = StatusFinished
		counts := c.counts()
		message = fmt.Sprintf("finished: %s terminated, %d errored", experiment.Count(counts[results.Terminated], "trial"), counts[results.Error])
	}
	out := &Outcome{Status: status, Message: message, Summary: c.summary(status), Interrupted: c.interrupted}
	out.Best = results.Best(c.order, c.exp.Metric, string(c.exp.Mode))
	return out
}
