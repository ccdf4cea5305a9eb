package nomadsim

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/nomad/api"
)

const (
	taskStatePending = "pending"
	taskStateRunning = "running"
	taskStateDead    = "dead"

	taskMainDead = "Main Tasks Dead"
	// maxTaskEvents is how many events a task state keeps, as Nomad's
	// client keeps.
	maxTaskEvents = 10
	// maxKillTimeout is the client's max_kill_timeout default.
	maxKillTimeout = 30 * time.Second
)

// clients are the simulated Nomad clients: one allocation runner per
// placed allocation, wherever it was placed.
type clients struct {
	sim     *Sim
	mu      sync.Mutex
	runners map[string]*allocRunner
	closed  bool
	wg      sync.WaitGroup
}

func newClients(s *Sim) *clients {
	return &clients{sim: s, runners: map[string]*allocRunner{}}
}

// start runs a newly placed allocation, as its node's client would on
// pulling it.
func (c *clients) start(rec *allocRecord) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.runners[rec.alloc.ID] != nil {
		return
	}
	ar := newAllocRunner(c.sim, rec.alloc, rec.node.node)
	c.runners[rec.alloc.ID] = ar
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		ar.run()
	}()
}

func (c *clients) get(id string) *allocRunner {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.runners[id]
}

// stop kills an allocation the server stopped.
func (c *clients) stop(id string) {
	if ar := c.get(id); ar != nil {
		ar.stop()
	}
}

// abandon ends an allocation whose node is gone: its tasks stop and it
// reports nothing more.
func (c *clients) abandon(id string) {
	if ar := c.get(id); ar != nil {
		ar.abandon()
	}
}

func (c *clients) logFile(allocID, task, typ string) *logFile {
	ar := c.get(allocID)
	if ar == nil {
		return nil
	}
	tr := ar.byName[task]
	if tr == nil {
		return nil
	}
	if typ == "stderr" {
		return tr.stderr
	}
	return tr.stdout
}

func (c *clients) closeAll() {
	c.mu.Lock()
	c.closed = true
	runners := make([]*allocRunner, 0, len(c.runners))
	for _, ar := range c.runners {
		runners = append(runners, ar)
	}
	c.mu.Unlock()
	for _, ar := range runners {
		ar.abandon()
	}
	done := make(chan struct{})
	go func() {
		c.wg.Wait()
		close(done)
	}()
	// Local processes get their kill signal; waiting for every one to exit
	// would let a task that ignores signals hold Close up.
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}

// allocRunner runs one allocation's tasks through their lifecycle and
// reports their states to the server, as a Nomad client's alloc runner.
type allocRunner struct {
	sim     *Sim
	alloc   *api.Allocation
	tg      *api.TaskGroup
	node    *api.Node
	jobType string

	tasks  []*taskRunner
	byName map[string]*taskRunner

	mu             sync.Mutex
	killing        bool
	stopped        bool
	abandoned      bool
	maxRunExceeded bool
	mainStarted    bool
	postStarted    bool
	stopStarted    bool
	sidecarsKilled bool

	changed   chan struct{}
	abandonCh chan struct{}
	finished  chan struct{}
	pubMu     sync.Mutex
}

func newAllocRunner(s *Sim, a *api.Allocation, node *api.Node) *allocRunner {
	ar := &allocRunner{
		sim: s, alloc: a, tg: a.Job.LookupTaskGroup(a.TaskGroup), node: node, jobType: *a.Job.Type,
		byName: map[string]*taskRunner{}, changed: make(chan struct{}, 1), abandonCh: make(chan struct{}), finished: make(chan struct{}),
	}
	for _, t := range ar.tg.Tasks {
		tr := &taskRunner{
			ar: ar, task: t,
			state:  &api.TaskState{State: taskStatePending},
			killCh: make(chan struct{}), done: make(chan struct{}),
			stdout: newLogFile(t.Name, "stdout", t.LogConfig),
			stderr: newLogFile(t.Name, "stderr", t.LogConfig),
		}
		ar.tasks = append(ar.tasks, tr)
		ar.byName[t.Name] = tr
	}
	return ar
}

// phase says when a task runs: prestart, main, poststart or poststop.
func (tr *taskRunner) phase() string {
	if tr.task.Lifecycle == nil {
		return "main"
	}
	return tr.task.Lifecycle.Hook
}

