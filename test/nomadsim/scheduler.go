package nomadsim

import (
	"container/heap"
	"context"
	"sync"
	"time"

	"github.com/hashicorp/nomad/api"
)

// scheduler is the eval broker, the blocked-evals tracker and one
// scheduling worker. Evaluations are processed one at a time, highest
// priority first, as Nomad's plan applier serialises plans.
type scheduler struct {
	sim *Sim

	mu      sync.Mutex
	wake    chan struct{}
	ready   evalHeap
	inQueue map[string]bool
	blocked map[jobKey]string
	busy    bool
	idle    chan struct{} // closed while idle
	closed  bool
}

type queuedEval struct {
	id          string
	priority    int
	createIndex uint64
}

type evalHeap []queuedEval

func (h evalHeap) Len() int { return len(h) }
func (h evalHeap) Less(i, j int) bool {
	if h[i].priority != h[j].priority {
		return h[i].priority > h[j].priority
	}
	return h[i].createIndex < h[j].createIndex
}
func (h evalHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *evalHeap) Push(x any)   { *h = append(*h, x.(queuedEval)) }
func (h *evalHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func newScheduler(sim *Sim) *scheduler {
	sc := &scheduler{sim: sim, wake: make(chan struct{}, 1), inQueue: map[string]bool{}, blocked: map[jobKey]string{}, idle: make(chan struct{})}
	close(sc.idle)
	return sc
}

// enqueue takes a pending evaluation; one that must wait (WaitUntil) is
// held on the simulated clock first.
func (sc *scheduler) enqueue(e *api.Evaluation) {
	if wait := e.WaitUntil.Sub(sc.sim.clock.Now()); !e.WaitUntil.IsZero() && wait > 0 {
		ch := sc.sim.clock.After(wait)
		go func() {
			select {
			case <-ch:
				sc.push(e.ID, e.Priority, e.CreateIndex)
			case <-sc.sim.done:
			}
		}()
		return
	}
	sc.push(e.ID, e.Priority, e.CreateIndex)
}

func (sc *scheduler) push(id string, priority int, createIndex uint64) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.closed || sc.inQueue[id] {
		return
	}
	sc.inQueue[id] = true
	heap.Push(&sc.ready, queuedEval{id: id, priority: priority, createIndex: createIndex})
	sc.markBusy()
	select {
	case sc.wake <- struct{}{}:
	default:
	}
}

func (sc *scheduler) markBusy() {
	select {
	case <-sc.idle:
		sc.idle = make(chan struct{})
	default:
	}
}

// track remembers a job's blocked evaluation; it returns the one it
// replaces, which the caller cancels.
func (sc *scheduler) track(k jobKey, id string) string {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	old := sc.blocked[k]
	sc.blocked[k] = id
	if old == id {
		return ""
	}
	return old
}

func (sc *scheduler) untrack(k jobKey, id string) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.blocked[k] == id {
		delete(sc.blocked, k)
	}
}

// unblock re-queues the blocked evaluations that may now fit, as Nomad's
// blocked-evals tracker does when capacity frees on nodes of the given
// computed classes (nil: a node joined, every evaluation): all but those
// that found those classes ineligible.
func (sc *scheduler) unblock(classes map[string]bool) {
	sc.mu.Lock()
	ids := make([]string, 0, len(sc.blocked))
	for _, id := range sc.blocked {
		ids = append(ids, id)
	}
	sc.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	st := sc.sim.st
	st.lock()
	var evals []*api.Evaluation
	var stale []*api.Evaluation
	for _, id := range ids {
		if e := st.evals[id]; e != nil && e.Status == api.EvalStatusBlocked {
			if unblocks(e, classes) {
				evals = append(evals, e)
			}
		} else if e != nil {
			stale = append(stale, e)
		}
	}
	st.unlock()
	// Blocked evaluations cancelled by a later successful one (a stop, a
	// new version) leave the tracker here.
	for _, e := range stale {
		sc.untrack(jobKey{e.Namespace, e.JobID}, e.ID)
	}
	for _, e := range evals {
		sc.push(e.ID, e.Priority, e.CreateIndex)
	}
}

func unblocks(e *api.Evaluation, classes map[string]bool) bool {
	if classes == nil || e.EscapedComputedClass {
		return true
	}
	for class := range classes {
		if elig, known := e.ClassEligibility[class]; !known || elig {
			return true
		}
	}
	return false
}

