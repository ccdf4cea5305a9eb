package nomad

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/nomad/api"

	"github.com/nomad-tune/tune/driver"
	"github.com/nomad-tune/tune/experiment"
	"github.com/nomad-tune/tune/jobs"
	"github.com/nomad-tune/tune/trialenv"
)

const (
	// maxRunDurationExceeded is the client description of an allocation
	// that Nomad ended at its max_run_duration (AllocTimeoutReasonMaxRunDuration).
	maxRunDurationExceeded = "allocation exceeded max_run_duration"
	// timeoutMessage reports such an ending: the trial reached its
	// trial_timeout, which the controller also enforces itself.
	timeoutMessage = "trial_timeout"
	// mergedTaskFormat names a strict_pack trial's tasks in its one task
	// group, as package jobs does: group, allocation index, task.
	mergedTaskFormat = "%s-%d-%s"
	// Task states as Nomad's TaskState.State reports them; the api
	// package has no names for them.
	taskStateRunning = "running"
	taskStateDead    = "dead"
)

// attempt is one attempt of one trial: its job and what Nomad does with it.
type attempt struct {
	d     *Driver
	key   attemptKey
	jobID string
	job   *api.Job
	// want is the number of allocations the job asks for.
	want int
	// prefix marks the output lines with their rank: the trial has more
	// than one allocation.
	prefix bool
	ranks  ranks
	// queue is on_unfit = "queue": a job no node has room for yet may wait
	// in Nomad's queue, so long as none of it is placed.
	queue bool
	// purge removes the job when the attempt is over.
	purge bool
	// free is the job without its pin (pinned), which the attempt falls
	// back to when Nomad would not place the pinned one; placeKey is its
	// placementKey, for a job of one allocation.
	free     *api.Job
	placeKey string
	// pins are the nodes job is pinned to; none once the attempt falls
	// back to free. Set before its submission, read after.
	pins   []string
	stdout driver.LineWriter
	stderr driver.LineWriter
	outMu  sync.Mutex
	warned atomic.Bool

	logCtx   context.Context
	stopLogs context.CancelFunc
	// logs counts the log followers still running.
	logs sync.WaitGroup
	// done is closed once the attempt has ended, and submitted once its
	// submission is over: the job registered, or the attempt ended
	// without it.
	done      chan struct{}
	submitted chan struct{}
	// firstPlaced is closed once any allocation is placed.
	firstPlaced chan struct{}

	// Guarded by d.mu.
	phase   phase
	outcome outcome
	// regIndex is the job modify index of the registration: allocations
	// created at or before it belong to an earlier attempt. evalID is the
	// evaluation the registration made, when Nomad said.
	regIndex uint64
	evalID   string
	// sentGen is the event-stream subscription (streamGen) that was open
	// when the submission was sent, or 0: what Nomad did with the job is
	// all in that subscription and later ones.
	sentGen uint64
	// pending holds what arrived while the job was being registered, and
	// goneAt the index of a deregistration seen meanwhile.
	pending []allocView
	goneAt  uint64
	allocs  map[string]*allocView
	// deregDone is closed once a requested deregistration has returned;
	// purged says it removed the job. deregInFlight is set until then:
	// an allocation Nomad placed before the deregistration may not have
	// been seen yet, so the attempt does not end meanwhile.
	deregDone     chan struct{}
	purged        bool
	deregInFlight bool
	// rendezvous is the variable the ranks find rank 0 by ("" when they
	// need none), and rendezvousSent says its write has begun.
	rendezvous     string
	rendezvousSent bool
	// adoptedDead is set on an adopted attempt whose job Nomad already
	// had as dead when it was adopted: the allocations it has are all
	// there will be, even when Nomad has garbage-collected some of them.
	adoptedDead bool
	// registeredAt, placedAt and ranAt are when the job was registered,
	// when its last allocation was placed and when its last allocation
	// began to run, for EventRunning: seen by the driver's clock, or read
	// from Nomad for an adopted attempt (ranAt only then); zero until
	// known.
	registeredAt, placedAt, ranAt time.Time
}

// ranks maps allocations to their ranks, numbered as trialenv.RankOffsets
// numbers them.
type ranks struct {
	// offsets is the rank of each group's first allocation.
	offsets map[string]int
	// tasks gives the rank of each task of a strict_pack trial's one
	// merged group, whose tasks are named "<group>-<i>-<task>".
	tasks map[string]int
	world int
}

