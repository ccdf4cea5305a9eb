package nomadsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/nomad/api"
)

const (
	errInvalidMethod = "Invalid method"
	// Blocking queries wait 5 minutes by default and 10 at most, plus up
	// to 1/16 of jitter, as Nomad's do.
	defaultQueryWait = 5 * time.Minute
	maxQueryWait     = 10 * time.Minute
	jitterFraction   = 16
)

// codedError is an error with the HTTP status Nomad answers it with.
type codedError struct {
	code int
	msg  string
}

func (e *codedError) Error() string { return e.msg }

func codedErr(code int, msg string) error { return &codedError{code: code, msg: msg} }

// writeError answers as Nomad's HTTP layer does: the status (500 unless
// the error carries one) and the message as plain text.
func writeError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	var ce *codedError
	if errors.As(err, &ce) {
		code = ce.code
	}
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(code)
	w.Write([]byte(err.Error()))
}

type handlerFunc func(w http.ResponseWriter, r *http.Request) (any, error)

// wrap encodes a handler's result as JSON, or its error as Nomad does.
func (s *Sim) wrap(fn handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		obj, err := fn(w, r)
		if err != nil {
			writeError(w, err)
			return
		}
		if obj == nil {
			return
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		if v, ok := r.URL.Query()["pretty"]; ok && (len(v) == 0 || v[0] != "0") {
			enc.SetIndent("", "    ")
		}
		if err := enc.Encode(obj); err != nil {
			writeError(w, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(buf.Bytes())
	}
}

// routes is the API: Nomad's paths, dispatched on prefixes and suffixes
// as Nomad's own mux does.
func (s *Sim) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/jobs", s.wrap(s.jobsRequest))
	mux.HandleFunc("/v1/job/", s.wrap(s.jobSpecificRequest))
	mux.HandleFunc("/v1/validate/job", s.wrap(s.validateJobRequest))
	mux.HandleFunc("/v1/allocations", s.wrap(s.allocListRequest))
	mux.HandleFunc("/v1/allocation/", s.wrap(s.allocSpecificRequest))
	mux.HandleFunc("/v1/evaluations", s.wrap(s.evalListRequest))
	mux.HandleFunc("/v1/evaluation/", s.wrap(s.evalSpecificRequest))
	mux.HandleFunc("/v1/nodes", s.wrap(s.nodeListRequest))
	mux.HandleFunc("/v1/node/pools", s.wrap(s.nodePoolsRequest))
	mux.HandleFunc("/v1/node/", s.wrap(s.nodeSpecificRequest))
	mux.HandleFunc("/v1/client/fs/logs/", s.logsRequest)
	mux.HandleFunc("/v1/event/stream", s.eventStream)
	mux.HandleFunc("/v1/agent/self", s.wrap(s.agentSelfRequest))
	mux.HandleFunc("/v1/agent/members", s.wrap(s.agentMembersRequest))
	mux.HandleFunc("/v1/status/leader", s.wrap(s.statusLeaderRequest))
	mux.HandleFunc("/v1/status/peers", s.wrap(s.statusPeersRequest))
	mux.HandleFunc("/v1/regions", s.wrap(s.regionsRequest))
	mux.HandleFunc("/v1/namespaces", s.wrap(s.namespacesRequest))
	mux.HandleFunc("/v1/vars", s.wrap(s.variablesListRequest))
	mux.HandleFunc("/v1/var/", s.wrap(s.variableSpecificRequest))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, codedErr(http.StatusNotFound, "Invalid URL path: the simulator does not implement "+r.URL.Path))
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serve(mux, w, r)
	})
}

