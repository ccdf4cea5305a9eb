package nomadsim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad/api"

	"github.com/nomad-tune/tune/clock"
)

// Options configure a simulated cluster.
type Options struct {
	// Nodes describe the client nodes; with none the cluster has one node
	// shaped like a small `nomad agent -dev` machine.
	Nodes []NodeSpec
	// Clock is where simulated time comes from. When nil, TimeScale picks
	// a Scaled clock (TimeScale > 1) or the wall clock.
	Clock     clock.Clock
	TimeScale float64
	// Faults start injected from the first request; the Sim's setters
	// change them later.
	Faults Faults
	Logger hclog.Logger
	// Seed makes IDs, node shuffling and fault draws reproducible; 0
	// picks one from the wall clock.
	Seed uint64
	// Region is the only region the cluster serves ("global").
	Region string
	// Datacenter is the agent's own datacenter, reported by agent/self.
	Datacenter string
	// Namespaces exist besides "default"; registering into any other
	// fails as it does in Nomad.
	Namespaces []string
	// DenyVariableWrites answers every write and delete of a Nomad
	// Variable 403 "Permission denied", as Nomad does for a token
	// without the variables write (or destroy) capability.
	DenyVariableWrites bool
	// AdvertiseAddr is the host:port nodes report as their HTTP address;
	// Start sets it to the listener's address.
	AdvertiseAddr string
	// EventBufferSize is how many event batches the event stream can
	// replay (Nomad's default is 100).
	EventBufferSize int
	// EventHeartbeat is the event stream's heartbeat interval (Nomad's is
	// 30s), and LogHeartbeat the log stream's (1s).
	EventHeartbeat time.Duration
	LogHeartbeat   time.Duration
	// AllocDir is where raw_exec and exec tasks get their allocation
	// directories; a temporary directory when empty, removed by Close.
	AllocDir string
	// MaxConnsPerClient is limits.http_max_conns_per_client for the
	// server Start serves: connections of one client IP past it are
	// answered 429 and closed. 0 means Nomad's default (100); a negative
	// number, no limit.
	MaxConnsPerClient int
}

// Faults are failures injected into the HTTP API.
type Faults struct {
	// FailureRate is the fraction of requests answered with
	// FailureStatus (500 when 0) without being acted on.
	FailureRate   float64
	FailureStatus int
	// LostWriteRate is the fraction of writes that are applied but
	// answered 500, as when a leader commits and then loses the client.
	LostWriteRate float64
	// Latency delays every response (streams: their start).
	Latency time.Duration
}

// Sim is a simulated Nomad cluster: one server and its client nodes,
// served over the Nomad HTTP API. It is a test double: it must never be
// used as a production server.
type Sim struct {
	opts  Options
	log   hclog.Logger
	clock clock.Clock

	st      *state
	sched   *scheduler
	broker  *broker
	faults  *faultState
	clients *clients
	// jitter draws restart jitter for the clients, apart from the
	// scheduler's source, so that concurrent task restarts do not change
	// the IDs and placements a seed reproduces.
	jitter *idSource

	done      chan struct{}
	closeOnce sync.Once
	allocRoot string
	ownRoot   bool
	handler   http.Handler
}

// New builds a cluster and starts its scheduler. Close stops it.
func New(opts Options) (*Sim, error) {
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.Region == "" {
		opts.Region = api.GlobalRegion
	}
	if opts.Datacenter == "" {
		opts.Datacenter = "dc1"
	}
	if opts.AdvertiseAddr == "" {
		opts.AdvertiseAddr = "127.0.0.1:4646"
	}
	if opts.EventHeartbeat <= 0 {
		opts.EventHeartbeat = 30 * time.Second
	}
	if opts.LogHeartbeat <= 0 {
		opts.LogHeartbeat = time.Second
	}
	if opts.Seed == 0 {
		opts.Seed = uint64(time.Now().UnixNano())
	}
	if len(opts.Nodes) == 0 {
		opts.Nodes = []NodeSpec{{Count: 1}}
	}
	clk := opts.Clock
	if clk == nil {
		if opts.TimeScale > 0 && opts.TimeScale != 1 {
			clk = clock.NewScaled(opts.TimeScale)
		} else {
			clk = clock.Real{}
		}
	}
	s := &Sim{
		opts:   opts,
		log:    opts.Logger.Named("nomadsim"),
		clock:  clk,
		broker: newBroker(opts.EventBufferSize),
		done:   make(chan struct{}),
	}
	ids := newIDSource(opts.Seed)
	s.jitter = newIDSource(opts.Seed + 1)
	s.faults = newFaultState(opts.Faults, opts.Seed)
	s.st = newState(clk, ids, opts.Region, opts.Namespaces, s.broker)
	s.sched = newScheduler(s)
	s.clients = newClients(s)

	nodes, err := buildNodes(opts.Nodes, ids, clk.Now(), opts.AdvertiseAddr)
	if err != nil {
		return nil, err
	}
	s.allocRoot = opts.AllocDir
	if s.allocRoot == "" {
		dir, err := os.MkdirTemp("", "nomadsim-allocs-")
		if err != nil {
			return nil, fmt.Errorf("creating the allocation directory root: %w", err)
		}
		s.allocRoot, s.ownRoot = dir, true
	}
	s.st.onEval = s.sched.enqueue
	s.st.onUnblock = s.sched.unblock
	s.st.onPlaced = s.clients.start
	s.st.onStop = s.clients.stop
	s.st.lock()
	s.registerNodes(nodes)
	s.st.unlock()

	s.handler = s.routes()
	go s.sched.run()
	return s, nil
}

