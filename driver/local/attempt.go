package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nomad-tune/tune/driver"
	"github.com/nomad-tune/tune/experiment"
)

// attempt is one attempt of one trial: its processes and how it is going.
type attempt struct {
	d       *Driver
	key     attemptKey
	dir     string
	tasks   []*taskPlan
	stdout  driver.LineWriter
	stderr  driver.LineWriter
	prefix  bool
	outMu   sync.Mutex
	warned  atomic.Bool
	waitCtx context.Context
	// cancelWait aborts a wait_for_gpu in progress.
	cancelWait context.CancelFunc

	// phases are the tasks in the order they run: prestart tasks to
	// completion, then the main tasks with the sidecars and poststart
	// tasks beside them, then poststop tasks (see lifecyclePhases).
	phases [][]*taskPlan
	// scratch is a folder of the attempt's own, removed when it ends.
	scratch string

	mu sync.Mutex
	// procs are the processes of the phase that runs now.
	procs    []*process
	launched bool
	// running counts launched processes that have not exited.
	running int
	// halted says no further phase may start: the attempt was stopped, or
	// a prestart task failed.
	halted     bool
	stopped    bool
	stopReason string
	// failure is the first failure's message; the attempt has failed
	// once it is set.
	failure string
	// exitCode is the first non-zero exit status of a process.
	exitCode int
}

// process is one running task of an attempt.
type process struct {
	plan *taskPlan
	cmd  *exec.Cmd
	// sup is the task's supervisor's control pipe, nil without one.
	sup    *supervision
	stdout *os.File
	stderr *os.File
	// exited is closed once the process is reaped.
	exited chan struct{}
	// drain stops reading output a descendant keeps open after the task
	// is gone.
	drain *time.Timer

	// Guarded by attempt.mu.
	done        bool
	terminating bool
	// endedByLeader marks a task stopped because its allocation's leader
	// exited, or a sidecar stopped because the main tasks ended: how it
	// ends is not the attempt's outcome, as in Nomad.
	endedByLeader bool
}

func newAttempt(d *Driver, req driver.StartRequest, tasks []*taskPlan) *attempt {
	ctx, cancel := context.WithCancel(context.Background())
	a := &attempt{
		d:          d,
		key:        attemptKey{req.Trial.ID, req.Attempt},
		dir:        req.Experiment.Dir,
		tasks:      tasks,
		stdout:     req.Stdout,
		stderr:     req.Stderr,
		waitCtx:    ctx,
		cancelWait: cancel,
		phases:     lifecyclePhases(tasks),
	}
	if a.stdout == nil {
		a.stdout = discard{}
	}
	if a.stderr == nil {
		a.stderr = discard{}
	}
	world := 0
	for _, t := range tasks {
		world = max(world, t.rank+1)
	}
	a.prefix = world > 1
	return a
}

type discard struct{}

func (discard) WriteLine(string) {}

// emit queues an event of this attempt.
func (a *attempt) emit(ev driver.Event) {
	ev.TrialID = a.key.trialID
	ev.Attempt = a.key.attempt
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	a.d.events.Push(ev)
}

// end is the last thing an attempt does: it leaves the driver and says how
// it ended.
func (a *attempt) end(ev driver.Event) {
	a.cancelWait()
	if a.scratch != "" {
		os.RemoveAll(a.scratch)
	}
	a.d.forget(a)
	ev.Kind = driver.EventExited
	a.emit(ev)
	a.d.live.Done()
}

// gpuIndices are the distinct GPUs granted to any task of the attempt, as
// NVML indices, for wait_for_gpu.
func (a *attempt) gpuIndices() []int {
	var out []int
	for _, t := range a.tasks {
		for _, id := range t.gpus {
			i, err := strconv.Atoi(id)
			if err != nil || slices.Contains(out, i) {
				continue
			}
			out = append(out, i)
		}
	}
	slices.Sort(out)
	return out
}

// lifecyclePhases orders an attempt's tasks as Nomad's task runner does:
// prestart tasks that are not sidecars run to completion first; then the
// main tasks, with prestart sidecars and poststart tasks beside them
// (Nomad starts poststart tasks once the main tasks run; here they start
// together); then poststop tasks. Empty phases are left out.
func lifecyclePhases(tasks []*taskPlan) [][]*taskPlan {
	var pre, main, post []*taskPlan
	for _, t := range tasks {
		switch {
		case t.hook == experiment.HookPrestart && !t.sidecar:
			pre = append(pre, t)
		case t.hook == experiment.HookPoststop:
			post = append(post, t)
		default:
			main = append(main, t)
		}
	}
	var out [][]*taskPlan
	for _, p := range [][]*taskPlan{pre, main, post} {
		if len(p) > 0 {
			out = append(out, p)
		}
	}
	return out
}

// launch checks that every task of the attempt can run, then starts the
// first phase. A command that cannot run fails the start before any task
// runs, even one of a later phase.
func (a *attempt) launch() error {
	for _, t := range a.tasks {
		if _, err := lookCommand(t.command, a.dir); err != nil {
			return fmt.Errorf("starting %s: %w", t.name, &driver.CannotRunError{Err: err})
		}
	}
	if len(a.phases) == 0 {
		return nil
	}
	return a.launchPhase(a.phases[0])
}

