package nomadsim

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/nomad/api"
)

// allocStub is the list form of an allocation.
func allocStub(a *api.Allocation, resources, taskStates bool) *api.AllocationListStub {
	s := a.Stub()
	if !taskStates {
		s.TaskStates = nil
	}
	if resources {
		s.AllocatedResources = a.AllocatedResources
	}
	return s
}

func (s *Sim) allocListRequest(w http.ResponseWriter, r *http.Request) (any, error) {
	if r.Method != http.MethodGet {
		return nil, codedErr(http.StatusMethodNotAllowed, errInvalidMethod)
	}
	q, err := parseQuery(r)
	if err != nil {
		return nil, err
	}
	resources, err := parseBoolParam(r, "resources")
	if err != nil {
		return nil, err
	}
	taskStates := true
	if v := r.URL.Query().Get("task_states"); v != "" {
		if taskStates, err = strconv.ParseBool(v); err != nil {
			return nil, err
		}
	}
	st := s.st
	return s.blocking(w, r, q, func() uint64 { return st.tableIndex(tableAllocs) }, func() (any, uint64, error) {
		var list []*api.Allocation
		for _, rec := range st.allocs {
			a := rec.alloc
			if (q.ns == "*" || a.Namespace == q.ns) && strings.HasPrefix(a.ID, q.prefix) {
				list = append(list, a)
			}
		}
		sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
		out := []*api.AllocationListStub{}
		for _, a := range list {
			if ok, err := q.keep(func() datum { return allocDatum(a) }); err != nil {
				return nil, 0, err
			} else if !ok {
				continue
			}
			out = append(out, allocStub(a, resources, taskStates))
		}
		return out, st.tableIndex(tableAllocs), nil
	})
}

func (s *Sim) allocSpecificRequest(w http.ResponseWriter, r *http.Request) (any, error) {
	path := trimPath(r, "/v1/allocation/")
	if id, ok := strings.CutSuffix(path, "/stop"); ok {
		return s.allocStop(w, r, id)
	}
	if strings.Contains(path, "/") {
		return nil, codedErr(http.StatusNotFound, "Invalid URL path: the simulator does not implement "+r.URL.Path)
	}
	if r.Method != http.MethodGet {
		return nil, codedErr(http.StatusMethodNotAllowed, errInvalidMethod)
	}
	q, err := parseQuery(r)
	if err != nil {
		return nil, err
	}
	st := s.st
	changed := func() uint64 {
		if rec := st.allocs[path]; rec != nil {
			return rec.alloc.ModifyIndex
		}
		return 0
	}
	return s.blocking(w, r, q, changed, func() (any, uint64, error) {
		rec := st.allocs[path]
		if rec == nil {
			return nil, st.tableIndex(tableAllocs), codedErr(http.StatusNotFound, "alloc not found")
		}
		return rec.alloc, rec.alloc.ModifyIndex, nil
	})
}

// allocStopResponse is Nomad's structs.AllocStopResponse.
type allocStopResponse struct {
	EvalID string
	Index  uint64
}

// allocStop stops one allocation and has the scheduler replace it, as
// `nomad alloc stop` does (desired transition migrate).
func (s *Sim) allocStop(w http.ResponseWriter, r *http.Request, id string) (any, error) {
	if !methodIs(r, http.MethodPut, http.MethodPost) {
		return nil, codedErr(http.StatusMethodNotAllowed, errInvalidMethod)
	}
	st := s.st
	st.lock()
	defer st.unlock()
	rec := st.allocs[id]
	if rec == nil {
		return nil, codedErr(http.StatusNotFound, "alloc not found")
	}
	resp := &allocStopResponse{}
	idx, _ := st.write(evAllocDesired, func(tx *txn) error {
		a := *rec.alloc
		a.DesiredTransition = api.DesiredTransition{Migrate: new(true)}
		a.AllocModifyIndex = tx.index
		tx.putAlloc(rec, &a)
		prio, typ := api.JobDefaultPriority, api.JobTypeService
		if j := st.jobs[rec.key]; j != nil {
			prio, typ = *j.job.Priority, *j.job.Type
		}
		e := tx.newEval(rec.key, prio, typ, triggerAllocStop)
		tx.putEval(e)
		resp.EvalID = e.ID
		return nil
	})
	resp.Index = idx
	setIndex(w, idx)
	return resp, nil
}

