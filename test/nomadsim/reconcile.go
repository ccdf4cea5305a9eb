package nomadsim

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"time"

	"github.com/hashicorp/nomad/api"
)

// Descriptions Nomad's scheduler gives the allocations it changes.
const (
	descAllocNotNeeded   = "alloc not needed due to job update"
	descAllocMigrating   = "alloc is being migrated"
	descAllocUpdating    = "alloc is being updated due to job update"
	descAllocLost        = "alloc is lost since its node is down"
	descAllocRescheduled = "alloc was rescheduled because it failed"
	descBlockedEval      = "created to place remaining allocations"
	descFollowupEval     = "created for delayed rescheduling"
	descMaxRunDuration   = "allocation exceeded max_run_duration"

	triggerJobRegister   = "job-register"
	triggerJobDeregister = "job-deregister"
	triggerNodeUpdate    = "node-update"
	triggerAllocStop     = "alloc-stop"
	triggerQueuedAllocs  = "queued-allocs"
	triggerAllocFailure  = "alloc-failure"

	// rescheduleWindow lets an allocation due within a second be
	// rescheduled now rather than by a follow-up evaluation.
	rescheduleWindow = time.Second
	// followupBatchWindow batches delayed reschedules into one
	// evaluation, as Nomad's batchedFailedAllocWindowSize.
	followupBatchWindow = 5 * time.Second
)

// placement is one allocation the plan wants to create.
type placement struct {
	tg         *api.TaskGroup
	name       string
	prev       *allocRecord
	reschedule bool
	// stopPrev is the description the previous allocation is stopped with
	// once this placement succeeds ("" when it is not stopped by it).
	stopPrev string
}

// stopReq is one allocation the plan stops.
type stopReq struct {
	r            *allocRecord
	desc         string
	clientStatus string
}

// reconcileResult is what the plan must do for the job.
type reconcileResult struct {
	places   []placement
	stops    []stopReq
	updates  map[string]*api.Allocation // in-place changes to existing allocations
	followup []*api.Evaluation
	desired  map[string]*api.DesiredUpdates
}

func (res *reconcileResult) want(tg string) *api.DesiredUpdates {
	d := res.desired[tg]
	if d == nil {
		d = &api.DesiredUpdates{}
		res.desired[tg] = d
	}
	return d
}

func allocIndex(name string) int {
	suffix := api.AllocSuffix(name)
	if len(suffix) < 3 {
		return -1
	}
	var i int
	if _, err := fmt.Sscanf(suffix, "[%d]", &i); err != nil {
		return -1
	}
	return i
}

// reconcile compares the job with its allocations and decides what to
// stop, what to place and what to reschedule, following Nomad's
// allocation reconciler for batch and service jobs (without deployments,
// canaries or disconnected clients).
func (p *planCtx) reconcile(e *api.Evaluation, now time.Time) *reconcileResult {
	st := p.st
	res := &reconcileResult{updates: map[string]*api.Allocation{}, desired: map[string]*api.DesiredUpdates{}}
	byTG := map[string][]*allocRecord{}
	for _, r := range st.jobAllocs[p.key] {
		byTG[r.alloc.TaskGroup] = append(byTG[r.alloc.TaskGroup], r)
	}
	for tg := range byTG {
		sort.Slice(byTG[tg], func(i, j int) bool { return byTG[tg][i].alloc.CreateIndex < byTG[tg][j].alloc.CreateIndex })
	}

	job := p.job
	if job == nil || *job.Stop {
		for _, tg := range sortedKeys(byTG) {
			for _, r := range byTG[tg] {
				if allocTerminal(r.alloc) {
					continue
				}
				p.stopAlloc(res, r, descAllocNotNeeded, "")
				res.want(tg).Stop++
			}
		}
		if job != nil {
			for _, tg := range job.TaskGroups {
				res.want(*tg.Name)
			}
		}
		return res
	}

	groups := map[string]bool{}
	for name := range byTG {
		groups[name] = true
	}
	for _, tg := range job.TaskGroups {
		groups[*tg.Name] = true
	}
	for _, name := range sortedKeys(groups) {
		p.reconcileGroup(res, e, job.LookupTaskGroup(name), name, byTG[name], now)
	}
	return res
}

func (p *planCtx) stopAlloc(res *reconcileResult, r *allocRecord, desc, clientStatus string) {
	if r.node.node.Status == api.NodeStatusDown && !clientTerminal(r.alloc) {
		desc, clientStatus = descAllocLost, api.AllocClientStatusLost
	}
	res.stops = append(res.stops, stopReq{r: r, desc: desc, clientStatus: clientStatus})
	p.stop(r)
}