func (tr *taskRunner) sidecar() bool {
	return tr.task.Lifecycle != nil && tr.task.Lifecycle.Sidecar
}

func (ar *allocRunner) notify() {
	select {
	case ar.changed <- struct{}{}:
	default:
	}
}

func (ar *allocRunner) run() {
	defer close(ar.finished)
	now := ar.sim.clock.Now()
	ar.mu.Lock()
	for _, tr := range ar.tasks {
		next := tr.nextState()
		appendEvent(next, newTaskEvent(api.TaskReceived, now, "Task received by client"))
		tr.state = next
	}
	ar.mu.Unlock()
	ar.publish()

	if d := ar.tg.MaxRunDuration; d != nil && *d > 0 && (ar.jobType == api.JobTypeBatch || ar.jobType == api.JobTypeSysbatch) {
		deadline := time.Unix(0, ar.alloc.CreateTime).Add(*d)
		go func() {
			select {
			case <-ar.sim.clock.After(deadline.Sub(ar.sim.clock.Now())):
				ar.expire()
			case <-ar.finished:
			}
		}()
	}

	ar.mu.Lock()
	hasPrestart := false
	for _, tr := range ar.tasks {
		if tr.phase() == api.TaskLifecycleHookPrestart {
			hasPrestart = true
			tr.launch()
		}
	}
	if !hasPrestart {
		ar.startPhase("main")
		ar.mainStarted = true
	}
	ar.mu.Unlock()

	for {
		select {
		case <-ar.changed:
		case <-ar.abandonCh:
			return
		}
		ar.mu.Lock()
		finished := ar.step()
		ar.mu.Unlock()
		if finished {
			ar.publish()
			return
		}
	}
}

func (ar *allocRunner) startPhase(phase string) {
	for _, tr := range ar.tasks {
		if tr.phase() == phase {
			tr.launch()
		}
	}
}

// step moves the lifecycle on after a task state change; it says whether
// every task has finished. The lock is held.
func (ar *allocRunner) step() bool {
	var failed string
	leaderDead := false
	for _, tr := range ar.tasks {
		if tr.phase() == api.TaskLifecycleHookPoststop || tr.state.State != taskStateDead {
			continue
		}
		if tr.state.Failed && failed == "" {
			failed = tr.task.Name
		} else if tr.task.Leader {
			leaderDead = true
		}
	}
	switch {
	case failed != "" && !ar.killing:
		ev := newTaskEvent(api.TaskSiblingFailed, ar.sim.clock.Now(), fmt.Sprintf("Task's sibling %q failed", failed))
		ev.FailedSibling = failed
		ev.Details["failed_sibling"] = failed
		ar.killAll(ev, "")
	case leaderDead && !ar.killing:
		ar.killAll(newTaskEvent(api.TaskLeaderDead, ar.sim.clock.Now(), "Leader Task in Group dead"), "")
	}

	if !ar.mainStarted && !ar.killing {
		ready := true
		for _, tr := range ar.tasks {
			if tr.phase() != api.TaskLifecycleHookPrestart {
				continue
			}
			if tr.sidecar() {
				ready = ready && tr.state.State == taskStateRunning
			} else {
				ready = ready && tr.state.State == taskStateDead && !tr.state.Failed
			}
		}
		if ready {
			ar.mainStarted = true
			ar.startPhase("main")
		}
	}
	mainAll := func(state string) bool {
		for _, tr := range ar.tasks {
			if tr.phase() == "main" && tr.state.State != state {
				return false
			}
		}
		return true
	}
	if ar.mainStarted && !ar.postStarted && !ar.killing && mainAll(taskStateRunning) {
		ar.postStarted = true
		ar.startPhase(api.TaskLifecycleHookPoststart)
	}

	mainDone := (ar.mainStarted || ar.killing) && mainAll(taskStateDead)
	if mainDone && !ar.sidecarsKilled {
		ar.sidecarsKilled = true
		var live []*taskRunner
		for _, tr := range ar.tasks {
			if tr.phase() != api.TaskLifecycleHookPoststop && tr.state.State != taskStateDead {
				live = append(live, tr)
			}
		}
		if len(live) > 0 {
			ev := newTaskEvent(taskMainDead, ar.sim.clock.Now(), "Main tasks in the group died")
			for _, tr := range live {
				ar.killTask(tr, ev, "")
			}
		}
	}
	othersDead := true
	for _, tr := range ar.tasks {
		if tr.phase() != api.TaskLifecycleHookPoststop && tr.state.State != taskStateDead {
			othersDead = false
		}
	}
	if othersDead && !ar.stopStarted {
		ar.stopStarted = true
		for _, tr := range ar.tasks {
			if tr.phase() != api.TaskLifecycleHookPoststop {
				continue
			}
			if ar.maxRunExceeded || ar.abandoned {
				ar.finishUnstarted(tr, nil)
			} else {
				tr.launch()
			}
		}
	}
	for _, tr := range ar.tasks {
		if tr.state.State != taskStateDead {
			return false
		}
	}
	return true
}