func (s *Sim) evalListRequest(w http.ResponseWriter, r *http.Request) (any, error) {
	if r.Method != http.MethodGet {
		return nil, codedErr(http.StatusMethodNotAllowed, errInvalidMethod)
	}
	q, err := parseQuery(r)
	if err != nil {
		return nil, err
	}
	jobFilter := r.URL.Query().Get("job")
	statusFilter := r.URL.Query().Get("status")
	st := s.st
	return s.blocking(w, r, q, func() uint64 { return st.tableIndex(tableEvals) }, func() (any, uint64, error) {
		var list []*api.Evaluation
		for _, e := range st.evals {
			if (q.ns == "*" || e.Namespace == q.ns) && strings.HasPrefix(e.ID, q.prefix) &&
				(jobFilter == "" || e.JobID == jobFilter) && (statusFilter == "" || e.Status == statusFilter) {
				list = append(list, e)
			}
		}
		sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
		out := []*api.Evaluation{}
		for _, e := range list {
			if ok, err := q.keep(func() datum { return evalDatum(e) }); err != nil {
				return nil, 0, err
			} else if !ok {
				continue
			}
			out = append(out, e)
		}
		return out, st.tableIndex(tableEvals), nil
	})
}

func (s *Sim) evalSpecificRequest(w http.ResponseWriter, r *http.Request) (any, error) {
	if r.Method != http.MethodGet {
		return nil, codedErr(http.StatusMethodNotAllowed, errInvalidMethod)
	}
	path := trimPath(r, "/v1/evaluation/")
	q, err := parseQuery(r)
	if err != nil {
		return nil, err
	}
	st := s.st
	if id, ok := strings.CutSuffix(path, "/allocations"); ok {
		return s.blocking(w, r, q, func() uint64 { return st.tableIndex(tableAllocs) }, func() (any, uint64, error) {
			out := []*api.AllocationListStub{}
			var list []*api.Allocation
			for _, rec := range st.allocs {
				if rec.alloc.EvalID == id {
					list = append(list, rec.alloc)
				}
			}
			sort.Slice(list, func(i, j int) bool { return list[i].CreateIndex > list[j].CreateIndex })
			for _, a := range list {
				out = append(out, allocStub(a, false, true))
			}
			return out, st.tableIndex(tableAllocs), nil
		})
	}
	related, _ := strconv.ParseBool(r.URL.Query().Get("related"))
	changed := func() uint64 {
		if e := st.evals[path]; e != nil {
			return e.ModifyIndex
		}
		return 0
	}
	return s.blocking(w, r, q, changed, func() (any, uint64, error) {
		e := st.evals[path]
		if e == nil {
			return nil, st.tableIndex(tableEvals), codedErr(http.StatusNotFound, "eval not found")
		}
		if !related {
			return e, e.ModifyIndex, nil
		}
		out := *e
		out.RelatedEvals = st.relatedEvals(e)
		return &out, e.ModifyIndex, nil
	})
}

// relatedEvals follows the NextEval, PreviousEval and BlockedEval links
// from an evaluation, as Nomad's related=true does.
func (st *state) relatedEvals(e *api.Evaluation) []*api.EvaluationStub {
	seen := map[string]bool{e.ID: true}
	var out []*api.EvaluationStub
	queue := []*api.Evaluation{e}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, id := range []string{cur.NextEval, cur.PreviousEval, cur.BlockedEval} {
			if id == "" || seen[id] {
				continue
			}
			seen[id] = true
			if o := st.evals[id]; o != nil {
				out = append(out, &api.EvaluationStub{
					ID: o.ID, Priority: o.Priority, Type: o.Type, TriggeredBy: o.TriggeredBy,
					Namespace: o.Namespace, JobID: o.JobID, NodeID: o.NodeID, DeploymentID: o.DeploymentID,
					Status: o.Status, StatusDescription: o.StatusDescription, WaitUntil: o.WaitUntil,
					NextEval: o.NextEval, PreviousEval: o.PreviousEval, BlockedEval: o.BlockedEval,
					CreateIndex: o.CreateIndex, ModifyIndex: o.ModifyIndex, CreateTime: o.CreateTime, ModifyTime: o.ModifyTime,
				})
				queue = append(queue, o)
			}
		}
	}
	return out
}

