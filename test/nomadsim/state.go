package nomadsim

import (
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/nomad/api"

	"github.com/nomad-tune/tune/clock"
)

// Tables, as Nomad's state store names them; each has the index of the
// last write that touched it, which is what list endpoints report in
// X-Nomad-Index.
const (
	tableJobs    = "jobs"
	tableSummary = "job_summary"
	tableAllocs  = "allocs"
	tableEvals   = "evals"
	tableNodes   = "nodes"
)

// Event types, as Nomad names the raft messages that produced them.
const (
	evJobRegistered    = "JobRegistered"
	evJobDeregistered  = "JobDeregistered"
	evPlanResult       = "PlanResult"
	evEvalUpdated      = "EvaluationUpdated"
	evAllocUpdated     = "AllocationUpdated"
	evAllocDesired     = "AllocationUpdateDesiredStatus"
	evNodeEvent        = "NodeStreamEvent"
	evNodeRegistration = "NodeRegistration"
)

// maxJobVersions is how many versions of a job are kept, as Nomad's
// JobTrackedVersions.
const maxJobVersions = 6

type jobKey struct{ ns, id string }

// jobRecord is a job, its kept versions and its summary. Every object the
// store hands out is immutable: a change stores a modified copy, so
// readers may encode what they took under the lock after releasing it.
type jobRecord struct {
	job      *api.Job
	versions []*api.Job
	summary  *api.JobSummary
}

// watchIndexes are the indexes of the last change to a job's own objects:
// what a blocking query on that job waits for, as Nomad's watch sets do.
type watchIndexes struct{ job, allocs, evals, summary uint64 }

// allocRecord is an allocation and what it was granted on its node.
type allocRecord struct {
	alloc   *api.Allocation
	key     jobKey
	node    *simNode
	res     allocRes
	holding bool
	// delays are the delays of the reschedule events in the allocation's
	// RescheduleTracker, which the API type does not carry but Nomad's
	// exponential and fibonacci delay functions grow from.
	delays []time.Duration
}

func (r *allocRecord) rescheduleDelays() []time.Duration { return r.delays }

// allocRes is what one allocation takes on its node.
type allocRes struct {
	cpu, mem, disk int64
	cores          []uint16
	devices        []string
}

// state is the simulator's state store: one lock, one raft-like index.
// Methods whose names do not say otherwise expect the lock to be held.
type state struct {
	mu    sync.Mutex
	after []func()

	clock      clock.Clock
	ids        *idSource
	region     string
	namespaces map[string]bool

	index  uint64
	tables map[string]uint64

	jobs      map[jobKey]*jobRecord
	watch     map[jobKey]*watchIndexes
	allocs    map[string]*allocRecord
	jobAllocs map[jobKey]map[string]*allocRecord
	evals     map[string]*api.Evaluation
	jobEvals  map[jobKey]map[string]*api.Evaluation
	nodes     []*simNode
	nodeByID  map[string]*simNode
	pools     map[string]bool
	// vars are the Nomad Variables, by namespace and path.
	vars map[varKey]*api.Variable

	changed chan struct{}
	broker  *broker

	// planNodes is scratch space for plans' node lists.
	planNodes []*simNode
	// attrs caches each node's interpolation names (node.*, attr.*,
	// meta.*), built once per node version.
	attrs sync.Map

	// hooks connect the store to the scheduler and the simulated clients;
	// they run after the lock is released.
	onEval     func(e *api.Evaluation)
	onUnblock  func(classes map[string]bool)
	onPlaced   func(r *allocRecord)
	onStop     func(allocID string)
	onNodeDown func(nodeID string)
}

func newState(clock clock.Clock, ids *idSource, region string, namespaces []string, b *broker) *state {
	st := &state{
		clock:      clock,
		ids:        ids,
		region:     region,
		namespaces: map[string]bool{},
		tables:     map[string]uint64{},
		jobs:       map[jobKey]*jobRecord{},
		watch:      map[jobKey]*watchIndexes{},
		allocs:     map[string]*allocRecord{},
		jobAllocs:  map[jobKey]map[string]*allocRecord{},
		evals:      map[string]*api.Evaluation{},
		jobEvals:   map[jobKey]map[string]*api.Evaluation{},
		nodeByID:   map[string]*simNode{},
		pools:      map[string]bool{"all": true, "default": true},
		changed:    make(chan struct{}),
		broker:     b,
	}
	for _, ns := range namespaces {
		st.namespaces[ns] = true
	}
	st.namespaces[api.DefaultNamespace] = true
	return st
}

func (st *state) lock() { st.mu.Lock() }

// unlock releases the lock, then runs what the writes asked to run
// outside it (starting client runners, waking the scheduler).
func (st *state) unlock() {
	after := st.after
	st.after = nil
	st.mu.Unlock()
	for _, f := range after {
		f()
	}
}