// killAll kills every live task, and marks those not yet started dead, as
// Nomad's killTasks does; reason is the event explaining why (nil for a
// stop from the server).
func (ar *allocRunner) killAll(reason *api.TaskEvent, display string) {
	ar.killing = true
	// The leader goes first, as Nomad kills it first.
	for _, lead := range []bool{true, false} {
		for _, tr := range ar.tasks {
			if tr.task.Leader != lead || tr.state.State == taskStateDead {
				continue
			}
			if tr.phase() == api.TaskLifecycleHookPoststop && !ar.maxRunExceeded {
				continue
			}
			if !tr.launched {
				ar.finishUnstarted(tr, reason)
				continue
			}
			ar.killTask(tr, reason, display)
		}
	}
	ar.notify()
}

func (ar *allocRunner) killTask(tr *taskRunner, reason *api.TaskEvent, display string) {
	now := ar.sim.clock.Now()
	next := tr.nextState()
	if reason != nil {
		ev := *reason
		ev.Details = cloneMap(reason.Details)
		appendEvent(next, &ev)
	}
	timeout := min(deref(tr.task.KillTimeout), maxKillTimeout)
	ev := newTaskEvent(api.TaskKilling, now, fmt.Sprintf("Sent interrupt. Waiting %v before force killing", timeout))
	if display != "" {
		ev.DisplayMessage = display
	}
	ev.KillTimeout = timeout
	ev.Details["kill_timeout"] = timeout.String()
	appendEvent(next, ev)
	tr.state = next
	tr.kill()
	go ar.publish()
}

// finishUnstarted marks a task that never ran dead.
func (ar *allocRunner) finishUnstarted(tr *taskRunner, reason *api.TaskEvent) {
	tr.launched = true
	next := tr.nextState()
	if reason != nil {
		ev := *reason
		ev.Details = cloneMap(reason.Details)
		appendEvent(next, &ev)
	}
	next.State = taskStateDead
	next.FinishedAt = ar.sim.clock.Now()
	tr.state = next
	close(tr.done)
	go ar.publish()
}

func (ar *allocRunner) stop() {
	ar.mu.Lock()
	defer ar.mu.Unlock()
	if ar.stopped || ar.abandoned {
		return
	}
	ar.stopped = true
	if !ar.killing {
		ar.killAll(nil, "")
	}
}

// expire ends the allocation when max_run_duration has passed since it
// was created, as Nomad 2.0.3+ does: its tasks are killed and it
// completes with "allocation exceeded max_run_duration".
func (ar *allocRunner) expire() {
	ar.mu.Lock()
	defer ar.mu.Unlock()
	if ar.abandoned || ar.killing {
		return
	}
	done := true
	for _, tr := range ar.tasks {
		if tr.state.State != taskStateDead {
			done = false
		}
	}
	if done {
		return
	}
	ar.maxRunExceeded = true
	ar.killAll(nil, descMaxRunDuration)
}

func (ar *allocRunner) abandon() {
	ar.mu.Lock()
	if ar.abandoned {
		ar.mu.Unlock()
		return
	}
	ar.abandoned = true
	ar.killing = true
	close(ar.abandonCh)
	for _, tr := range ar.tasks {
		if tr.launched {
			tr.kill()
		}
	}
	ar.mu.Unlock()
}