// launchPhase starts every process of a phase, or none: when one fails to
// start, those already started are killed and reaped before it returns.
// It starts nothing when the attempt was stopped first.
func (a *attempt) launchPhase(tasks []*taskPlan) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.halted {
		a.procs = nil
		return nil
	}
	a.procs = nil
	for _, t := range tasks {
		p, err := a.startProcess(t)
		if err != nil {
			for _, q := range a.procs {
				q.abandon()
			}
			a.procs = nil
			return err
		}
		a.d.log.Debug("started", "trial", a.key.trialID, "attempt", a.key.attempt, "task", t.task, "rank", t.rank, "pid", p.cmd.Process.Pid)
		a.procs = append(a.procs, p)
	}
	a.launched = true
	a.running = len(a.procs)
	return nil
}

func (a *attempt) startProcess(t *taskPlan) (*process, error) {
	// A bare name is looked up on PATH; a relative path such as
	// ./train.sh is taken relative to the experiment's folder.
	path, err := lookCommand(t.command, a.dir)
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", t.name, &driver.CannotRunError{Err: err})
	}
	cmd, sup := taskCommand(path, t.command, t.args)
	cmd.Dir = a.dir
	cmd.Env = t.env
	outR, outW, err := os.Pipe()
	if err != nil {
		sup.started()
		sup.end()
		return nil, fmt.Errorf("starting %s: %w", t.name, err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		sup.started()
		sup.end()
		return nil, fmt.Errorf("starting %s: %w", t.name, err)
	}
	// Our own pipes rather than exec's copying goroutines: Wait then does
	// not wait for output, and the read ends can be given a deadline when
	// a descendant that escaped the process group holds them open.
	cmd.Stdout, cmd.Stderr = outW, errW
	err = cmd.Start()
	// The child has its own copies of the write ends; ours must be closed
	// for the readers to see end of file when it exits.
	outW.Close()
	errW.Close()
	sup.started()
	if err != nil {
		outR.Close()
		errR.Close()
		sup.end()
		if isExecFailure(err) {
			err = &driver.CannotRunError{Err: err}
		}
		return nil, fmt.Errorf("starting %s: %w", t.name, err)
	}
	return &process{plan: t, cmd: cmd, sup: sup, stdout: outR, stderr: errR, exited: make(chan struct{})}, nil
}

// abandon kills a process of an attempt that did not start whole, and reaps
// it, so that nothing of the attempt is left running.
func (p *process) abandon() {
	// A supervisor kills the whole tree and exits; a signal to the group
	// before it has could end it first (see kill).
	p.kill()
	_ = p.cmd.Wait()
	_ = killGroup(p.cmd)
	p.stdout.Close()
	p.stderr.Close()
}

// waitThenRun waits for the granted GPUs to be free, then runs the attempt.
func (a *attempt) waitThenRun(w *experiment.WaitForGPU, gpus []int) {
	if err := a.waitForGPUs(w, gpus); err != nil {
		if errors.Is(err, errStoppedWaiting) {
			a.end(a.stoppedEvent())
			return
		}
		a.end(driver.Event{Failed: true, ExitCode: -1, Message: err.Error()})
		return
	}
	if err := a.launch(); err != nil {
		a.end(driver.Event{Failed: true, ExitCode: -1, Message: err.Error(), CannotRun: driver.IsCannotRun(err)})
		return
	}
	a.run()
}

// run follows the phases: each one's processes until every one has exited
// and its output has been read, then the next phase, then it ends the
// attempt. A failed prestart task ends the attempt; poststop tasks run
// after the main tasks however those ended, unless the attempt was
// stopped.
func (a *attempt) run() {
	a.mu.Lock()
	procs := a.procs
	a.mu.Unlock()
	if len(procs) == 0 {
		a.end(a.stoppedEvent())
		return
	}
	// Queued before any reader starts, so that no report comes before it.
	// The processes have just started: on this target being accepted,
	// placed and running are one moment.
	now := time.Now()
	a.emit(driver.Event{Kind: driver.EventRunning, Time: now, Registered: now, Placed: now})
	a.follow(procs)
	for _, phase := range a.phases[1:] {
		a.mu.Lock()
		if a.failure != "" && phase[0].hook != experiment.HookPoststop {
			// A prestart task failed: the main tasks never run, and
			// neither do the poststop tasks that would follow them.
			a.halted = true
		}
		a.mu.Unlock()
		if err := a.launchPhase(phase); err != nil {
			a.mu.Lock()
			if a.failure == "" {
				a.failure = err.Error()
			}
			a.mu.Unlock()
			break
		}
		a.mu.Lock()
		procs = a.procs
		a.mu.Unlock()
		if len(procs) == 0 {
			break
		}
		a.follow(procs)
	}
	a.end(a.exitEvent())
}

