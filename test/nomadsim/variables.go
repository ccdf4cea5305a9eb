package nomadsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/nomad/api"
)

// Nomad Variables, as Nomad 2.0.5 serves them: /v1/var/<path> reads,
// writes (with check-and-set through ?cas=<index>) and deletes one
// variable of a namespace, /v1/vars lists their metadata. A failed
// check-and-set is a 409 whose body is the variable that is there (a
// zero variable naming only the namespace and path when there is none).
// Locks (?lock-acquire, ?lock-renew, ?lock-release) are not simulated.

const (
	// Event types of variable writes, as Nomad names them.
	evVariableUpserted = "VariableUpserted"
	evVariableDeleted  = "VariableDeleted"

	// maxVariableSize bounds the keys and values of one variable.
	maxVariableSize = 64 * 1024
	// variablesTable is the state table whose index variable reads report.
	variablesTable = "variables"
)

// variablePath is the path syntax Nomad accepts.
var variablePath = regexp.MustCompile(`^[a-zA-Z0-9-_~/]{1,128}$`)

type varKey struct{ ns, path string }

func (s *Sim) variablesListRequest(w http.ResponseWriter, r *http.Request) (any, error) {
	if r.Method != http.MethodGet {
		return nil, codedErr(http.StatusMethodNotAllowed, errInvalidMethod)
	}
	q, err := parseQuery(r)
	if err != nil {
		return nil, err
	}
	return s.blocking(w, r, q, func() uint64 { return s.st.tableIndex(variablesTable) }, func() (any, uint64, error) {
		st := s.st
		out := []*api.VariableMetadata{}
		for k, v := range st.vars {
			if (q.ns != api.AllNamespacesNamespace && k.ns != q.ns) || !strings.HasPrefix(k.path, q.prefix) {
				continue
			}
			out = append(out, v.Metadata())
		}
		sort.Slice(out, func(i, j int) bool {
			if out[i].Namespace != out[j].Namespace {
				return out[i].Namespace < out[j].Namespace
			}
			return out[i].Path < out[j].Path
		})
		return out, st.tableIndex(variablesTable), nil
	})
}

func (s *Sim) variableSpecificRequest(w http.ResponseWriter, r *http.Request) (any, error) {
	path := trimPath(r, "/v1/var/")
	if path == "" {
		return nil, codedErr(http.StatusBadRequest, "missing variable path")
	}
	switch r.Method {
	case http.MethodGet:
		return s.variableQuery(w, r, path)
	case http.MethodPut, http.MethodPost:
		v := r.URL.Query()
		for _, op := range []string{"lock-acquire", "lock-renew", "lock-release"} {
			if _, ok := v[op]; ok {
				return nil, codedErr(http.StatusBadRequest, "the simulator does not implement variable locks ("+op+")")
			}
		}
		return s.variableUpsert(w, r, path)
	case http.MethodDelete:
		return s.variableDelete(w, r, path)
	}
	return nil, codedErr(http.StatusBadRequest, errInvalidMethod)
}

func (s *Sim) variableQuery(w http.ResponseWriter, r *http.Request, path string) (any, error) {
	q, err := parseQuery(r)
	if err != nil {
		return nil, err
	}
	k := varKey{q.ns, path}
	// A blocking read of a variable that is not there waits, as Nomad's
	// does, and answers 404 if it is still not there.
	obj, err := s.blocking(w, r, q, func() uint64 { return s.st.tableIndex(variablesTable) }, func() (any, uint64, error) {
		if v := s.st.vars[k]; v != nil {
			return v.Copy(), s.st.tableIndex(variablesTable), nil
		}
		return nil, s.st.tableIndex(variablesTable), nil
	})
	if err == nil && obj == nil {
		return nil, codedErr(http.StatusNotFound, "variable not found")
	}
	return obj, err
}

// parseCAS reads ?cas=<index> as Nomad does.
func parseCAS(r *http.Request) (bool, uint64, error) {
	cq := r.URL.Query().Get("cas")
	if cq == "" {
		return false, 0, nil
	}
	ci, err := strconv.ParseUint(cq, 10, 64)
	if err != nil {
		return true, 0, codedErr(http.StatusBadRequest, fmt.Sprintf("can not parse cas: %v", err))
	}
	return true, ci, nil
}

