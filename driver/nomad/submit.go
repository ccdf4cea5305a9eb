package nomad

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/hashicorp/nomad/api"
)

// Submissions run in the background, several at once, so that the
// controller hands an attempt over and goes back to its events: one at a
// time, in its loop, the dry run, the registration and their round trips
// bound a run to a few hundred trials a second, far below what a cluster
// of short trials needs to stay busy.

// submitters is how many submissions run at once within a connection
// budget: what is left after the log reads (logReaders) and the event
// stream, less one kept for stops, catch-up reads and rendezvous writes.
func submitters(maxConns int) int {
	if maxConns <= 0 {
		maxConns = DefaultMaxConns
	}
	return max(1, maxConns-logReaders(maxConns)-2)
}

// submitQueue holds the attempts waiting to be submitted, oldest first,
// and runs the workers that submit them, started with the first.
type submitQueue struct {
	workers int
	submit  func(*attempt)
	start   sync.Once

	mu      sync.Mutex
	ready   *sync.Cond
	waiting []*attempt
	// held says nothing more is handed out: the driver was interrupted.
	held   bool
	closed bool
}

func newSubmitQueue(workers int, submit func(*attempt)) *submitQueue {
	q := &submitQueue{workers: workers, submit: submit}
	q.ready = sync.NewCond(&q.mu)
	return q
}

// push queues an attempt for submission.
func (q *submitQueue) push(a *attempt) {
	q.start.Do(func() {
		for range q.workers {
			go q.work()
		}
	})
	q.mu.Lock()
	q.waiting = append(q.waiting, a)
	q.mu.Unlock()
	q.ready.Signal()
}

func (q *submitQueue) work() {
	for {
		a := q.next()
		if a == nil {
			return
		}
		q.submit(a)
	}
}

// next waits for an attempt to submit; nil once the queue is closed.
func (q *submitQueue) next() *attempt {
	q.mu.Lock()
	defer q.mu.Unlock()
	for (len(q.waiting) == 0 || q.held) && !q.closed {
		q.ready.Wait()
	}
	if q.closed {
		return nil
	}
	a := q.waiting[0]
	q.waiting[0] = nil
	q.waiting = q.waiting[1:]
	return a
}

// hold hands nothing more out; what waits stays until Stop or Close ends
// it.
func (q *submitQueue) hold() {
	q.mu.Lock()
	q.held = true
	q.mu.Unlock()
}

// close ends the workers.
func (q *submitQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.waiting = nil
	q.mu.Unlock()
	q.ready.Broadcast()
}

// submit plans and registers a queued attempt (see Start). Between its
// calls to Nomad it looks at the attempt again: one stopped meanwhile
// ends without registering anything, and an interrupt leaves it waiting,
// unsubmitted, for the Stop that follows. One stopped while its
// registration is in flight is deregistered once Nomad answers, as any
// registered attempt is.
func (d *Driver) submit(a *attempt) {
	select {
	case <-d.subscribed:
	case <-d.hurry.Done():
	}
	d.mu.Lock()
	if a.phase != phaseWaiting || d.isInterrupted() {
		// Stopped while it waited, or held by an interrupt.
		d.mu.Unlock()
		return
	}
	a.phase, a.sentGen = phaseRegistering, d.streamGen
	d.mu.Unlock()

	// Interrupted, a call that hangs is given up after the interrupt wait.
	ctx := d.hurry
	if d.needsDryRun(a) {
		// The dry run is made in both on_unfit modes: a job no node can
		// ever hold must not wait in Nomad's queue for ever either.
		unfit, err := d.place(ctx, a, a.free)
		if err != nil {
			d.notSubmitted(a, fmt.Errorf("trial %s attempt %d: %w", a.key.trialID, a.key.attempt, err))
			return
		}
		if unfit == nil || a.queue && !unfit.Never() {
			d.markPlaceable(a)
		}
		if unfit != nil && (unfit.Never() || !a.queue) {
			d.log.Debug("not registering a job Nomad would not place whole", "job", a.jobID, "reason", unfit.Reason(), "never", unfit.Never())
			d.mu.Lock()
			if unfit.Never() {
				a.outcome.decide(outcomeNeverPlaced, "no node of the cluster can ever hold it: "+unfit.Reason())
			} else {
				a.outcome.decide(outcomeUnplaced, unfit.Reason())
			}
			// Nothing was registered, so there is nothing to take back.
			a.endUnsubmitted()
			d.mu.Unlock()
			return
		}
	}
	if !d.proceed(a) {
		return
	}
	// The ranks of this attempt must not find the last one's rank 0.
	if err := d.clearRendezvous(ctx, a); err != nil {
		d.notSubmitted(a, fmt.Errorf("trial %s attempt %d: deleting the rendezvous variable %s of the last attempt (the token needs the variables capabilities write and destroy on nomad/jobs/*): %w", a.key.trialID, a.key.attempt, a.rendezvous, err))
		return
	}
	if !d.proceed(a) {
		return
	}
	index, evalID, err := d.register(ctx, a)
	if err != nil {
		d.notSubmitted(a, fmt.Errorf("trial %s attempt %d: registering job %s: %w", a.key.trialID, a.key.attempt, a.jobID, err))
		return
	}
	d.log.Debug("registered", "job", a.jobID, "trial", a.key.trialID, "attempt", a.key.attempt, "index", index)
	d.mu.Lock()
	a.evalID = evalID
	a.registered(index)
	d.mu.Unlock()
	go a.gangWatch()
}