// follow reads a phase's processes' output and waits for all of them.
func (a *attempt) follow(procs []*process) {
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Add(3)
		go func() {
			defer wg.Done()
			a.read(p, p.stdout, true)
		}()
		go func() {
			defer wg.Done()
			a.read(p, p.stderr, false)
		}()
		go func() {
			defer wg.Done()
			a.wait(p)
		}()
	}
	wg.Wait()
	for _, p := range procs {
		p.drain.Stop()
	}
}

// wait reaps one process and judges how it ended.
func (a *attempt) wait(p *process) {
	waitErr := p.cmd.Wait()
	// What the task left behind in its process group goes with it, as
	// Nomad's executor does, so that no orphan holds on to resources the
	// planner now counts as free. (A supervisor has killed its tree.)
	_ = killGroup(p.cmd)
	p.sup.end()
	close(p.exited)
	a.exited(p, waitErr)
	grace := a.d.killGrace
	p.drain = time.AfterFunc(grace, func() {
		_ = p.stdout.SetReadDeadline(time.Now())
		_ = p.stderr.SetReadDeadline(time.Now())
	})
}

func (a *attempt) exited(p *process, waitErr error) {
	code, how := -1, ""
	if ps := p.cmd.ProcessState; ps != nil {
		code, how = exitStatus(ps)
	} else {
		how = fmt.Sprintf("could not be waited for: %v", waitErr)
	}
	a.d.log.Debug("exited", "trial", a.key.trialID, "attempt", a.key.attempt, "task", p.plan.task, "rank", p.plan.rank, "code", code)

	a.mu.Lock()
	defer a.mu.Unlock()
	p.done = true
	a.running--
	if p.endedByLeader {
		return
	}
	if code != 0 && a.exitCode == 0 {
		a.exitCode = code
	}
	if code != 0 && !a.stopped && a.failure == "" {
		// A gang fails together: the others would only wait for a peer
		// that is gone.
		a.failure = p.plan.name + " " + how
		for _, q := range a.procs {
			a.terminateLocked(q)
		}
		return
	}
	if p.plan.leader {
		for _, q := range a.procs {
			if q.plan.rank == p.plan.rank && !q.done && !q.terminating {
				q.endedByLeader = true
				a.terminateLocked(q)
			}
		}
	}
	if !p.plan.sidecar {
		a.endSidecarsLocked(p.plan.rank)
	}
}

// endSidecarsLocked stops an allocation's sidecars once none of its other
// tasks of this phase runs, as Nomad stops sidecars when the main tasks
// end.
func (a *attempt) endSidecarsLocked(rank int) {
	for _, q := range a.procs {
		if q.plan.rank == rank && !q.plan.sidecar && !q.done {
			return
		}
	}
	for _, q := range a.procs {
		if q.plan.rank == rank && q.plan.sidecar && !q.done && !q.terminating {
			q.endedByLeader = true
			a.terminateLocked(q)
		}
	}
}

// stop ends the attempt at the controller's request.
func (a *attempt) stop(reason string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopped || a.halted {
		return
	}
	// No later phase starts; the processes of this one end.
	a.halted = true
	a.cancelWait()
	for _, p := range a.procs {
		a.terminateLocked(p)
	}
	if a.failure != "" || (a.launched && a.running == 0) {
		// It has failed, or its processes have all exited: it keeps its
		// own outcome.
		return
	}
	a.stopped = true
	a.stopReason = reason
}

// terminateLocked sends SIGTERM to a process group, and SIGKILL after the
// grace period if the process has not exited by then.
func (a *attempt) terminateLocked(p *process) {
	if p.done || p.terminating {
		return
	}
	p.terminating = true
	if err := terminateGroup(p.cmd); err != nil {
		a.d.log.Debug("cannot signal a task", "task", p.plan.task, "rank", p.plan.rank, "error", err)
	}
	grace := a.d.killGrace
	if p.plan.grace > 0 {
		grace = p.plan.grace
	}
	go func() {
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-p.exited:
		case <-t.C:
			a.d.log.Debug("task did not exit after SIGTERM; killing it", "trial", a.key.trialID, "task", p.plan.task, "rank", p.plan.rank, "grace", grace)
			p.kill()
		}
	}()
}

// kill ends a task that outlived its grace period with everything it
// started. Its supervisor kills the whole tree, including what left the
// task's process group, and then exits; the group is not signalled before
// that, since a SIGKILL to the group would end the supervisor (a member of
// it) before it reached what left the group. Once it has exited, wait
// kills what is left in the group. Without a supervisor the group is
// killed at once.
func (p *process) kill() {
	if p.sup == nil {
		_ = killGroup(p.cmd)
		return
	}
	p.sup.kill(p.cmd)
}

func (a *attempt) stoppedEvent() driver.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	return driver.Event{Stopped: true, ExitCode: -1, Message: a.stopReason}
}

func (a *attempt) exitEvent() driver.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	ev := driver.Event{ExitCode: a.exitCode}
	switch {
	case a.stopped:
		ev.Stopped = true
		ev.Message = a.stopReason
	case a.failure != "":
		ev.Failed = true
		ev.Message = a.failure
	}
	return ev
}