// rankTable is how ranks are numbered for a trial of this shape.
func rankTable(shape *experiment.Shape, placement experiment.Placement) ranks {
	offsets, world := trialenv.RankOffsets(shape)
	r := ranks{offsets: map[string]int{}, world: world}
	merged := placement == experiment.PlacementStrictPack && r.world > 1
	if merged {
		r.tasks = map[string]int{}
	}
	for gi, g := range shape.Groups {
		r.offsets[g.Name] = offsets[gi]
		if merged {
			for i := 0; i < g.Count; i++ {
				for _, t := range g.Tasks {
					r.tasks[fmt.Sprintf(mergedTaskFormat, g.Name, i, t.Task)] = offsets[gi] + i
				}
			}
		}
	}
	return r
}

// rank is the rank of a task of allocation index of group.
func (r ranks) rank(group string, index int, task string) int {
	if r.tasks != nil {
		if rank, ok := r.tasks[task]; ok {
			return rank
		}
	}
	return r.offsets[group] + max(index, 0)
}

func newAttempt(d *Driver, req driver.StartRequest, job *api.Job) (*attempt, error) {
	e, t := req.Experiment, req.Trial
	shape := t.Shape
	if shape == nil {
		var diags hcl.Diagnostics
		if shape, diags = e.ResolveShape(t.Vars()); diags.HasErrors() {
			return nil, diags
		}
	}
	want := 0
	for _, tg := range job.TaskGroups {
		want += max(deref(tg.Count), 0)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &attempt{
		d:           d,
		key:         attemptKey{t.ID, req.Attempt},
		jobID:       deref(job.ID),
		job:         job,
		want:        want,
		ranks:       rankTable(shape, e.Placement),
		queue:       e.OnUnfit == experiment.OnUnfitQueue,
		purge:       d.exp.Nomad.Purge,
		stdout:      req.Stdout,
		stderr:      req.Stderr,
		logCtx:      ctx,
		stopLogs:    cancel,
		done:        make(chan struct{}),
		submitted:   make(chan struct{}),
		firstPlaced: make(chan struct{}),
		allocs:      map[string]*allocView{},
		phase:       phaseRegistering,
	}
	a.prefix = a.ranks.world > 1
	if jobs.UsesRendezvousVariable(e, shape) {
		a.rendezvous, _ = jobs.RendezvousPath(a.jobID)
	}
	if a.stdout == nil {
		a.stdout = discard{}
	}
	if a.stderr == nil {
		a.stderr = discard{}
	}
	if a.want == 0 {
		return nil, fmt.Errorf("job %s has no allocations to run", a.jobID)
	}
	return a, nil
}

type discard struct{}

func (discard) WriteLine(string) {}

// emit queues an event of this attempt.
func (a *attempt) emit(ev driver.Event) {
	ev.TrialID = a.key.trialID
	ev.Attempt = a.key.attempt
	if ev.Time.IsZero() {
		ev.Time = a.d.clock.Now()
	}
	a.d.events.Push(ev)
}

// isOwnRegistration says whether the job Nomad has is this attempt's
// registration, made after the version at sentIndex was read.
func (a *attempt) isOwnRegistration(cur *api.Job, sentIndex uint64) bool {
	return !deref(cur.Stop) && deref(cur.JobModifyIndex) > sentIndex &&
		cur.Meta[trialenv.MetaTrialID] == a.key.trialID &&
		cur.Meta[trialenv.MetaAttempt] == strconv.Itoa(a.key.attempt)
}

// allocView is what the attempt needs to know of one allocation, from an
// event's allocation or from a list stub.
type allocView struct {
	id, name, nodeID, nodeName, group string
	clientStatus, clientDesc          string
	desiredStatus, desiredDesc        string
	tasks                             map[string]*api.TaskState
	createIndex, modifyIndex          uint64
	// masterIP and masterPort are where Nomad lets the allocation listen
	// for the rendezvous, when it holds the port.
	masterIP   string
	masterPort int
	index      int
	// ran is set once the allocation has been seen running, or a task of
	// it has started.
	ran bool
	// judged is set once a terminal allocation's outcome is counted.
	judged bool
	logs   map[string][]*taskLog
}

func viewOfStub(al *api.AllocationListStub) allocView {
	v := newView(allocView{
		id: al.ID, name: al.Name, nodeID: al.NodeID, nodeName: al.NodeName, group: al.TaskGroup,
		clientStatus: al.ClientStatus, clientDesc: al.ClientDescription,
		desiredStatus: al.DesiredStatus, desiredDesc: al.DesiredDescription,
		tasks: al.TaskStates, createIndex: al.CreateIndex, modifyIndex: al.ModifyIndex,
	})
	v.masterIP, v.masterPort, _ = jobs.RendezvousAddress(&api.Allocation{AllocatedResources: al.AllocatedResources})
	return v
}

func newView(v allocView) allocView {
	v.index = allocIndex(v.name)
	v.ran = v.clientStatus == api.AllocClientStatusRunning
	for _, st := range v.tasks {
		if st != nil && !st.StartedAt.IsZero() {
			v.ran = true
		}
	}
	return v
}

// allocIndex is the index in an allocation's name, "<job>.<group>[<i>]";
// -1 when the name has none.
func allocIndex(name string) int {
	if !strings.HasSuffix(name, "]") {
		return -1
	}
	open := strings.LastIndexByte(name, '[')
	if open < 0 {
		return -1
	}
	i, err := strconv.Atoi(name[open+1 : len(name)-1])
	if err != nil || i < 0 {
		return -1
	}
	return i
}

func terminal(clientStatus string) bool {
	switch clientStatus {
	case api.AllocClientStatusComplete, api.AllocClientStatusFailed, api.AllocClientStatusLost:
		return true
	}
	return false
}

// taskStarted says whether a task has output to read.
func taskStarted(st *api.TaskState) bool {
	return st != nil && (!st.StartedAt.IsZero() || st.State == taskStateRunning)
}

// registered records the registration and takes what arrived meanwhile.
// index 0 with deregistered set means nothing was registered.
func (a *attempt) registered(index uint64) {
	if a.phase == phaseRegistering {
		a.phase = phaseQueued
	}
	close(a.submitted)
	a.regIndex = index
	if index > 0 && a.registeredAt.IsZero() {
		a.registeredAt = a.d.clock.Now()
	}
	pending := a.pending
	a.pending = nil
	if index == 0 {
		pending = nil
	}
	for _, v := range pending {
		a.take(v)
	}
	if a.goneAt > 0 && index > 0 {
		a.jobGone(a.goneAt)
	}
	a.step()
}

// take records news of one allocation without moving the attempt on, and
// says whether it was news: everything Nomad changed at once is taken
// before step decides anything from it. Called with d.mu held.
func (a *attempt) take(v allocView) bool {
	if a.phase == phaseFinishing {
		return false
	}
	if !a.phase.registered() {
		a.pending = append(a.pending, v)
		return false
	}
	if a.regIndex == 0 || v.createIndex <= a.regIndex {
		return false
	}
	cur := a.allocs[v.id]
	if cur == nil {
		if len(a.allocs) == 0 {
			close(a.firstPlaced)
		}
		nv := v
		a.allocs[v.id] = &nv
		if len(a.allocs) == a.want && a.placedAt.IsZero() {
			a.placedAt = a.d.clock.Now()
		}
	} else {
		if v.modifyIndex < cur.modifyIndex {
			return false
		}
		v.ran = v.ran || cur.ran
		v.judged = cur.judged
		v.logs = cur.logs
		*cur = v
	}
	return true
}

// sorted are the allocations by rank, then ID.
func (a *attempt) sorted() []*allocView {
	out := make([]*allocView, 0, len(a.allocs))
	for _, al := range a.allocs {
		out = append(out, al)
	}
	sort.Slice(out, func(i, j int) bool {
		ri, rj := a.ranks.rank(out[i].group, out[i].index, ""), a.ranks.rank(out[j].group, out[j].index, "")
		if ri != rj {
			return ri < rj
		}
		return out[i].id < out[j].id
	})
	return out
}

// step moves the attempt on after any change. Called with d.mu held.
func (a *attempt) step() {
	if a.phase == phaseFinishing || !a.phase.registered() {
		return
	}
	allocs := a.sorted()
	allTerminal, allRan, lost := true, len(allocs) >= a.want, false
	for _, al := range allocs {
		lost = lost || al.clientStatus == api.AllocClientStatusLost
		if terminal(al.clientStatus) {
			if !al.judged {
				al.judged = true
				a.judge(al)
			}
		} else {
			allTerminal = false
		}
		allRan = allRan && al.ran
	}
	if a.adoptedDead && allTerminal && len(allocs) < a.want {
		// Nomad garbage-collects the allocations of dead jobs: what ran
		// while tune was away can no longer be read whole.
		a.outcome.decide(outcomeFailed, fmt.Sprintf("job %s ended while tune was away and Nomad keeps %d of its %d %s: its output cannot be read",
			a.jobID, len(allocs), a.want, plural(a.want, "allocation", "allocations")))
	}
	complete := allTerminal && (len(allocs) >= a.want || a.adoptedDead)
	decided := a.outcome.decided()
	if decided && !a.phase.deregistering() && (!complete || lost || a.outcome.kind == outcomeEvicted) {
		// A gang ends together: stop what still runs, what Nomad has yet
		// to place, and the replacement Nomad places for a lost or
		// migrated allocation whatever the reschedule policy says.
		a.requestDeregister(a.outcome.kind == outcomeUnplaced || a.purge)
	}
	if allRan && a.phase == phaseQueued && !decided {
		// Queued before any log follower starts, so no report of the
		// attempt comes before it.
		a.phase = phaseRunning
		a.emit(driver.Event{Kind: driver.EventRunning, Time: a.ranAt, Registered: a.registeredAt, Placed: a.placedAt})
	}
	if !decided {
		a.sendRendezvous(allocs)
	}
	for _, al := range allocs {
		if a.phase >= phaseRunning || decided || terminal(al.clientStatus) {
			a.followTasks(al)
		}
		a.markDead(al)
	}
	if !a.deregInFlight && allTerminal && (complete || a.phase == phaseStopped) || a.phase == phaseStopped && a.d.isInterrupted() {
		// Interrupted, a job Nomad has stopped is all a resume needs:
		// its allocations are not waited for.
		a.phase = phaseFinishing
		go a.finish()
	}
}

// followTasks starts reading the output of the allocation's tasks that
// have started.
func (a *attempt) followTasks(al *allocView) {
	names := make([]string, 0, len(al.tasks))
	for name := range al.tasks {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, task := range names {
		if _, ok := al.logs[task]; ok || !taskStarted(al.tasks[task]) {
			continue
		}
		if al.logs == nil {
			al.logs = map[string][]*taskLog{}
		}
		rank := a.ranks.rank(al.group, al.index, task)
		name := a.taskName(al, task)
		for _, stdout := range []bool{true, false} {
			l := &taskLog{allocID: al.id, nodeID: al.nodeID, task: task, rank: rank, stdout: stdout, name: name, dead: make(chan struct{})}
			al.logs[task] = append(al.logs[task], l)
			a.logs.Add(1)
			go a.follow(l)
		}
	}
}

// markDead tells the followers of dead tasks to read what is left.
func (a *attempt) markDead(al *allocView) {
	for task, ls := range al.logs {
		st := al.tasks[task]
		if !terminal(al.clientStatus) && (st == nil || st.State != taskStateDead) {
			continue
		}
		for _, l := range ls {
			if al.clientStatus == api.AllocClientStatusLost {
				l.unreachable.Store(true)
			}
			if !l.deadDone {
				l.deadDone = true
				close(l.dead)
			}
		}
	}
}

// judge counts how a terminal allocation ended.
func (a *attempt) judge(al *allocView) {
	if code := exitCode(al); code != 0 && a.outcome.exitCode == 0 {
		a.outcome.exitCode = code
	}
	if a.outcome.decided() {
		// The outcome is decided; allocations stopped because of it do
		// not change it.
		return
	}
	switch {
	case al.clientStatus == api.AllocClientStatusLost:
		node := al.nodeName
		if node == "" {
			node = shortID(al.nodeID)
		}
		a.outcome.decide(outcomeFailed, fmt.Sprintf("%s lost: node %s down", a.allocName(al), node))
	case al.clientDesc == maxRunDurationExceeded:
		a.outcome.decide(outcomeTimedOut, timeoutMessage)
	case al.clientStatus == api.AllocClientStatusFailed || anyTaskFailed(al):
		a.outcome.decide(outcomeFailed, a.taskFailure(al))
	case al.desiredStatus != "" && al.desiredStatus != api.AllocDesiredStatusRun:
		why := al.desiredDesc
		if why == "" {
			why = "desired status " + al.desiredStatus
		}
		a.outcome.decide(outcomeEvicted, fmt.Sprintf("%s was stopped by Nomad: %s", a.allocName(al), why))
	}
}

func anyTaskFailed(al *allocView) bool {
	for _, st := range al.tasks {
		if st != nil && st.Failed {
			return true
		}
	}
	return false
}

// exitCode is the first non-zero exit code of the allocation's tasks.
func exitCode(al *allocView) int {
	names := make([]string, 0, len(al.tasks))
	for name := range al.tasks {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if code, _, ok := lastExit(al.tasks[name]); ok && code != 0 {
			return code
		}
	}
	return 0
}

// lastExit is the exit code and signal of the task's last termination.
func lastExit(st *api.TaskState) (code, signal int, ok bool) {
	if st == nil {
		return 0, 0, false
	}
	for i := len(st.Events) - 1; i >= 0; i-- {
		ev := st.Events[i]
		if ev == nil || ev.Type != api.TaskTerminated {
			continue
		}
		code, signal = ev.ExitCode, ev.Signal
		if v, err := strconv.Atoi(ev.Details["exit_code"]); err == nil && code == 0 {
			code = v
		}
		if v, err := strconv.Atoi(ev.Details["signal"]); err == nil && signal == 0 {
			signal = v
		}
		return code, signal, true
	}
	return 0, 0, false
}

// taskFailure says which task of a failed allocation failed and how.
func (a *attempt) taskFailure(al *allocView) string {
	names := make([]string, 0, len(al.tasks))
	for name, st := range al.tasks {
		if st != nil && st.Failed {
			names = append(names, name)
		}
	}
	// A task that failed only because a sibling did is not the story.
	sort.Slice(names, func(i, j int) bool {
		si, sj := siblingFailed(al.tasks[names[i]]), siblingFailed(al.tasks[names[j]])
		if si != sj {
			return !si
		}
		return names[i] < names[j]
	})
	if len(names) == 0 {
		why := al.clientDesc
		if why == "" {
			why = "status " + al.clientStatus
		}
		return fmt.Sprintf("%s failed: %s", a.allocName(al), why)
	}
	task := names[0]
	st := al.tasks[task]
	who := a.taskName(al, task)
	var restarts string
	if st.Restarts > 0 {
		restarts = fmt.Sprintf(" (after %d %s)", st.Restarts, plural(int(st.Restarts), "restart", "restarts"))
	}
	if code, signal, ok := lastExit(st); ok && (code != 0 || signal != 0) {
		if code != 0 {
			return fmt.Sprintf("%s exited with code %d%s", who, code, restarts)
		}
		return fmt.Sprintf("%s was killed by signal %d%s", who, signal, restarts)
	}
	if why := failureDetail(st); why != "" {
		return fmt.Sprintf("%s failed: %s%s", who, why, restarts)
	}
	return fmt.Sprintf("%s failed%s", who, restarts)
}

func siblingFailed(st *api.TaskState) bool {
	for _, ev := range st.Events {
		if ev != nil && ev.Type == api.TaskSiblingFailed {
			return true
		}
	}
	return false
}

// failureDetail is the most telling message among a failed task's events:
// the latest error a driver, setup or download gave, else the latest
// failure event's message. The final "Not Restarting" event only says the
// restart policy gave up, which is not why the task failed.
func failureDetail(st *api.TaskState) string {
	for i := len(st.Events) - 1; i >= 0; i-- {
		ev := st.Events[i]
		if ev == nil {
			continue
		}
		for _, text := range []string{ev.DriverError, ev.SetupError, ev.ValidationError, ev.DownloadError, ev.KillError} {
			if text != "" {
				return text
			}
		}
		switch ev.Type {
		case api.TaskDriverFailure, api.TaskSetupFailure, api.TaskFailedValidation, api.TaskArtifactDownloadFailed:
			if ev.DisplayMessage != "" {
				return ev.DisplayMessage
			}
			return ev.Type
		}
	}
	for i := len(st.Events) - 1; i >= 0; i-- {
		if ev := st.Events[i]; ev != nil && ev.FailsTask && ev.DisplayMessage != "" {
			return ev.DisplayMessage
		}
	}
	return ""
}

// allocName names an allocation in messages the way the Nomad CLI shows
// it (a short ID), with its rank in a multi-allocation trial.
func (a *attempt) allocName(al *allocView) string {
	name := "allocation " + shortID(al.id)
	if a.prefix && a.ranks.tasks == nil {
		name += fmt.Sprintf(" (rank %d)", a.ranks.rank(al.group, al.index, ""))
	}
	return name
}

// taskName names a task of an allocation in messages.
func (a *attempt) taskName(al *allocView, task string) string {
	if a.prefix && a.ranks.tasks != nil {
		return fmt.Sprintf("task %q (rank %d) of allocation %s", task, a.ranks.rank(al.group, al.index, task), shortID(al.id))
	}
	return fmt.Sprintf("task %q of %s", task, a.allocName(al))
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// requestDeregister deregisters the job in the background, and bounds the
// wait for its allocations to end. Called with d.mu held.
func (a *attempt) requestDeregister(purge bool) {
	a.phase = phaseStopping
	a.deregDone = make(chan struct{})
	a.deregInFlight = true
	d := a.d
	go func() {
		defer close(a.deregDone)
		err := d.deregister(d.hurry, a.jobID, purge)
		var stubs []*api.AllocationListStub
		if err == nil {
			// Nomad places nothing more for the job now, but what it
			// placed before, such as the replacement of a lost
			// allocation, may not have come through the event stream
			// yet: read once, so the attempt waits for that to end too.
			var listErr error
			if stubs, listErr = d.listJobAllocations(d.hurry, a.jobID); listErr != nil {
				d.log.Debug("cannot read a deregistered trial job's allocations", "job", a.jobID, "error", listErr)
			}
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		a.deregInFlight = false
		for _, s := range stubs {
			a.take(viewOfStub(s))
		}
		switch {
		case err != nil && d.hurry.Err() != nil:
			// Interrupted: the attempt says Nomad did not confirm it.
			d.log.Debug("cannot deregister a trial job in time", "job", a.jobID, "error", err)
		case err != nil:
			d.log.Error("cannot deregister a trial job", "job", a.jobID, "error", err)
		default:
			if a.phase == phaseStopping {
				a.phase = phaseStopped
			}
			a.purged = a.purged || purge
		}
		a.step()
	}()
	go a.stopWatch()
}

// stopWatch ends the attempt anyway when its allocations have not ended
// within the stop wait: a node that stopped answering would otherwise
// hold it, and the controller with it, for ever.
func (a *attempt) stopWatch() {
	select {
	case <-a.done:
		return
	case <-a.d.clock.After(a.d.stopWait):
	case <-a.d.hurry.Done():
	}
	a.d.mu.Lock()
	defer a.d.mu.Unlock()
	if a.phase == phaseFinishing {
		return
	}
	if a.d.hurry.Err() != nil {
		a.d.log.Debug("Nomad did not confirm an interrupted trial's stop in time; reporting the attempt ended", "job", a.jobID)
		a.outcome.cutOff = fmt.Sprintf("Nomad had not confirmed the stop of job %s within %s: it may still run; tune apply resumes it, tune stop stops it",
			a.jobID, a.d.interruptWait)
		a.d.unconfirmed = append(a.d.unconfirmed, a.jobID)
	} else {
		a.d.log.Warn("the allocations of a stopped trial job did not end in time; reporting the attempt ended", "job", a.jobID, "wait", a.d.stopWait)
		a.outcome.cutOff = fmt.Sprintf("its allocations had not ended %s after the job was deregistered", a.d.stopWait.Round(time.Second))
	}
	a.phase = phaseFinishing
	a.stopLogs()
	go a.finish()
}

// gangWatch rolls the attempt back when Nomad has not placed all of it in
// time, so a partial placement never holds resources while it waits for
// the rest. An attempt of one allocation, which Nomad places whole or
// not at all, is rolled back only once its registration's evaluation
// says Nomad could not place it (its pin names a node that left, or is
// full with what tune's snapshot did not see): one Nomad has yet to
// evaluate, as when its scheduler falls behind a burst of registrations,
// waits on.
func (a *attempt) gangWatch() {
	timeout := a.d.gangTimeout
	wait := timeout
	for {
		select {
		case <-a.done:
			return
		case <-a.d.clock.After(wait):
		}
		a.d.mu.Lock()
		placed := len(a.allocs)
		if a.phase == phaseFinishing || a.outcome.decided() || placed >= a.want {
			a.d.mu.Unlock()
			return
		}
		if a.queue && placed == 0 {
			// Nothing is held: the job may wait in Nomad's queue for an
			// autoscaler; the clock starts once part of it is placed.
			a.d.mu.Unlock()
			select {
			case <-a.done:
				return
			case <-a.firstPlaced:
			}
			continue
		}
		if a.want == 1 && a.evalID != "" {
			evalID := a.evalID
			a.d.mu.Unlock()
			switch a.d.evalOutcome(evalID) {
			case evalPlaced:
				// Its allocation is on its way through the stream.
				return
			case evalPending:
				// Asked again less and less often, so a scheduler that
				// is behind is not slowed further by the asking.
				wait *= 2
				continue
			}
			a.d.mu.Lock()
			if a.phase == phaseFinishing || a.outcome.decided() || len(a.allocs) > 0 {
				a.d.mu.Unlock()
				return
			}
		}
		a.outcome.decide(outcomeUnplaced, fmt.Sprintf("placed %d of %d %s in %s", placed, a.want, plural(a.want, "allocation", "allocations"), timeout))
		a.d.refusals.add(a.pins)
		a.d.log.Debug("rolling back a trial job Nomad did not place whole", "job", a.jobID, "placed", placed, "want", a.want)
		a.step()
		a.d.mu.Unlock()
		return
	}
}

// stop ends the attempt at the controller's request.
func (a *attempt) stop(reason string) {
	a.d.mu.Lock()
	defer a.d.mu.Unlock()
	if a.phase == phaseFinishing || a.outcome.decided() {
		return
	}
	a.outcome.decide(outcomeStopped, reason)
	if a.phase == phaseWaiting {
		// Nothing of it was sent: it is dropped from the queue.
		a.endUnsubmitted()
		return
	}
	// A job still being registered is deregistered once it is.
	a.step()
}

// finish waits for the attempt's output to be read, purges its job when
// asked to, and reports how it ended.
func (a *attempt) finish() {
	d := a.d
	drained := make(chan struct{})
	go func() {
		a.logs.Wait()
		close(drained)
	}()
	select {
	case <-drained:
	case <-d.clock.After(d.logDrain):
		d.log.Debug("a trial's output did not end in time; cutting it off", "job", a.jobID, "wait", d.logDrain)
		a.stopLogs()
		<-drained
	case <-d.interrupted:
		// The trial runs again on resume: what is left of its output
		// is not worth the wait.
		a.stopLogs()
		<-drained
	}
	a.stopLogs()

	d.mu.Lock()
	deregDone := a.deregDone
	d.mu.Unlock()
	if deregDone != nil {
		// A deregistration that landed after the next attempt registered
		// would stop that attempt instead.
		<-deregDone
	}
	d.mu.Lock()
	sent := a.regIndex > 0
	purge := a.purge && sent && !a.purged
	d.mu.Unlock()
	if purge {
		if err := d.deregister(d.hurry, a.jobID, true); err != nil {
			d.log.Warn("cannot purge a finished trial job", "job", a.jobID, "error", err)
		}
	}

	// An attempt that registered nothing wrote no variable either.
	if sent {
		if err := d.clearRendezvous(d.ctx, a); err != nil {
			d.log.Warn("cannot delete a finished trial's rendezvous variable", "variable", a.rendezvous, "error", err)
		}
	}

	d.mu.Lock()
	ev := a.exitEvent()
	d.forgetLocked(a)
	d.mu.Unlock()
	d.log.Debug("attempt ended", "job", a.jobID, "trial", a.key.trialID, "attempt", a.key.attempt,
		"failed", ev.Failed, "stopped", ev.Stopped, "unplaced", ev.Unplaced, "message", ev.Message)
	a.emit(ev)
	close(a.done)
	d.live.Done()
}

// exitEvent says how the attempt ended. Called with d.mu held.
func (a *attempt) exitEvent() driver.Event {
	ev := a.outcome.event()
	if a.adoptedDead {
		// It ended while tune was away: when, Nomad says, if it can.
		ev.Time = a.lastFinish()
	}
	return ev
}

// lastFinish is when the last task of the attempt's allocations finished,
// zero when a task has no finish time.
func (a *attempt) lastFinish() time.Time {
	var last time.Time
	for _, al := range a.allocs {
		for _, st := range al.tasks {
			if st == nil || st.FinishedAt.IsZero() {
				return time.Time{}
			}
			if st.FinishedAt.After(last) {
				last = st.FinishedAt
			}
		}
	}
	return last
}