func (sc *scheduler) run() {
	for {
		sc.mu.Lock()
		for sc.ready.Len() == 0 && !sc.closed {
			sc.busy = false
			select {
			case <-sc.idle:
			default:
				close(sc.idle)
			}
			sc.mu.Unlock()
			select {
			case <-sc.wake:
			case <-sc.sim.done:
			}
			sc.mu.Lock()
		}
		if sc.closed {
			sc.mu.Unlock()
			return
		}
		q := heap.Pop(&sc.ready).(queuedEval)
		sc.busy = true
		sc.mu.Unlock()

		st := sc.sim.st
		st.lock()
		sc.sim.processEval(q.id)
		st.unlock()

		sc.mu.Lock()
		delete(sc.inQueue, q.id)
		sc.mu.Unlock()
	}
}

func (sc *scheduler) close() {
	sc.mu.Lock()
	sc.closed = true
	sc.mu.Unlock()
	select {
	case sc.wake <- struct{}{}:
	default:
	}
}

// waitIdle returns once no evaluation is queued or being processed.
func (sc *scheduler) waitIdle(ctx context.Context) error {
	for {
		sc.mu.Lock()
		idle := sc.idle
		sc.mu.Unlock()
		select {
		case <-idle:
			// The last evaluation's post-commit work may queue more.
			sc.mu.Lock()
			done := sc.ready.Len() == 0 && !sc.busy
			sc.mu.Unlock()
			if done {
				return nil
			}
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case <-time.After(time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// planOutcome is what placing a reconciled plan produced.
type planOutcome struct {
	res      *reconcileResult
	allocs   []*allocRecord
	failed   map[string]*api.AllocationMetric
	queued   map[string]int
	mods     map[string]*api.Allocation
	records  map[string]*allocRecord
	snapshot uint64
	now      time.Time
}

// plan reconciles the job and places what it needs without writing
// anything: the evaluation runs it and then applies it, the plan endpoint
// only reports it.
func (s *Sim) plan(e *api.Evaluation, job *api.Job, k jobKey) (*planCtx, *planOutcome) {
	st := s.st
	now := st.clock.Now()
	p := st.newPlanCtx(job, k, e.Type == api.JobTypeBatch)
	res := p.reconcile(e, now)
	out := &planOutcome{
		res: res, failed: map[string]*api.AllocationMetric{}, queued: map[string]int{},
		mods: map[string]*api.Allocation{}, records: map[string]*allocRecord{},
		snapshot: st.index, now: now,
	}
	mod := func(r *allocRecord) *api.Allocation {
		if m := out.mods[r.alloc.ID]; m != nil {
			return m
		}
		m := *r.alloc
		out.mods[m.ID] = &m
		out.records[m.ID] = r
		return &m
	}
	for _, sr := range res.stops {
		m := mod(sr.r)
		m.DesiredStatus = api.AllocDesiredStatusStop
		m.DesiredDescription = sr.desc
		if sr.clientStatus != "" {
			m.ClientStatus = sr.clientStatus
		}
	}
	for id, u := range res.updates {
		r := st.allocs[id]
		m := mod(r)
		m.FollowupEvalID = u.FollowupEvalID
		m.Job = u.Job
	}

	for _, pl := range res.places {
		name := *pl.tg.Name
		out.queued[name]++
		if m, ok := out.failed[name]; ok {
			m.CoalescedFailures++
			exhaustResources(m, pl.tg)
			continue
		}
		if pl.prev != nil && pl.stopPrev != "" {
			p.stop(pl.prev)
		}
		opts := selectOpts{penalty: map[string]bool{}}
		if pl.prev != nil {
			if pl.prev.alloc.ClientStatus == api.AllocClientStatusFailed {
				opts.penalty[pl.prev.alloc.NodeID] = true
			}
			if tr := pl.prev.alloc.RescheduleTracker; tr != nil {
				for _, ev := range tr.Events {
					opts.penalty[ev.PrevNodeID] = true
				}
			}
		}
		o, metric := p.selectNode(pl.tg, opts)
		if o == nil {
			exhaustResources(metric, pl.tg)
			out.failed[name] = metric
			if pl.prev != nil && pl.stopPrev != "" {
				p.unstop(pl.prev)
			}
			if pl.reschedule {
				m := mod(pl.prev)
				tr := copyTracker(m.RescheduleTracker)
				tr.LastReschedule = lastRescheduleFailedToPlace
				m.RescheduleTracker = tr
			}
			continue
		}
		p.take(o, name)
		out.queued[name]--

		a := &api.Allocation{
			ID:                 st.ids.uuid(),
			Namespace:          k.ns,
			EvalID:             e.ID,
			Name:               pl.name,
			NodeID:             o.node.node.ID,
			NodeName:           o.node.node.Name,
			JobID:              k.id,
			Job:                job,
			TaskGroup:          name,
			AllocatedResources: &api.AllocatedResources{Tasks: o.tasks, Shared: api.AllocatedSharedResources{DiskMB: o.res.disk, Ports: allocatePorts(job.LookupTaskGroup(name), o.node.node)}},
			Metrics:            metric,
			DesiredStatus:      api.AllocDesiredStatusRun,
			ClientStatus:       api.AllocClientStatusPending,
			CreateTime:         now.UnixNano(),
			ModifyTime:         now.UnixNano(),
		}
		rec := &allocRecord{key: k, node: o.node, res: o.res, alloc: a}
		if pl.prev != nil {
			a.PreviousAllocation = pl.prev.alloc.ID
			m := mod(pl.prev)
			m.NextAllocation = a.ID
			if pl.stopPrev != "" {
				m.DesiredStatus = api.AllocDesiredStatusStop
				m.DesiredDescription = pl.stopPrev
			}
			if pl.reschedule {
				s.updateRescheduleTracker(rec, pl.prev, m, now)
			}
		}
		out.allocs = append(out.allocs, rec)
	}
	if job != nil {
		for _, tg := range job.TaskGroups {
			if _, ok := out.queued[*tg.Name]; !ok {
				out.queued[*tg.Name] = 0
			}
		}
	}
	return p, out
}

func copyTracker(t *api.RescheduleTracker) *api.RescheduleTracker {
	if t == nil {
		return &api.RescheduleTracker{}
	}
	return &api.RescheduleTracker{Events: append([]*api.RescheduleEvent(nil), t.Events...), LastReschedule: t.LastReschedule}
}

// updateRescheduleTracker carries the previous allocation's reschedule
// history over to its replacement, as Nomad's UpdateRescheduleTracker.
func (s *Sim) updateRescheduleTracker(rec, prev *allocRecord, prevMod *api.Allocation, now time.Time) {
	pol := reschedulePolicy(prev.alloc)
	var events []*api.RescheduleEvent
	var delays []time.Duration
	if tr := prev.alloc.RescheduleTracker; tr != nil && pol != nil {
		if pol.Attempts != nil && *pol.Attempts > 0 {
			interval := time.Duration(0)
			if pol.Interval != nil {
				interval = *pol.Interval
			}
			for i, ev := range tr.Events {
				if interval > 0 && now.UnixNano()-ev.RescheduleTime <= interval.Nanoseconds() {
					events = append(events, ev)
					delays = append(delays, delayAt(prev.delays, i))
				}
			}
		} else {
			start := max(len(tr.Events)-5, 0)
			events = append(events, tr.Events[start:]...)
			for i := start; i < len(tr.Events); i++ {
				delays = append(delays, delayAt(prev.delays, i))
			}
		}
	}
	events = append(events, &api.RescheduleEvent{RescheduleTime: now.UnixNano(), PrevAllocID: prev.alloc.ID, PrevNodeID: prev.alloc.NodeID})
	delays = append(delays, nextDelay(prev))
	rec.alloc.RescheduleTracker = &api.RescheduleTracker{Events: events, LastReschedule: "ok"}
	rec.delays = delays
	tr := copyTracker(prevMod.RescheduleTracker)
	tr.LastReschedule = "ok"
	prevMod.RescheduleTracker = tr
}

func delayAt(d []time.Duration, i int) time.Duration {
	if i < len(d) {
		return d[i]
	}
	return 0
}

// processEval runs one evaluation: reconcile, place, then write the
// blocked evaluation, follow-ups, the plan and the evaluation's status,
// each as its own index, in Nomad's order.
func (s *Sim) processEval(id string) {
	st := s.st
	e := st.evals[id]
	if e == nil || (e.Status != api.EvalStatusPending && e.Status != api.EvalStatusBlocked) {
		return
	}
	k := jobKey{e.Namespace, e.JobID}
	var job *api.Job
	if rec := st.jobs[k]; rec != nil {
		job = rec.job
	}
	p, out := s.plan(e, job, k)
	wasBlocked := e.Status == api.EvalStatusBlocked

	var blockedID string
	if len(out.failed) > 0 && !wasBlocked {
		b := s.blockedEval(e, p, out)
		st.write(evEvalUpdated, func(tx *txn) error {
			tx.putEval(b)
			return nil
		})
		blockedID = b.ID
		if old := s.sched.track(k, b.ID); old != "" {
			s.cancelDuplicateBlocked(old)
		}
	}
	var nextEval string
	if len(out.res.followup) > 0 {
		st.write(evEvalUpdated, func(tx *txn) error {
			for _, f := range out.res.followup {
				tx.putEval(f)
			}
			return nil
		})
		nextEval = out.res.followup[len(out.res.followup)-1].ID
	}

	if len(out.mods) > 0 || len(out.allocs) > 0 {
		st.write(evPlanResult, func(tx *txn) error {
			for _, id := range sortedKeys(out.mods) {
				m := out.mods[id]
				m.AllocModifyIndex = tx.index
				m.ModifyTime = tx.now.UnixNano()
				tx.putAlloc(out.records[id], m)
			}
			for _, rec := range out.allocs {
				tx.putAlloc(rec, rec.alloc)
			}
			return nil
		})
		for _, id := range sortedKeys(out.mods) {
			m := out.mods[id]
			r := out.records[id]
			if m.DesiredStatus == api.AllocDesiredStatusStop && m.ClientStatus != api.AllocClientStatusLost && st.onStop != nil {
				allocID := r.alloc.ID
				st.defer_(func() { st.onStop(allocID) })
			}
		}
		for _, rec := range out.allocs {
			if st.onPlaced != nil {
				r := rec
				st.defer_(func() { st.onPlaced(r) })
			}
		}
	}

	now := st.clock.Now().UnixNano()
	if wasBlocked && len(out.failed) > 0 {
		// Still unable to place everything: the evaluation stays blocked,
		// keeping the failures it was blocked with, and only its queued
		// counts change when part of it was placed.
		if len(out.allocs) > 0 {
			st.write(evEvalUpdated, func(tx *txn) error {
				next := *st.evals[id]
				next.QueuedAllocations = out.queued
				next.SnapshotIndex = out.snapshot
				next.ModifyTime = now
				tx.putEval(&next)
				return nil
			})
		}
		return
	}
	st.write(evEvalUpdated, func(tx *txn) error {
		next := *st.evals[id]
		next.Status = api.EvalStatusComplete
		next.StatusDescription = ""
		next.FailedTGAllocs = nil
		if len(out.failed) > 0 {
			next.FailedTGAllocs = out.failed
		}
		next.QueuedAllocations = out.queued
		next.SnapshotIndex = out.snapshot
		next.ModifyTime = now
		if blockedID != "" {
			next.BlockedEval = blockedID
		}
		if nextEval != "" {
			next.NextEval = nextEval
		}
		tx.putEval(&next)
		return nil
	})
	if wasBlocked {
		s.sched.untrack(k, id)
	}
}

// blockedEval is the evaluation Nomad creates to place what could not be
// placed, retried whenever capacity frees.
func (s *Sim) blockedEval(e *api.Evaluation, p *planCtx, out *planOutcome) *api.Evaluation {
	now := s.st.clock.Now().UnixNano()
	// ClassEligibility records, per computed class the plan looked at,
	// whether the job could ever run there.
	elig := map[string]bool{}
	for class, v := range p.jobElig {
		if v < 0 {
			elig[class] = false
		}
	}
	for _, cache := range p.tgElig {
		for class, v := range cache {
			if _, seen := elig[class]; !seen || v > 0 {
				elig[class] = v > 0 && p.jobElig[class] >= 0
			}
		}
	}
	return &api.Evaluation{
		ID:                   s.st.ids.uuid(),
		Namespace:            e.Namespace,
		Priority:             e.Priority,
		Type:                 e.Type,
		TriggeredBy:          triggerQueuedAllocs,
		JobID:                e.JobID,
		JobModifyIndex:       e.JobModifyIndex,
		Status:               api.EvalStatusBlocked,
		StatusDescription:    descBlockedEval,
		PreviousEval:         e.ID,
		FailedTGAllocs:       out.failed,
		ClassEligibility:     elig,
		EscapedComputedClass: p.escaped,
		CreateTime:           now,
		ModifyTime:           now,
	}
}

// cancelDuplicateBlocked cancels a job's older blocked evaluation when a
// newer one replaces it, as Nomad's leader reaps duplicates.
func (s *Sim) cancelDuplicateBlocked(id string) {
	st := s.st
	old := st.evals[id]
	if old == nil || old.Status != api.EvalStatusBlocked {
		return
	}
	st.write(evEvalUpdated, func(tx *txn) error {
		c := *old
		c.Status = api.EvalStatusCancelled
		c.StatusDescription = "existing blocked evaluation exists for job \"" + old.JobID + "\""
		c.ModifyTime = tx.now.UnixNano()
		tx.putEval(&c)
		return nil
	})
}