func (st *state) defer_(f func()) { st.after = append(st.after, f) }

func (st *state) watchFor(k jobKey) *watchIndexes {
	w := st.watch[k]
	if w == nil {
		w = &watchIndexes{}
		st.watch[k] = w
	}
	return w
}

func (st *state) tableIndex(tables ...string) uint64 {
	var idx uint64
	for _, t := range tables {
		idx = max(idx, st.tables[t])
	}
	return idx
}

// txn is one write: one index, one event batch, as one raft apply.
type txn struct {
	st      *state
	index   uint64
	now     time.Time
	typ     string
	events  []*event
	touched map[string]bool
	// freed are the computed classes of nodes where an allocation
	// stopped holding resources, which unblocks blocked evaluations that
	// may fit there.
	freed map[string]bool
	// statusCheck are jobs whose status may have changed.
	statusCheck map[jobKey]bool
}

// write applies fn as one transaction. fn must check everything that can
// fail before it changes anything: an error discards the index, not the
// changes.
func (st *state) write(typ string, fn func(tx *txn) error) (uint64, error) {
	tx := &txn{st: st, index: st.index + 1, now: st.clock.Now(), typ: typ, touched: map[string]bool{}, statusCheck: map[jobKey]bool{}}
	if err := fn(tx); err != nil {
		return 0, err
	}
	for k := range tx.statusCheck {
		tx.refreshJobStatus(k)
	}
	st.index = tx.index
	for t := range tx.touched {
		st.tables[t] = tx.index
	}
	if len(tx.events) > 0 {
		st.broker.publish(tx.index, tx.events)
	}
	close(st.changed)
	st.changed = make(chan struct{})
	if len(tx.freed) > 0 && st.onUnblock != nil {
		classes := tx.freed
		st.defer_(func() { st.onUnblock(classes) })
	}
	return tx.index, nil
}

func (tx *txn) touch(tables ...string) {
	for _, t := range tables {
		tx.touched[t] = true
	}
}

func (tx *txn) emit(topic, key, ns string, filterKeys []string, payload map[string]any) {
	tx.events = append(tx.events, &event{
		Topic:      topic,
		Type:       tx.typ,
		Key:        key,
		Namespace:  ns,
		FilterKeys: filterKeys,
		Index:      tx.index,
		Payload:    payload,
	})
}

// --- jobs ---

// putJob stores a new version of a job (or the first one).
func (tx *txn) putJob(job *api.Job) {
	st := tx.st
	k := jobKey{*job.Namespace, *job.ID}
	rec := st.jobs[k]
	if rec == nil {
		rec = &jobRecord{}
		st.jobs[k] = rec
	}
	rec.job = job
	rec.versions = append(rec.versions, job)
	if len(rec.versions) > maxJobVersions {
		rec.versions = rec.versions[len(rec.versions)-maxJobVersions:]
	}
	tx.ensureSummary(k, job)
	st.watchFor(k).job = tx.index
	tx.touch(tableJobs)
	tx.emit(string(api.TopicJob), *job.ID, *job.Namespace, nil, map[string]any{"Job": job})
	tx.statusCheck[k] = true
}

// deleteJob purges a job and its summary; its allocations and
// evaluations stay, as they do in Nomad until garbage collection.
func (tx *txn) deleteJob(k jobKey) {
	st := tx.st
	rec := st.jobs[k]
	if rec == nil {
		return
	}
	delete(st.jobs, k)
	st.watchFor(k).job = tx.index
	st.watchFor(k).summary = tx.index
	tx.touch(tableJobs, tableSummary)
	tx.emit(string(api.TopicJob), k.id, k.ns, nil, map[string]any{"Job": rec.job, "Deleted": true})
}

func (tx *txn) ensureSummary(k jobKey, job *api.Job) {
	rec := tx.st.jobs[k]
	var s api.JobSummary
	if rec.summary != nil {
		s = *rec.summary
		s.Summary = cloneMap(rec.summary.Summary)
	} else {
		s = api.JobSummary{JobID: k.id, Namespace: k.ns, Summary: map[string]api.TaskGroupSummary{},
			Children: &api.JobChildrenSummary{}, CreateIndex: tx.index}
	}
	changed := rec.summary == nil
	for _, tg := range job.TaskGroups {
		if _, ok := s.Summary[*tg.Name]; !ok {
			s.Summary[*tg.Name] = api.TaskGroupSummary{}
			changed = true
		}
	}
	if changed {
		s.ModifyIndex = tx.index
		rec.summary = &s
		tx.st.watchFor(k).summary = tx.index
		tx.touch(tableSummary)
	}
}