func (p *planCtx) reconcileGroup(res *reconcileResult, e *api.Evaluation, tg *api.TaskGroup, name string, allocs []*allocRecord, now time.Time) {
	job := p.job
	want := res.want(name)

	// filterServerTerminalAllocs: a stopped allocation no longer counts,
	// except a batch one, which may have run to completion.
	var all []*allocRecord
	for _, r := range allocs {
		a := r.alloc
		if !serverTerminal(a) || (*a.Job.Type == api.JobTypeBatch && !transition(a.DesiredTransition.Reschedule)) {
			all = append(all, r)
		}
	}

	if tg == nil || *tg.Count == 0 {
		for _, r := range all {
			if allocTerminal(r.alloc) {
				continue
			}
			p.stopAlloc(res, r, descAllocNotNeeded, "")
			want.Stop++
		}
		return
	}

	// Terminal allocations of an older version of a batch job are history,
	// not part of the current run.
	if p.batch {
		var keep []*allocRecord
		for _, r := range all {
			a := r.alloc
			older := *a.Job.Version < *job.Version || *a.Job.CreateIndex < *job.CreateIndex
			if older && allocTerminal(a) {
				want.Ignore++
				continue
			}
			keep = append(keep, r)
		}
		all = keep
	}

	// classifyAllocs
	var untaintedAll, migrate, lost []*allocRecord
	for _, r := range all {
		a := r.alloc
		switch {
		case allocTerminal(a):
			untaintedAll = append(untaintedAll, r)
		case transition(a.DesiredTransition.Migrate):
			migrate = append(migrate, r)
		case r.node.node.Status == api.NodeStatusDown:
			lost = append(lost, r)
		default:
			untaintedAll = append(untaintedAll, r)
		}
	}

	// filterByRescheduleable
	var untainted, rescheduleNow []*allocRecord
	type later struct {
		r  *allocRecord
		at time.Time
	}
	var rescheduleLater []later
	for _, r := range untaintedAll {
		a := r.alloc
		if a.NextAllocation != "" && allocTerminal(a) {
			continue
		}
		isUntainted, ignore := shouldFilter(a, p.batch)
		if isUntainted {
			untainted = append(untainted, r)
			continue
		}
		if ignore {
			continue
		}
		at, eligible := nextRescheduleTime(r, now)
		if eligible && (a.FollowupEvalID == e.ID || at.Sub(now) <= rescheduleWindow) {
			rescheduleNow = append(rescheduleNow, r)
			continue
		}
		untainted = append(untainted, r)
		if eligible && a.FollowupEvalID == "" {
			rescheduleLater = append(rescheduleLater, later{r, at})
		}
	}

	// Delayed reschedules get follow-up evaluations, batched.
	if len(rescheduleLater) > 0 {
		sort.Slice(rescheduleLater, func(i, j int) bool { return rescheduleLater[i].at.Before(rescheduleLater[j].at) })
		var cur *api.Evaluation
		var curAt time.Time
		for _, l := range rescheduleLater {
			if cur == nil || l.at.Sub(curAt) >= followupBatchWindow {
				nowNano := now.UnixNano()
				cur = &api.Evaluation{
					ID: p.st.ids.uuid(), Namespace: p.key.ns, Priority: e.Priority, Type: e.Type,
					TriggeredBy: triggerAllocFailure, JobID: p.key.id, Status: api.EvalStatusPending,
					StatusDescription: descFollowupEval, WaitUntil: l.at, PreviousEval: e.ID,
					CreateTime: nowNano, ModifyTime: nowNano,
				}
				if job.JobModifyIndex != nil {
					cur.JobModifyIndex = *job.JobModifyIndex
				}
				curAt = l.at
				res.followup = append(res.followup, cur)
			}
			u := *l.r.alloc
			u.FollowupEvalID = cur.ID
			res.updates[u.ID] = &u
			want.RescheduleLater++
		}
	}

	// Names in use: everything that keeps or replaces its name.
	taken := map[int]bool{}
	for _, set := range [][]*allocRecord{untainted, migrate, rescheduleNow, lost} {
		for _, r := range set {
			taken[allocIndex(r.alloc.Name)] = true
		}
	}

	// Lost and migrating allocations are stopped and replaced.
	for _, r := range lost {
		p.stopAlloc(res, r, descAllocLost, api.AllocClientStatusLost)
		want.Stop++
	}
	for _, r := range migrate {
		p.stopAlloc(res, r, descAllocMigrating, "")
		want.Migrate++
	}

	// computeStop: more allocations than the count wants.
	count := *tg.Count
	present := len(untainted) + len(migrate) + len(rescheduleNow) + len(lost)
	if extra := len(untainted) + len(migrate) - count; extra > 0 {
		sort.SliceStable(untainted, func(i, j int) bool {
			return allocIndex(untainted[i].alloc.Name) > allocIndex(untainted[j].alloc.Name)
		})
		var keep []*allocRecord
		for _, r := range untainted {
			if extra > 0 && !allocTerminal(r.alloc) {
				p.stopAlloc(res, r, descAllocNotNeeded, "")
				want.Stop++
				extra--
				present--
				delete(taken, allocIndex(r.alloc.Name))
				continue
			}
			keep = append(keep, r)
		}
		untainted = keep
	}

	// computeUpdates: live allocations of another job version are updated
	// in place when the task group is unchanged, destructively otherwise.
	var destructive []*allocRecord
	for _, r := range untainted {
		a := r.alloc
		if allocTerminal(a) || *a.Job.JobModifyIndex == *job.JobModifyIndex {
			want.Ignore++
			continue
		}
		if groupChanged(a.Job, job, tg) {
			destructive = append(destructive, r)
			continue
		}
		u := *a
		if prev, ok := res.updates[u.ID]; ok {
			u = *prev
		}
		u.Job = job
		res.updates[u.ID] = &u
		want.InPlaceUpdate++
	}

	for _, r := range destructive {
		res.places = append(res.places, placement{tg: tg, name: r.alloc.Name, prev: r, stopPrev: descAllocUpdating})
		want.DestructiveUpdate++
	}
	for _, r := range rescheduleNow {
		res.places = append(res.places, placement{tg: tg, name: r.alloc.Name, prev: r, reschedule: true, stopPrev: descAllocRescheduled})
		want.Place++
		want.RescheduleNow++
	}
	for _, r := range lost {
		res.places = append(res.places, placement{tg: tg, name: r.alloc.Name, prev: r})
		want.Place++
	}
	for _, r := range migrate {
		res.places = append(res.places, placement{tg: tg, name: r.alloc.Name, prev: r})
		want.Place++
	}
	for missing, i := count-present, 0; missing > 0; i++ {
		if taken[i] {
			continue
		}
		taken[i] = true
		res.places = append(res.places, placement{tg: tg, name: fmt.Sprintf("%s.%s[%d]", *job.ID, name, i)})
		want.Place++
		missing--
	}
}