// publish sends the task states and the client status they imply to the
// server, in order: a later publish always carries later states.
func (ar *allocRunner) publish() {
	ar.pubMu.Lock()
	defer ar.pubMu.Unlock()
	ar.mu.Lock()
	if ar.abandoned {
		ar.mu.Unlock()
		return
	}
	states := make(map[string]*api.TaskState, len(ar.tasks))
	for _, tr := range ar.tasks {
		states[tr.task.Name] = tr.state
	}
	status, desc := clientStatus(states)
	if ar.maxRunExceeded {
		status, desc = api.AllocClientStatusComplete, descMaxRunDuration
		for _, ts := range states {
			if ts.State != taskStateDead {
				status, desc = api.AllocClientStatusRunning, "Tasks are running"
			}
		}
	}
	ar.mu.Unlock()
	ar.sim.clientUpdate(ar.alloc.ID, states, status, desc)
}

// clientStatus is Nomad's getClientStatus.
func clientStatus(states map[string]*api.TaskState) (string, string) {
	var pending, running, dead, failed bool
	for _, s := range states {
		switch s.State {
		case taskStateRunning:
			running = true
		case taskStatePending:
			pending = true
		case taskStateDead:
			if s.Failed {
				failed = true
			} else {
				dead = true
			}
		}
	}
	switch {
	case failed:
		return api.AllocClientStatusFailed, "Failed tasks"
	case running:
		return api.AllocClientStatusRunning, "Tasks are running"
	case pending:
		return api.AllocClientStatusPending, "No tasks have started"
	case dead:
		return api.AllocClientStatusComplete, "All tasks have completed"
	}
	return "", ""
}

// clientUpdate stores what a client reports about an allocation; a
// failed allocation that may be rescheduled gets an alloc-failure
// evaluation in the same write, as Nomad's Node.UpdateAlloc creates it.
func (s *Sim) clientUpdate(allocID string, states map[string]*api.TaskState, status, desc string) {
	st := s.st
	st.lock()
	defer st.unlock()
	rec := st.allocs[allocID]
	if rec == nil || rec.node.node.Status == api.NodeStatusDown || rec.alloc.ClientStatus == api.AllocClientStatusLost {
		return
	}
	prev := rec.alloc
	st.write(evAllocUpdated, func(tx *txn) error {
		a := *prev
		a.TaskStates = states
		a.ClientStatus = status
		a.ClientDescription = desc
		a.ModifyTime = tx.now.UnixNano()
		if clientTerminal(&a) {
			// A terminal allocation has every task's finish time, which
			// its reschedule delay counts from.
			for name, ts := range a.TaskStates {
				if ts.FinishedAt.IsZero() {
					c := *ts
					c.FinishedAt = tx.now
					a.TaskStates = cloneMap(a.TaskStates)
					a.TaskStates[name] = &c
				}
			}
		}
		tx.putAlloc(rec, &a)
		if status == api.AllocClientStatusFailed && prev.ClientStatus != api.AllocClientStatusFailed &&
			a.DesiredStatus == api.AllocDesiredStatusRun && a.FollowupEvalID == "" {
			if j := st.jobs[rec.key]; j != nil && !*j.job.Stop && rescheduleEligible(rec, tx.now) {
				e := tx.newEval(rec.key, *j.job.Priority, *j.job.Type, triggerAllocFailure)
				e.JobModifyIndex = *j.job.JobModifyIndex
				tx.putEval(e)
			}
		}
		return nil
	})
}

// taskRunner runs one task: setup, the driver, exits and restarts.
type taskRunner struct {
	ar       *allocRunner
	task     *api.Task
	state    *api.TaskState // replaced, never changed in place; guarded by ar.mu
	launched bool
	killOnce sync.Once
	killCh   chan struct{}
	done     chan struct{}
	stdout   *logFile
	stderr   *logFile
}

// nextState is a copy of the task's state to change: published states
// are shared with the server and never changed in place.
func (tr *taskRunner) nextState() *api.TaskState {
	next := *tr.state
	next.Events = append([]*api.TaskEvent(nil), tr.state.Events...)
	return &next
}

func (tr *taskRunner) launch() {
	if tr.launched {
		return
	}
	tr.launched = true
	go tr.run()
}

func (tr *taskRunner) kill() { tr.killOnce.Do(func() { close(tr.killCh) }) }