// registerNodes adds nodes in one write, as node registrations, creating
// their node pools.
func (s *Sim) registerNodes(nodes []*simNode) {
	st := s.st
	st.write(evNodeRegistration, func(tx *txn) error {
		for _, n := range nodes {
			st.nodes = append(st.nodes, n)
			st.nodeByID[n.node.ID] = n
			st.pools[n.node.NodePool] = true
			tx.putNode(n, n.node)
		}
		return nil
	})
}

// SetAdvertiseAddr changes the HTTP address the nodes report, for a
// Handler served by a server the Sim did not start (httptest): the api
// client fetches logs from a node's address, and the default,
// 127.0.0.1:4646, may be a real Nomad agent.
func (s *Sim) SetAdvertiseAddr(addr string) {
	st := s.st
	st.lock()
	defer st.unlock()
	s.opts.AdvertiseAddr = addr
	st.write(evNodeRegistration, func(tx *txn) error {
		for _, n := range st.nodes {
			node := *n.node
			node.HTTPAddr = addr
			node.Attributes = cloneMap(n.node.Attributes)
			node.Attributes["nomad.advertise.address"] = addr
			tx.putNode(n, &node)
		}
		return nil
	})
}

// Handler is the Nomad HTTP API of the cluster.
func (s *Sim) Handler() http.Handler { return s.handler }

// Now is the cluster's simulated time.
func (s *Sim) Now() time.Time { return s.clock.Now() }

// Nodes returns the cluster's nodes as the API shows them.
func (s *Sim) Nodes() []*api.Node {
	s.st.lock()
	defer s.st.unlock()
	out := make([]*api.Node, len(s.st.nodes))
	for i, n := range s.st.nodes {
		out[i] = n.node
	}
	return out
}

// AddNodes registers more nodes, which unblocks blocked evaluations as a
// node joining a real cluster does.
func (s *Sim) AddNodes(specs ...NodeSpec) ([]*api.Node, error) {
	s.st.lock()
	nodes, err := buildNodes(specs, s.st.ids, s.clock.Now(), s.opts.AdvertiseAddr)
	if err != nil {
		s.st.unlock()
		return nil, err
	}
	s.registerNodes(nodes)
	s.st.unlock()
	s.sched.unblock(nil)
	out := make([]*api.Node, len(nodes))
	for i, n := range nodes {
		out[i] = n.node
	}
	return out, nil
}

// LoseNode marks a node down, as when its heartbeats stop: its
// allocations are marked lost and replaced by the scheduler, and its
// tasks stop reporting.
func (s *Sim) LoseNode(id string) error {
	st := s.st
	st.lock()
	n := st.nodeByID[id]
	if n == nil {
		st.unlock()
		return fmt.Errorf("no node %q", id)
	}
	if n.node.Status == api.NodeStatusDown {
		st.unlock()
		return nil
	}
	var affected []jobKey
	seen := map[jobKey]bool{}
	var allocIDs []string
	for _, r := range n.allocs {
		allocIDs = append(allocIDs, r.alloc.ID)
		if !seen[r.key] && !allocTerminal(r.alloc) {
			seen[r.key] = true
			affected = append(affected, r.key)
		}
	}
	st.write(evNodeEvent, func(tx *txn) error {
		node := *n.node
		node.Status = api.NodeStatusDown
		node.StatusUpdatedAt = tx.now.Unix()
		node.Events = append(append([]*api.NodeEvent(nil), node.Events...), &api.NodeEvent{
			Message: "Node heartbeat missed", Subsystem: "Cluster", Timestamp: tx.now,
		})
		tx.putNode(n, &node)
		return nil
	})
	if len(affected) > 0 {
		st.write(evEvalUpdated, func(tx *txn) error {
			for _, k := range affected {
				prio := api.JobDefaultPriority
				typ := api.JobTypeService
				if rec := st.jobs[k]; rec != nil {
					prio, typ = *rec.job.Priority, *rec.job.Type
				}
				e := tx.newEval(k, prio, typ, triggerNodeUpdate)
				e.NodeID = id
				e.NodeModifyIndex = tx.index
				tx.putEval(e)
			}
			return nil
		})
	}
	st.unlock()
	for _, a := range allocIDs {
		s.clients.abandon(a)
	}
	return nil
}