// serve applies injected faults and the region check before the API.
func (s *Sim) serve(mux http.Handler, w http.ResponseWriter, r *http.Request) {
	write := r.Method == http.MethodPut || r.Method == http.MethodPost || r.Method == http.MethodDelete
	latency, fail, lose := s.faults.draw(write)
	if latency > 0 {
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
	if fail != 0 {
		writeError(w, codedErr(fail, faultMessage(fail)))
		return
	}
	if region := r.URL.Query().Get("region"); region != "" && region != s.opts.Region && region != api.GlobalRegion {
		writeError(w, codedErr(http.StatusInternalServerError, "No path to region"))
		return
	}
	if lose {
		mux.ServeHTTP(&lostWriteWriter{header: http.Header{}}, r)
		writeError(w, codedErr(http.StatusInternalServerError, "rpc error: EOF"))
		return
	}
	mux.ServeHTTP(w, r)
}

// query is the parsed query options of a read.
type query struct {
	minIndex uint64
	wait     time.Duration
	prefix   string
	filter   *filterExpr
	ns       string
}

// keep applies the request's filter expression to one entry of a list;
// the entry's datum is built only when there is a filter.
func (q query) keep(d func() datum) (bool, error) {
	if q.filter == nil {
		return true, nil
	}
	ok, err := q.filter.match(d())
	if err != nil {
		return false, codedErr(http.StatusBadRequest, "failed to read result page: "+err.Error())
	}
	return ok, nil
}

func namespaceParam(r *http.Request) string {
	if ns := r.URL.Query().Get("namespace"); ns != "" {
		return ns
	}
	return api.DefaultNamespace
}

// parseQuery reads index, wait, prefix, filter and namespace as Nomad's
// parse does; bad values are 400s with Nomad's messages.
func parseQuery(r *http.Request) (*query, error) {
	v := r.URL.Query()
	q := &query{ns: namespaceParam(r), prefix: v.Get("prefix")}
	if wait := v.Get("wait"); wait != "" {
		d, err := time.ParseDuration(wait)
		if err != nil {
			return nil, codedErr(http.StatusBadRequest, "Invalid wait time")
		}
		q.wait = d
	}
	if idx := v.Get("index"); idx != "" {
		n, err := strconv.ParseUint(idx, 10, 64)
		if err != nil {
			return nil, codedErr(http.StatusBadRequest, "Invalid index")
		}
		q.minIndex = n
	}
	if stale, ok := v["stale"]; ok && len(stale) > 0 && stale[0] != "" {
		if _, err := strconv.ParseBool(stale[0]); err != nil {
			return nil, codedErr(http.StatusBadRequest, "Expect `true` or `false` for `stale` query string parameter")
		}
	}
	if pp := v.Get("per_page"); pp != "" {
		if _, err := strconv.ParseInt(pp, 10, 32); err != nil {
			return nil, codedErr(http.StatusBadRequest, "Expect a number for `per_page` query string parameter")
		}
	}
	if f := v.Get("filter"); f != "" {
		expr, err := parseFilter(f)
		if err != nil {
			return nil, codedErr(http.StatusBadRequest, "failed to read filter expression: "+err.Error())
		}
		q.filter = expr
	}
	return q, nil
}

// setMeta writes the query headers the api client parses.
func setMeta(w http.ResponseWriter, index uint64) {
	if index < 1 {
		index = 1
	}
	w.Header().Set("X-Nomad-Index", strconv.FormatUint(index, 10))
	w.Header().Set("X-Nomad-LastContact", "0")
	w.Header().Set("X-Nomad-KnownLeader", "true")
}

func setIndex(w http.ResponseWriter, index uint64) {
	w.Header().Set("X-Nomad-Index", strconv.FormatUint(index, 10))
}

// blocking runs a read as Nomad's blockingRPC does. run computes the
// answer and the index it reports under the state lock; when that index
// is not past the client's, the query waits until changed reports a later
// change to what the query watches (the job's allocations, say), or the
// wait runs out.
func (s *Sim) blocking(w http.ResponseWriter, r *http.Request, q *query, changed func() uint64, run func() (any, uint64, error)) (any, error) {
	st := s.st
	st.lock()
	obj, idx, err := run()
	if err != nil || q.minIndex == 0 || idx > q.minIndex {
		st.unlock()
		if err == nil {
			setMeta(w, idx)
		}
		return obj, err
	}
	wait := q.wait
	if wait <= 0 {
		wait = defaultQueryWait
	}
	wait = min(wait, maxQueryWait)
	wait += time.Duration(rand.Int64N(int64(wait/jitterFraction) + 1))
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		ch := st.changed
		st.unlock()
		select {
		case <-ch:
		case <-timer.C:
			st.lock()
			obj, idx, err = run()
			st.unlock()
			if err == nil {
				setMeta(w, idx)
			}
			return obj, err
		case <-r.Context().Done():
			return nil, r.Context().Err()
		case <-s.done:
			return nil, codedErr(http.StatusServiceUnavailable, "simulator shut down")
		}
		st.lock()
		if changed() > q.minIndex {
			obj, idx, err = run()
			st.unlock()
			if err == nil {
				setMeta(w, idx)
			}
			return obj, err
		}
	}
}

func decodeBody(r *http.Request, out any) error {
	if r.Body == nil || r.Body == http.NoBody {
		return errors.New("Request body is empty")
	}
	return json.NewDecoder(r.Body).Decode(out)
}

func parseBoolParam(r *http.Request, field string) (bool, error) {
	v := r.URL.Query().Get(field)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("Failed to parse value of %q (%v) as a bool: %v", field, v, err)
	}
	return b, nil
}

func methodIs(r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	return false
}

func trimPath(r *http.Request, prefix string) string {
	return strings.TrimPrefix(r.URL.Path, prefix)
}