func (tr *taskRunner) killed() bool {
	select {
	case <-tr.killCh:
		return true
	default:
		return false
	}
}

// update changes the task's state under the alloc runner's lock, then
// publishes it and wakes the alloc runner.
func (tr *taskRunner) update(fn func(ts *api.TaskState), events ...*api.TaskEvent) {
	ar := tr.ar
	ar.mu.Lock()
	next := tr.nextState()
	for _, ev := range events {
		appendEvent(next, ev)
		if ev.FailsTask {
			next.Failed = true
		}
	}
	if fn != nil {
		fn(next)
	}
	tr.state = next
	ar.mu.Unlock()
	ar.publish()
	ar.notify()
}

func (tr *taskRunner) event(ev *api.TaskEvent) { tr.update(nil, ev) }

func (tr *taskRunner) run() {
	defer close(tr.done)
	ar := tr.ar
	sim := ar.sim
	clock := sim.clock
	policy := tr.task.RestartPolicy
	if policy == nil {
		policy = ar.tg.RestartPolicy
	}
	tracker := newRestartTracker(clock, sim.jitter, policy, ar.jobType, tr.task.Lifecycle)

	var start *taskStart
	drv := driverFor(tr.task.Driver)
	for !tr.killed() {
		if start == nil {
			tr.event(setupEvent(clock.Now()))
			var err error
			start, err = tr.prepare()
			if err != nil {
				ev := newTaskEvent(api.TaskSetupFailure, clock.Now(), err.Error())
				ev.SetupError = err.Error()
				ev.Details["setup_error"] = err.Error()
				tr.event(ev)
				tracker.setStartError(err, false)
			}
		}
		if start != nil && drv == nil {
			err := fmt.Errorf("driver %q is not available on this client", tr.task.Driver)
			tr.event(driverFailure(clock.Now(), err))
			tracker.setStartError(err, false)
		} else if start != nil {
			tr.attempt(drv, start, tracker)
		}
		state, delay := tracker.state()
		switch state {
		case api.TaskKilled:
			tr.event(newTaskEvent(api.TaskKilled, clock.Now(), "Task successfully killed"))
		case api.TaskNotRestarting:
			ev := newTaskEvent(api.TaskNotRestarting, clock.Now(), tracker.reason)
			ev.RestartReason, ev.FailsTask = tracker.reason, true
			ev.Details["restart_reason"], ev.Details["fails_task"] = tracker.reason, "true"
			tr.update(func(ts *api.TaskState) { ts.State = taskStateDead }, ev)
		case api.TaskRestarting:
			ev := newTaskEvent(api.TaskRestarting, clock.Now(), restartMessage(tracker.reason, delay))
			ev.StartDelay, ev.RestartReason = int64(delay), tracker.reason
			ev.Details["start_delay"], ev.Details["restart_reason"] = strconv.FormatInt(int64(delay), 10), tracker.reason
			now := clock.Now()
			tr.update(func(ts *api.TaskState) {
				ts.State = taskStatePending
				ts.Restarts++
				ts.LastRestart = now
			}, ev)
			select {
			case <-clock.After(delay):
				continue
			case <-tr.killCh:
			}
		}
		if state != api.TaskRestarting || tr.killed() {
			break
		}
	}
	tr.update(func(ts *api.TaskState) {
		ts.State = taskStateDead
		ts.FinishedAt = clock.Now()
	})
}

// attempt starts the task once and waits for it to end or be killed,
// telling the restart tracker how it went.
func (tr *taskRunner) attempt(drv driver, start *taskStart, tracker *restartTracker) {
	clock := tr.ar.sim.clock
	h, err := drv.start(start)
	if err != nil {
		var se *startError
		recoverable := errors.As(err, &se) && se.recoverable
		tr.event(driverFailure(clock.Now(), err))
		tracker.setStartError(err, recoverable)
		return
	}
	now := clock.Now()
	tr.update(func(ts *api.TaskState) {
		ts.State = taskStateRunning
		if ts.StartedAt.IsZero() {
			ts.StartedAt = now
		}
	}, newTaskEvent(api.TaskStarted, now, "Task started by client"))
	var res *exitResult
	killed := false
	select {
	case res = <-h.wait():
	case <-tr.killCh:
		killed = true
		signal, timeout := tr.task.KillSignal, min(deref(tr.task.KillTimeout), maxKillTimeout)
		tr.ar.mu.Lock()
		if tr.ar.abandoned {
			// The node is gone or the simulator is closing: nothing waits
			// for a graceful exit.
			signal, timeout = "SIGKILL", 0
		}
		tr.ar.mu.Unlock()
		h.kill(signal, timeout)
		res = <-h.wait()
	}
	tr.event(terminatedEvent(clock.Now(), res))
	if killed {
		tracker.setKilled()
	} else {
		tracker.setExit(res)
	}
}