// validateVariable checks a write as Nomad's server does, with its
// messages; every failure is a 400.
func validateVariable(v *api.Variable) error {
	var size int
	for k, val := range v.Items {
		size += len(k) + len(val)
	}
	switch {
	case v.Namespace == api.AllNamespacesNamespace:
		return codedErr(http.StatusBadRequest, `can not target wildcard ("*")namespace`)
	case size > maxVariableSize:
		return codedErr(http.StatusBadRequest, "variables are limited to 64KiB in total size")
	case !variablePath.MatchString(v.Path):
		return codedErr(http.StatusBadRequest, fmt.Sprintf("invalid path %q", v.Path))
	}
	parts := strings.Split(v.Path, "/")
	if parts[0] != "nomad" {
		return nil
	}
	if len(parts) == 1 {
		return codedErr(http.StatusBadRequest, `"nomad" is a reserved top-level directory path, but you may write variables to "nomad/jobs", "nomad/job-templates", "nomad/sentinel", or below`)
	}
	switch {
	case parts[1] == "jobs" || parts[1] == "sentinel":
		return nil
	case parts[1] == "job-templates" && len(parts) == 3:
		return nil
	}
	return codedErr(http.StatusBadRequest, `only paths at "nomad/jobs", "nomad/job-templates/<name>" or "nomad/sentinel" and below are valid paths`)
}

// casFails says whether a check-and-set at checkIndex fails on what is
// there: index 0 means "only if there is none".
func casFails(isCAS bool, checkIndex uint64, have *api.Variable) bool {
	switch {
	case !isCAS:
		return false
	case checkIndex == 0:
		return have != nil
	}
	return have == nil || have.ModifyIndex != checkIndex
}

// conflict answers a failed check-and-set: 409 with the variable there
// is, or a zero one naming the namespace and path.
func conflict(w http.ResponseWriter, have *api.Variable, k varKey) (any, error) {
	out := &api.Variable{Namespace: k.ns, Path: k.path}
	if have != nil {
		out = have.Copy()
	}
	setIndex(w, out.ModifyIndex)
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusConflict)
	w.Write(b)
	return nil, nil
}

func (s *Sim) denyVariableWrite() error {
	if s.opts.DenyVariableWrites {
		return codedErr(http.StatusForbidden, "Permission denied")
	}
	return nil
}

func (s *Sim) variableUpsert(w http.ResponseWriter, r *http.Request, path string) (any, error) {
	var in api.Variable
	if err := decodeBody(r, &in); err != nil {
		return nil, codedErr(http.StatusBadRequest, err.Error())
	}
	if len(in.Items) == 0 {
		return nil, codedErr(http.StatusBadRequest, "variable missing required Items object")
	}
	isCAS, checkIndex, err := parseCAS(r)
	if err != nil {
		return nil, err
	}
	if err := s.denyVariableWrite(); err != nil {
		return nil, err
	}
	in.Path = path
	// The variable's own namespace wins over the request's, as in Nomad.
	if in.Namespace == "" {
		in.Namespace = namespaceParam(r)
	}
	if in.Lock != nil && (in.Lock.TTL != "" || in.Lock.LockDelay != "") {
		return nil, codedErr(http.StatusBadRequest, "a lock can't be created at the same time as a variable, use the lock-acquire operation instead")
	}
	if err := validateVariable(&in); err != nil {
		return nil, err
	}
	k := varKey{in.Namespace, in.Path}
	st := s.st
	st.lock()
	defer st.unlock()
	have := st.vars[k]
	if casFails(isCAS, checkIndex, have) {
		return conflict(w, have, k)
	}
	var out *api.Variable
	idx, err := st.write(evVariableUpserted, func(tx *txn) error {
		now := tx.now.UnixNano()
		out = &api.Variable{Namespace: k.ns, Path: k.path, CreateIndex: tx.index, CreateTime: now,
			ModifyIndex: tx.index, ModifyTime: now, Items: cloneMap(in.Items)}
		if have != nil {
			out.CreateIndex, out.CreateTime = have.CreateIndex, have.CreateTime
		}
		if st.vars == nil {
			st.vars = map[varKey]*api.Variable{}
		}
		st.vars[k] = out
		tx.touch(variablesTable)
		return nil
	})
	if err != nil {
		return nil, err
	}
	setIndex(w, idx)
	return out.Copy(), nil
}

func (s *Sim) variableDelete(w http.ResponseWriter, r *http.Request, path string) (any, error) {
	isCAS, checkIndex, err := parseCAS(r)
	if err != nil {
		return nil, err
	}
	if err := s.denyVariableWrite(); err != nil {
		return nil, err
	}
	k := varKey{namespaceParam(r), path}
	st := s.st
	st.lock()
	defer st.unlock()
	have := st.vars[k]
	if casFails(isCAS, checkIndex, have) {
		return conflict(w, have, k)
	}
	idx, err := st.write(evVariableDeleted, func(tx *txn) error {
		if have != nil {
			delete(st.vars, k)
			tx.touch(variablesTable)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	setIndex(w, idx)
	w.WriteHeader(http.StatusNoContent)
	return nil, nil
}