// updateSummary applies fn to a copy of one task group's summary.
func (tx *txn) updateSummary(k jobKey, tg string, fn func(s *api.TaskGroupSummary)) {
	rec := tx.st.jobs[k]
	if rec == nil || rec.summary == nil {
		return
	}
	cur, ok := rec.summary.Summary[tg]
	if !ok {
		return
	}
	next := cur
	fn(&next)
	if next == cur {
		return
	}
	s := *rec.summary
	s.Summary = cloneMap(rec.summary.Summary)
	s.Summary[tg] = next
	s.ModifyIndex = tx.index
	rec.summary = &s
	tx.st.watchFor(k).summary = tx.index
	tx.touch(tableSummary)
}

// refreshJobStatus recomputes a job's status the way Nomad's state store
// does and stores a copy when it changed.
func (tx *txn) refreshJobStatus(k jobKey) {
	st := tx.st
	rec := st.jobs[k]
	if rec == nil {
		return
	}
	status := st.jobStatus(k, rec.job)
	if rec.job.Status != nil && *rec.job.Status == status {
		return
	}
	j := *rec.job
	j.Status = new(status)
	j.ModifyIndex = new(tx.index)
	rec.job = &j
	if n := len(rec.versions); n > 0 && *rec.versions[n-1].Version == *j.Version {
		rec.versions[n-1] = &j
	}
	st.watchFor(k).job = tx.index
	tx.touch(tableJobs)
	tx.emit(string(api.TopicJob), k.id, k.ns, nil, map[string]any{"Job": &j})
}

// jobStatus is Nomad's getJobStatus for batch and service jobs: running
// while any allocation is not terminal, pending while an evaluation is
// not, dead once everything has ended.
func (st *state) jobStatus(k jobKey, job *api.Job) string {
	if *job.Type == api.JobTypeSystem || job.IsParameterized() || job.IsPeriodic() {
		if *job.Stop {
			return "dead"
		}
		return "running"
	}
	for _, r := range st.jobAllocs[k] {
		if !allocTerminal(r.alloc) {
			return "running"
		}
	}
	hasEval := false
	for _, e := range st.jobEvals[k] {
		if !evalTerminal(e) {
			return "pending"
		}
		hasEval = true
	}
	if hasEval || *job.Stop {
		return "dead"
	}
	return "pending"
}

// --- allocations ---

func clientTerminal(a *api.Allocation) bool {
	switch a.ClientStatus {
	case api.AllocClientStatusComplete, api.AllocClientStatusFailed, api.AllocClientStatusLost:
		return true
	}
	return false
}

func serverTerminal(a *api.Allocation) bool {
	return a.DesiredStatus == api.AllocDesiredStatusStop || a.DesiredStatus == api.AllocDesiredStatusEvict
}

func allocTerminal(a *api.Allocation) bool { return clientTerminal(a) || serverTerminal(a) }

// putAlloc stores a new allocation or a new version of one, keeping the
// node's usage, the job summary and the job's status in step.
func (tx *txn) putAlloc(r *allocRecord, next *api.Allocation) {
	st := tx.st
	prev := r.alloc
	isNew := st.allocs[next.ID] == nil
	a := *next
	if isNew {
		a.CreateIndex = tx.index
		a.AllocModifyIndex = tx.index
	}
	a.ModifyIndex = tx.index
	r.alloc = &a
	if isNew {
		st.allocs[a.ID] = r
		m := st.jobAllocs[r.key]
		if m == nil {
			m = map[string]*allocRecord{}
			st.jobAllocs[r.key] = m
		}
		m[a.ID] = r
		if !clientTerminal(&a) {
			r.node.hold(r)
		}
	} else if clientTerminal(&a) && r.holding {
		r.node.release(r)
		if tx.freed == nil {
			tx.freed = map[string]bool{}
		}
		tx.freed[r.node.class] = true
	}

	// Job summary bins, moved as Nomad's updateSummaryWithAlloc moves them.
	if isNew {
		if a.ClientStatus == api.AllocClientStatusPending {
			tx.updateSummary(r.key, a.TaskGroup, func(s *api.TaskGroupSummary) {
				s.Starting++
				if s.Queued > 0 {
					s.Queued--
				}
			})
		}
	} else if prev.ClientStatus != a.ClientStatus {
		tx.updateSummary(r.key, a.TaskGroup, func(s *api.TaskGroupSummary) {
			switch a.ClientStatus {
			case api.AllocClientStatusRunning:
				s.Running++
			case api.AllocClientStatusFailed:
				s.Failed++
			case api.AllocClientStatusPending:
				s.Starting++
			case api.AllocClientStatusComplete:
				s.Complete++
			case api.AllocClientStatusLost:
				s.Lost++
			case api.AllocClientStatusUnknown:
				s.Unknown++
			}
			switch prev.ClientStatus {
			case api.AllocClientStatusRunning:
				if s.Running > 0 {
					s.Running--
				}
			case api.AllocClientStatusPending:
				if s.Starting > 0 {
					s.Starting--
				}
			case api.AllocClientStatusLost:
				if s.Lost > 0 {
					s.Lost--
				}
			case api.AllocClientStatusUnknown:
				if s.Unknown > 0 {
					s.Unknown--
				}
			}
		})
	}

	st.watchFor(r.key).allocs = tx.index
	tx.touch(tableAllocs)
	tx.statusCheck[r.key] = true

	// Events carry the allocation without its job, to keep them small.
	ev := a
	ev.Job = nil
	payload := map[string]any{"Allocation": &ev}
	if a.ClientStatus == api.AllocClientStatusComplete && a.ClientDescription == descMaxRunDuration {
		payload["Timeout"] = true
		payload["TimeoutReason"] = a.ClientDescription
	}
	tx.emit(string(api.TopicAllocation), a.ID, a.Namespace, []string{a.JobID, a.DeploymentID}, payload)
}