// prepare builds the task's directories, environment and templates.
func (tr *taskRunner) prepare() (*taskStart, error) {
	ar := tr.ar
	if len(tr.task.Artifacts) > 0 {
		return nil, errors.New("failed to download artifacts: the simulator does not fetch artifacts")
	}
	local := tr.task.Driver == "raw_exec" || tr.task.Driver == "exec"
	dirs := newTaskDirs(ar.sim.allocRoot, ar.alloc.ID, tr.task.Name)
	if local {
		if err := dirs.create(); err != nil {
			return nil, fmt.Errorf("failed to build task directory: %v", err)
		}
	}
	env, attrs, err := tr.render(dirs, local)
	if err != nil {
		return nil, err
	}
	return &taskStart{
		clock:       ar.sim.clock,
		config:      tr.task.Config,
		env:         env,
		dir:         dirs.taskDir,
		stdout:      tr.stdout,
		stderr:      tr.stderr,
		interpolate: newConfigEvaluator(env, attrs).eval,
	}, nil
}

// nodeAttrs returns the node's interpolation names, computed once per
// node version.
func (s *Sim) nodeAttrs(n *api.Node) map[string]string {
	if m, ok := s.st.attrs.Load(n); ok {
		return m.(map[string]string)
	}
	m := nodeAttrs(n, s.opts.Region)
	s.st.attrs.Store(n, m)
	return m
}

// --- task events, with Nomad's display messages and details ---

func newTaskEvent(typ string, at time.Time, display string) *api.TaskEvent {
	return &api.TaskEvent{Type: typ, Time: at.UnixNano(), DisplayMessage: display, Details: map[string]string{}}
}

// setupEvent is the task directory hook's event.
func setupEvent(at time.Time) *api.TaskEvent {
	const msg = "Building Task Directory"
	ev := newTaskEvent(api.TaskSetup, at, msg)
	ev.Message = msg
	ev.Details["message"] = msg
	return ev
}

func appendEvent(ts *api.TaskState, ev *api.TaskEvent) {
	if len(ts.Events) >= maxTaskEvents {
		ts.Events = append([]*api.TaskEvent(nil), ts.Events[len(ts.Events)-maxTaskEvents+1:]...)
	}
	ts.Events = append(ts.Events, ev)
}

func driverFailure(at time.Time, err error) *api.TaskEvent {
	ev := newTaskEvent(api.TaskDriverFailure, at, err.Error())
	ev.DriverError = err.Error()
	ev.Details["driver_error"] = err.Error()
	return ev
}

func terminatedEvent(at time.Time, res *exitResult) *api.TaskEvent {
	msg := fmt.Sprintf("Exit Code: %d", res.code)
	if res.signal != 0 {
		msg += fmt.Sprintf(", Signal: %d", res.signal)
	}
	ev := newTaskEvent(api.TaskTerminated, at, "")
	ev.ExitCode, ev.Signal = res.code, res.signal
	ev.Details["exit_code"] = strconv.Itoa(res.code)
	ev.Details["signal"] = strconv.Itoa(res.signal)
	ev.Details["oom_killed"] = "false"
	if res.err != nil {
		ev.Message = res.err.Error()
		ev.Details["exit_message"] = res.err.Error()
		msg += fmt.Sprintf(", Exit Message: %q", res.err.Error())
	}
	ev.DisplayMessage = msg
	return ev
}

func restartMessage(reason string, delay time.Duration) string {
	in := fmt.Sprintf("Task restarting in %v", delay)
	if reason != "" && reason != reasonWithinPolicy {
		return reason + " - " + in
	}
	return in
}