// SetFailureRate answers the given fraction of requests with status
// (500 when 0) from now on.
func (s *Sim) SetFailureRate(rate float64, status int) { s.faults.setFailure(rate, status) }

// SetLostWriteRate applies the given fraction of writes but answers them
// with 500, as a client that lost the leader's reply sees.
func (s *Sim) SetLostWriteRate(rate float64) { s.faults.setLostWrites(rate) }

// SetLatency delays every response by d.
func (s *Sim) SetLatency(d time.Duration) { s.faults.setLatency(d) }

// DropEventStreams cuts every open event stream mid-flight; clients see
// their stream fail and must resubscribe.
func (s *Sim) DropEventStreams() { s.broker.dropAll() }

// WaitIdle returns once the scheduler has no evaluation queued or in
// progress: everything registered so far has been placed or blocked.
// Tasks keep running on their clients.
func (s *Sim) WaitIdle(ctx context.Context) error { return s.sched.waitIdle(ctx) }

// Close stops the scheduler and every task, and removes the allocation
// directories the Sim created.
func (s *Sim) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		s.sched.close()
		s.clients.closeAll()
		if s.ownRoot {
			os.RemoveAll(s.allocRoot)
		}
	})
	return nil
}

// Server is a Sim served over HTTP on a loopback port.
type Server struct {
	*Sim
	srv     *http.Server
	ln      net.Listener
	addr    string
	limiter *connLimiter
}

// Start builds a cluster and serves its API on 127.0.0.1 (an ephemeral
// port unless opts.AdvertiseAddr names one).
func Start(opts Options) (*Server, error) {
	listen := "127.0.0.1:0"
	if opts.AdvertiseAddr != "" {
		listen = opts.AdvertiseAddr
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	opts.AdvertiseAddr = ln.Addr().String()
	sim, err := New(opts)
	if err != nil {
		ln.Close()
		return nil, err
	}
	maxConns := opts.MaxConnsPerClient
	if maxConns == 0 {
		maxConns = DefaultMaxConnsPerClient
	}
	limiter := newConnLimiter(maxConns)
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second, ConnState: limiter.connState,
		ErrorLog: sim.log.StandardLogger(&hclog.StandardLoggerOptions{})}
	s := &Server{Sim: sim, srv: srv, ln: ln, addr: ln.Addr().String(), limiter: limiter}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			sim.log.Error("http server stopped", "error", err)
		}
	}()
	return s, nil
}

// Addr is the host:port the API listens on.
func (s *Server) Addr() string { return s.addr }

// URL is the address to give the api client (NOMAD_ADDR).
func (s *Server) URL() string { return "http://" + s.addr }

// Close stops the cluster, which ends its open streams, then stops
// serving.
func (s *Server) Close() error {
	err := s.Sim.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if serr := s.srv.Shutdown(ctx); serr != nil {
		s.srv.Close()
	}
	return err
}

// Stats counts what the cluster holds, for benchmarks and the command's
// progress output.
type Stats struct {
	Index       uint64
	Nodes       int
	Jobs        int
	Allocations map[string]int // by client status
	Evaluations map[string]int // by status
}

// Stats returns the current counts.
func (s *Sim) Stats() Stats {
	st := s.st
	st.lock()
	defer st.unlock()
	out := Stats{Index: st.index, Nodes: len(st.nodes), Jobs: len(st.jobs), Allocations: map[string]int{}, Evaluations: map[string]int{}}
	for _, r := range st.allocs {
		out.Allocations[r.alloc.ClientStatus]++
	}
	for _, e := range st.evals {
		out.Evaluations[e.Status]++
	}
	return out
}