func (s *Sim) nodeListRequest(w http.ResponseWriter, r *http.Request) (any, error) {
	if r.Method != http.MethodGet {
		return nil, codedErr(http.StatusMethodNotAllowed, errInvalidMethod)
	}
	q, err := parseQuery(r)
	if err != nil {
		return nil, err
	}
	resources, err := parseBoolParam(r, "resources")
	if err != nil {
		return nil, err
	}
	os, err := parseBoolParam(r, "os")
	if err != nil {
		return nil, err
	}
	st := s.st
	return s.blocking(w, r, q, func() uint64 { return st.tableIndex(tableNodes) }, func() (any, uint64, error) {
		out := []*api.NodeListStub{}
		var list []*api.Node
		for _, n := range st.nodes {
			if strings.HasPrefix(n.node.ID, q.prefix) {
				list = append(list, n.node)
			}
		}
		sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
		for _, n := range list {
			if ok, err := q.keep(func() datum { return nodeDatum(n) }); err != nil {
				return nil, 0, err
			} else if !ok {
				continue
			}
			out = append(out, nodeStub(n, resources, os))
		}
		return out, st.tableIndex(tableNodes), nil
	})
}

func (s *Sim) nodeSpecificRequest(w http.ResponseWriter, r *http.Request) (any, error) {
	if r.Method != http.MethodGet {
		return nil, codedErr(http.StatusMethodNotAllowed, errInvalidMethod)
	}
	path := trimPath(r, "/v1/node/")
	q, err := parseQuery(r)
	if err != nil {
		return nil, err
	}
	st := s.st
	if id, ok := strings.CutSuffix(path, "/allocations"); ok {
		return s.blocking(w, r, q, func() uint64 { return st.tableIndex(tableAllocs) }, func() (any, uint64, error) {
			out := []*api.Allocation{}
			for _, rec := range st.allocs {
				if rec.alloc.NodeID == id {
					out = append(out, rec.alloc)
				}
			}
			sort.Slice(out, func(i, j int) bool { return out[i].CreateIndex > out[j].CreateIndex })
			return out, st.tableIndex(tableAllocs), nil
		})
	}
	changed := func() uint64 {
		if n := st.nodeByID[path]; n != nil {
			return n.node.ModifyIndex
		}
		return 0
	}
	return s.blocking(w, r, q, changed, func() (any, uint64, error) {
		n := st.nodeByID[path]
		if n == nil {
			return nil, st.tableIndex(tableNodes), codedErr(http.StatusNotFound, "node not found")
		}
		return n.node, n.node.ModifyIndex, nil
	})
}

func (s *Sim) nodePoolsRequest(w http.ResponseWriter, r *http.Request) (any, error) {
	if r.Method != http.MethodGet {
		return nil, codedErr(http.StatusMethodNotAllowed, errInvalidMethod)
	}
	st := s.st
	st.lock()
	defer st.unlock()
	out := []*api.NodePool{}
	for _, name := range sortedKeys(st.pools) {
		desc := ""
		switch name {
		case "all":
			desc = "Node pool with all nodes in the cluster."
		case "default":
			desc = "Default node pool."
		}
		out = append(out, &api.NodePool{Name: name, Description: desc, CreateIndex: 1, ModifyIndex: 1})
	}
	setMeta(w, st.tableIndex(tableNodes))
	return out, nil
}