// proceed says whether the submission of a goes on to its next call. One
// stopped meanwhile ends, nothing of it registered; an interrupted
// driver submits nothing more, and the attempt waits, unsubmitted, for
// Stop or Close to end it.
func (d *Driver) proceed(a *attempt) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case a.outcome.decided():
		a.endUnsubmitted()
		return false
	case d.isInterrupted():
		a.phase = phaseWaiting
		return false
	}
	return true
}

// notSubmitted ends an attempt whose submission failed, nothing of it
// registered, with the message the controller gives a trial that could
// not start; an interrupted one whose calls were given up ends stopped.
func (d *Driver) notSubmitted(a *attempt, err error) {
	d.log.Debug("trial did not start", "trial", a.key.trialID, "attempt", a.key.attempt, "error", err)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.hurry.Err() != nil {
		a.outcome.decide(outcomeStopped, "interrupted")
	}
	a.outcome.decide(outcomeFailed, "could not start: "+err.Error())
	a.endUnsubmitted()
}

// endUnsubmitted ends an attempt of which nothing was registered, its
// outcome decided. Called with d.mu held.
func (a *attempt) endUnsubmitted() {
	a.phase = phaseStopped
	a.registered(0)
}

// needsDryRun says whether the attempt's job must be planned before it is
// registered. Nomad places a job of one allocation whole or not at all,
// and the controller submits only what its snapshot of the cluster has
// room for, so once a job of the same placement key was planned
// placeable in this run, the plan could only say so again: the
// registration is made without it. A job of several allocations is
// always planned, for Nomad would place part of it.
func (d *Driver) needsDryRun(a *attempt) bool {
	if a.want != 1 {
		return true
	}
	// The pin is left out: the controller placed the trial where its
	// snapshot has room, and a pinned job Nomad cannot place is rolled
	// back (gangWatch); a job pinned to a node that did so lately is
	// planned, to fall back to its free job (see pinRefusals).
	if d.refusals.any(a.pins) {
		return true
	}
	key, err := placementKey(a.free)
	if err != nil {
		d.log.Debug("cannot key a job's placement; planning it", "job", a.jobID, "error", err)
		return true
	}
	a.placeKey = key
	d.placeableMu.Lock()
	defer d.placeableMu.Unlock()
	return !d.placeable[key]
}

// markPlaceable records that Nomad's dry run would place the attempt's
// job (or, with on_unfit = "queue", that some node could hold it).
func (d *Driver) markPlaceable(a *attempt) {
	if a.placeKey == "" {
		return
	}
	d.placeableMu.Lock()
	d.placeable[a.placeKey] = true
	d.placeableMu.Unlock()
}

// placementKey is the hash of everything in a job that Nomad's scheduler
// places it by: the job's datacenters, node pool, namespace, region,
// type, priority and constraints, and each group's count, constraints,
// networks, volumes and tasks with their drivers, resources and
// constraints. What a trial's values change and placement does not read
// is left out (the job's ID, name and meta, its UI block, and each task's
// config, environment, templates and meta), so the jobs of trials that
// ask for the same resources share a key. Anything not named here is
// kept: a field the list misses makes keys differ, never jobs that place
// differently share one.
func placementKey(job *api.Job) (string, error) {
	j := *job
	j.ID, j.Name, j.Meta, j.UI = nil, nil, nil, nil
	j.TaskGroups = make([]*api.TaskGroup, len(job.TaskGroups))
	for i, tg := range job.TaskGroups {
		g := *tg
		g.Meta = nil
		g.Tasks = make([]*api.Task, len(tg.Tasks))
		for k, t := range tg.Tasks {
			task := *t
			task.Config, task.Env, task.Templates, task.Meta = nil, nil, nil, nil
			g.Tasks[k] = &task
		}
		j.TaskGroups[i] = &g
	}
	b, err := json.Marshal(&j)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// evalOutcome is what Nomad made of a registration's evaluation.
type evalOutcome int

const (
	// evalPending: the scheduler has yet to finish it, or it cannot be
	// read now.
	evalPending evalOutcome = iota
	// evalPlaced: Nomad placed all of the job.
	evalPlaced
	// evalFailed: Nomad could not place all of the job; what it could not
	// place waits in a blocked evaluation.
	evalFailed
)

// evalOutcome reads the evaluation a registration made.
func (d *Driver) evalOutcome(evalID string) evalOutcome {
	var eval *api.Evaluation
	err := d.retry(d.ctx, "read evaluation", func() error {
		var err error
		eval, _, err = d.client.Evaluations().Info(evalID, d.queryOpts(d.ctx, nil))
		return err
	})
	switch {
	case err != nil:
		d.log.Debug("cannot read a registration's evaluation", "eval", evalID, "error", err)
		return evalPending
	case eval.Status != api.EvalStatusComplete:
		return evalPending
	case len(eval.FailedTGAllocs) > 0:
		return evalFailed
	}
	return evalPlaced
}