func transition(b *bool) bool { return b != nil && *b }

// shouldFilter is Nomad's rule for which terminal allocations still count
// (untainted) and which are forgotten (ignore); the rest are candidates
// for rescheduling.
func shouldFilter(a *api.Allocation, batch bool) (untainted, ignore bool) {
	if batch {
		if transition(a.DesiredTransition.Reschedule) {
			return false, false
		}
		switch a.DesiredStatus {
		case api.AllocDesiredStatusStop:
			if ranSuccessfully(a) {
				return true, false
			}
			if lastRescheduleFailed(a) {
				return false, false
			}
			return false, true
		case api.AllocDesiredStatusEvict:
			return false, true
		}
		if a.ClientStatus == api.AllocClientStatusFailed {
			return false, false
		}
		return true, false
	}
	switch a.DesiredStatus {
	case api.AllocDesiredStatusStop, api.AllocDesiredStatusEvict:
		if lastRescheduleFailed(a) {
			return false, false
		}
		return false, true
	}
	switch a.ClientStatus {
	case api.AllocClientStatusComplete, api.AllocClientStatusLost:
		return false, true
	}
	return false, false
}

func ranSuccessfully(a *api.Allocation) bool {
	if a.ClientStatus == api.AllocClientStatusComplete {
		return true
	}
	if len(a.TaskStates) == 0 {
		return false
	}
	for _, ts := range a.TaskStates {
		if ts.State != "dead" || ts.Failed {
			return false
		}
	}
	return true
}

const lastRescheduleFailedToPlace = "no placement"

func lastRescheduleFailed(a *api.Allocation) bool {
	return a.RescheduleTracker != nil && a.RescheduleTracker.LastReschedule == lastRescheduleFailedToPlace
}

// groupChanged says whether moving an allocation to the new job version
// needs a new allocation, as Nomad's tasksUpdated decides: a change to
// the tasks, the group's disk, networks, volumes or meta, or the job's
// meta. Count, policies and constraints update in place.
func groupChanged(old, cur *api.Job, tg *api.TaskGroup) bool {
	oldTG := old.LookupTaskGroup(*tg.Name)
	if oldTG == nil {
		return true
	}
	destructive := func(g *api.TaskGroup) string {
		b, _ := json.Marshal([]any{g.Tasks, g.EphemeralDisk, g.Networks, g.Volumes, g.Meta})
		return string(b)
	}
	if destructive(oldTG) != destructive(tg) {
		return true
	}
	return !reflect.DeepEqual(old.Meta, cur.Meta)
}