// --- evaluations ---

func evalTerminal(e *api.Evaluation) bool {
	switch e.Status {
	case api.EvalStatusComplete, api.EvalStatusFailed, api.EvalStatusCancelled:
		return true
	}
	return false
}

// putEval stores an evaluation; like Nomad, a successful evaluation
// cancels the job's blocked evaluations, and an evaluation's queued
// allocations become the summary's Queued counts.
func (tx *txn) putEval(next *api.Evaluation) {
	st := tx.st
	k := jobKey{next.Namespace, next.JobID}
	e := *next
	if old := st.evals[e.ID]; old != nil {
		e.CreateIndex = old.CreateIndex
	} else {
		e.CreateIndex = tx.index
	}
	e.ModifyIndex = tx.index

	for tg, n := range e.QueuedAllocations {
		tx.updateSummary(k, tg, func(s *api.TaskGroupSummary) { s.Queued = n })
	}

	if e.Status == api.EvalStatusComplete && len(e.FailedTGAllocs) == 0 {
		for _, b := range st.jobEvals[k] {
			if b.Status == api.EvalStatusBlocked && b.ID != e.ID {
				c := *b
				c.Status = api.EvalStatusCancelled
				c.StatusDescription = "evaluation \"" + e.ID + "\" successful"
				c.ModifyIndex = tx.index
				c.ModifyTime = e.ModifyTime
				tx.storeEval(k, &c)
			}
		}
	}
	tx.storeEval(k, &e)

	if e.Status == api.EvalStatusPending && st.onEval != nil {
		cp := &e
		st.defer_(func() { st.onEval(cp) })
	}
}

func (tx *txn) storeEval(k jobKey, e *api.Evaluation) {
	st := tx.st
	st.evals[e.ID] = e
	m := st.jobEvals[k]
	if m == nil {
		m = map[string]*api.Evaluation{}
		st.jobEvals[k] = m
	}
	m[e.ID] = e
	st.watchFor(k).evals = tx.index
	tx.touch(tableEvals)
	tx.statusCheck[k] = true
	tx.emit(string(api.TopicEvaluation), e.ID, e.Namespace, []string{e.JobID, e.DeploymentID}, map[string]any{"Evaluation": e})
}

// newEval is an evaluation as Nomad's endpoints create them.
func (tx *txn) newEval(k jobKey, priority int, typ, trigger string) *api.Evaluation {
	now := tx.now.UnixNano()
	return &api.Evaluation{
		ID:          tx.st.ids.uuid(),
		Namespace:   k.ns,
		Priority:    priority,
		Type:        typ,
		TriggeredBy: trigger,
		JobID:       k.id,
		Status:      api.EvalStatusPending,
		CreateTime:  now,
		ModifyTime:  now,
	}
}

// --- nodes ---

func (tx *txn) putNode(n *simNode, next *api.Node) {
	node := *next
	if n.node == nil || n.node.CreateIndex == 0 {
		node.CreateIndex = tx.index
	}
	node.ModifyIndex = tx.index
	n.node = &node
	tx.touch(tableNodes)
	tx.emit(string(api.TopicNode), node.ID, "", nil, map[string]any{"Node": &node})
}

// --- queries ---

// jobAllocList returns a job's allocations, newest first, as Nomad's API
// sorts them; all includes those of earlier incarnations of the job ID.
func (st *state) jobAllocList(k jobKey, all bool) []*api.Allocation {
	var createIndex uint64
	if rec := st.jobs[k]; rec != nil && !all {
		createIndex = *rec.job.CreateIndex
	}
	var out []*api.Allocation
	for _, r := range st.jobAllocs[k] {
		if createIndex != 0 && r.alloc.Job != nil && *r.alloc.Job.CreateIndex != createIndex {
			continue
		}
		out = append(out, r.alloc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreateIndex > out[j].CreateIndex })
	return out
}

func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