// reschedulePolicy is the task group's policy for the allocation's job.
func reschedulePolicy(a *api.Allocation) *api.ReschedulePolicy {
	if a.Job == nil {
		return nil
	}
	tg := a.Job.LookupTaskGroup(a.TaskGroup)
	if tg == nil {
		return nil
	}
	return tg.ReschedulePolicy
}

// lastEventTime is when the allocation's last task finished.
func lastEventTime(a *api.Allocation) time.Time {
	var last time.Time
	for _, ts := range a.TaskStates {
		if ts.FinishedAt.After(last) {
			last = ts.FinishedAt
		}
	}
	if last.IsZero() {
		return time.Unix(0, a.ModifyTime)
	}
	return last
}

// nextDelay is Nomad's NextDelay: the policy's delay, grown by the delay
// function over earlier reschedules, capped by max_delay.
func nextDelay(r *allocRecord) time.Duration {
	pol := reschedulePolicy(r.alloc)
	if pol == nil || pol.Delay == nil {
		return 0
	}
	delay := *pol.Delay
	delays := r.rescheduleDelays()
	if len(delays) == 0 {
		return delay
	}
	fn := ""
	if pol.DelayFunction != nil {
		fn = *pol.DelayFunction
	}
	switch fn {
	case "exponential":
		delay = delays[len(delays)-1] * 2
	case "fibonacci":
		if len(delays) >= 2 {
			n1, n2 := delays[len(delays)-1], delays[len(delays)-2]
			if pol.MaxDelay != nil && n2 == *pol.MaxDelay && n1 == *pol.Delay {
				delay = n1
			} else {
				delay = n1 + n2
			}
		}
	default:
		return delay
	}
	if pol.MaxDelay != nil && *pol.MaxDelay > 0 && delay > *pol.MaxDelay {
		delay = *pol.MaxDelay
		events := r.alloc.RescheduleTracker.Events
		last := events[len(events)-1]
		if lastEventTime(r.alloc).UnixNano()-last.RescheduleTime > delay.Nanoseconds() {
			delay = *pol.Delay
		}
	}
	return delay
}

// nextRescheduleTime is Nomad's NextRescheduleTime for a failed
// allocation: when it may be replaced, and whether it may at all.
func nextRescheduleTime(r *allocRecord, now time.Time) (time.Time, bool) {
	a := r.alloc
	pol := reschedulePolicy(a)
	failTime := lastEventTime(a)
	if a.DesiredStatus == api.AllocDesiredStatusStop || a.ClientStatus != api.AllocClientStatusFailed || failTime.IsZero() || pol == nil {
		return time.Time{}, false
	}
	delay := nextDelay(r)
	at := failTime.Add(delay)
	attempts := 0
	if pol.Attempts != nil {
		attempts = *pol.Attempts
	}
	unlimited := pol.Unlimited != nil && *pol.Unlimited
	eligible := unlimited || (attempts > 0 && a.RescheduleTracker == nil)
	if attempts > 0 && a.RescheduleTracker != nil && a.RescheduleTracker.Events != nil {
		attempted := 0
		interval := time.Duration(0)
		if pol.Interval != nil {
			interval = *pol.Interval
		}
		for _, ev := range a.RescheduleTracker.Events {
			if failTime.UnixNano()-ev.RescheduleTime < interval.Nanoseconds() {
				attempted++
			}
		}
		eligible = attempted < attempts && delay < interval
	}
	return at, eligible
}

// rescheduleEligible is what the client-update path checks before
// creating an alloc-failure evaluation: attempts remain in the interval.
func rescheduleEligible(r *allocRecord, now time.Time) bool {
	pol := reschedulePolicy(r.alloc)
	if pol == nil {
		return false
	}
	if pol.Unlimited != nil && *pol.Unlimited {
		return true
	}
	attempts := 0
	if pol.Attempts != nil {
		attempts = *pol.Attempts
	}
	if attempts == 0 {
		return false
	}
	tr := r.alloc.RescheduleTracker
	if tr == nil {
		return true
	}
	interval := time.Duration(0)
	if pol.Interval != nil {
		interval = *pol.Interval
	}
	attempted := 0
	for _, ev := range tr.Events {
		if now.UnixNano()-ev.RescheduleTime < interval.Nanoseconds() {
			attempted++
		}
	}
	return attempted < attempts
}
