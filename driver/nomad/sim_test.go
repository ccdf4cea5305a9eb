package nomad

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/driver"
	"github.com/nomad-tune/tune/experiment"
	tunehcl "github.com/nomad-tune/tune/hcl"
	"github.com/nomad-tune/tune/jobs"
	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/test/nomadsim"
	"github.com/nomad-tune/tune/trialenv"
)

// waitLimit only keeps a broken driver from hanging the test run; no test
// depends on anything happening within it.
const waitLimit = 20 * time.Second

// fastBackoff retries at once, many times, so injected faults cost the
// tests little time.
var fastBackoff = Backoff{Initial: 5 * time.Millisecond, Max: 50 * time.Millisecond, Retries: 30}

// output collects the lines a trial writes to one stream.
type output struct {
	mu    sync.Mutex
	lines []string
}

func (o *output) WriteLine(line string) {
	o.mu.Lock()
	o.lines = append(o.lines, line)
	o.mu.Unlock()
}

func (o *output) all() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.lines)
}

// simHarness is a driver on a simulated cluster, with every event it
// delivers collected per attempt.
type simHarness struct {
	t      *testing.T
	sim    *nomadsim.Server
	client *api.Client
	d      *Driver
	exp    *experiment.Experiment
	trials []*planner.Trial

	mu     sync.Mutex
	events map[attemptKey][]driver.Event
	// arrived is closed and replaced whenever an event arrives.
	arrived chan struct{}
	// closed is closed once the event channel is.
	closed chan struct{}
}

type harnessOptions struct {
	sim     nomadsim.Options
	driver  Options
	token   string
	noClose bool
	// dial opens the driver's connections; nil is a plain dialer.
	dial dialFunc
	// front, when set, serves the cluster's API to the driver in front of
	// the simulator (node log reads go to the simulator directly).
	front *front
}

// small is one node of 4 cores at 2000 MHz and 8 GiB, in dc1.
var small = nomadsim.NodeSpec{Count: 1, Name: "small", Datacenter: "dc1", Cores: 4, MHz: 2000, MemoryMiB: 8192}

// setupSim starts a simulated cluster and a driver for the experiment in
// src.
func setupSim(t *testing.T, src string, ho harnessOptions) *simHarness {
	t.Helper()
	exp, diags := tunehcl.Load(filepath.Join(t.TempDir(), "exp.hcl"), []byte(src), tunehcl.Options{})
	require.False(t, diags.HasErrors(), "%s", diags.Error())
	trials, diags := planner.Trials(exp)
	require.False(t, diags.HasErrors(), "%s", diags.Error())

	if ho.sim.Seed == 0 {
		ho.sim.Seed = 42
	}
	if len(ho.sim.Nodes) == 0 {
		ho.sim.Nodes = []nomadsim.NodeSpec{small}
	}
	srv, err := nomadsim.Start(ho.sim)
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })

	dial := ho.dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	address := srv.URL()
	if ho.front != nil {
		ho.front.next = srv.Handler()
		ts := httptest.NewServer(ho.front)
		t.Cleanup(func() {
			ho.front.open()
			ts.CloseClientConnections()
			ts.Close()
		})
		address = ts.URL
	}
	client, err := newClient(&api.Config{Address: address, SecretID: ho.token}, ho.driver.MaxConns, dial)
	require.NoError(t, err)
	opts := ho.driver
	opts.Client = client
	opts.Experiment = exp
	if opts.Backoff == (Backoff{}) {
		opts.Backoff = fastBackoff
	}
	if opts.LogDrain == 0 {
		opts.LogDrain = 5 * time.Second
	}
	d, err := New(opts)
	require.NoError(t, err)

	h := &simHarness{
		t: t, sim: srv, client: client, d: d, exp: exp, trials: trials,
		events:  map[attemptKey][]driver.Event{},
		arrived: make(chan struct{}),
		closed:  make(chan struct{}),
	}
	go h.collect()
	if !ho.noClose {
		t.Cleanup(func() {
			assert.NoError(t, d.Close())
			<-h.closed
		})
	}
	return h
}

func (h *simHarness) collect() {
	for ev := range h.d.Events() {
		h.mu.Lock()
		k := attemptKey{ev.TrialID, ev.Attempt}
		h.events[k] = append(h.events[k], ev)
		close(h.arrived)
		h.arrived = make(chan struct{})
		h.mu.Unlock()
	}
	close(h.closed)
}

// start starts attempt of trial i and returns its output.
func (h *simHarness) start(i, attempt int) (stdout, stderr *output) {
	h.t.Helper()
	stdout, stderr = &output{}, &output{}
	err := h.d.Start(context.Background(), driver.StartRequest{
		Experiment: h.exp, Trial: h.trials[i], Attempt: attempt, Stdout: stdout, Stderr: stderr,
	})
	require.NoError(h.t, err)
	return stdout, stderr
}

// waitFor waits for an event of the attempt that satisfies ok, and
// returns every event of the attempt up to and including it.
func (h *simHarness) waitFor(i, attempt int, what string, ok func(driver.Event) bool) []driver.Event {
	h.t.Helper()
	k := attemptKey{h.trials[i].ID, attempt}
	deadline := time.After(waitLimit)
	for {
		h.mu.Lock()
		evs := slices.Clone(h.events[k])
		arrived := h.arrived
		h.mu.Unlock()
		for n, ev := range evs {
			if ok(ev) {
				return evs[:n+1]
			}
		}
		select {
		case <-arrived:
		case <-deadline:
			h.t.Fatalf("trial %s attempt %d: no %s event; events so far: %+v", k.trialID, attempt, what, evs)
		}
	}
}

func (h *simHarness) waitExited(i, attempt int) (driver.Event, []driver.Event) {
	h.t.Helper()
	evs := h.waitFor(i, attempt, "exited", func(ev driver.Event) bool { return ev.Kind == driver.EventExited })
	return evs[len(evs)-1], evs
}

func (h *simHarness) waitRunning(i, attempt int) {
	h.t.Helper()
	h.waitFor(i, attempt, "running", func(ev driver.Event) bool { return ev.Kind == driver.EventRunning })
}

func (h *simHarness) jobID(i int) string { return jobs.JobID(h.exp.Name, h.trials[i].ID) }

// allocs are the allocations of trial i's job.
func (h *simHarness) allocs(i int) []*api.AllocationListStub {
	h.t.Helper()
	stubs, _, err := h.client.Jobs().Allocations(h.jobID(i), true, nil)
	require.NoError(h.t, err)
	return stubs
}

func itoa(i int) string { return strconv.Itoa(i) }

func kinds(evs []driver.Event) []driver.EventKind {
	out := make([]driver.EventKind, len(evs))
	for i, ev := range evs {
		out[i] = ev.Kind
	}
	return out
}

// mockTrial is an experiment of one trial whose task is Nomad's mock
// driver with the given config lines; nomad adds lines to the nomad block.
func mockTrial(config string, nomad string) string {
	return fmt.Sprintf(`experiment "sim" {
  resources {
    cpu    = 0.5
    memory = 256
  }
  task "train" {
    driver = "mock_driver"
    config {
%s
    }
  }
  nomad {
    datacenters = ["dc1"]
%s
  }
}`, config, nomad)
}

func TestATrialReportsAndExits(t *testing.T) {
	h := setupSim(t, mockTrial(`      run_for       = "300ms"
      stdout_string = "@tune {\"loss\": 1}\n"
      exit_code     = 0`, ""), harnessOptions{})

	stdout, _ := h.start(0, 0)
	exit, evs := h.waitExited(0, 0)

	assert.Equal(t, []driver.EventKind{driver.EventRunning, driver.EventReport, driver.EventExited}, kinds(evs))
	assert.Equal(t, map[string]any{"loss": 1.0}, evs[1].Metrics)
	assert.Equal(t, 0, evs[1].Rank)
	assert.False(t, exit.Failed, exit.Message)
	assert.False(t, exit.Stopped)
	assert.Equal(t, 0, exit.ExitCode)
	assert.Equal(t, []string{`@tune {"loss": 1}`}, stdout.all())
	for _, ev := range evs {
		assert.Equal(t, h.trials[0].ID, ev.TrialID)
		assert.Equal(t, 0, ev.Attempt)
	}

	job, _, err := h.client.Jobs().Info(h.jobID(0), nil)
	require.NoError(t, err, "without purge a finished job stays, dead")
	assert.Equal(t, "0", job.Meta[trialenv.MetaAttempt])
}

func TestANonZeroExitFailsTheAttempt(t *testing.T) {
	h := setupSim(t, mockTrial(`      run_for   = "100ms"
      exit_code = 3`, ""), harnessOptions{})

	h.start(0, 0)
	exit, _ := h.waitExited(0, 0)

	assert.True(t, exit.Failed)
	assert.Equal(t, 3, exit.ExitCode)
	assert.Contains(t, exit.Message, `task "train" of allocation `)
	assert.Contains(t, exit.Message, "exited with code 3")
}

func TestARetryRegistersANewVersionAndIgnoresThePreviousAttempt(t *testing.T) {
	h := setupSim(t, mockTrial(`      run_for   = "100ms"
      exit_code = 3`, ""), harnessOptions{})

	h.start(0, 0)
	first, _ := h.waitExited(0, 0)
	require.True(t, first.Failed)
	h.start(0, 1)
	second, evs := h.waitExited(0, 1)

	assert.True(t, second.Failed)
	assert.Equal(t, driver.EventRunning, evs[0].Kind, "the retry's own allocation ran before it ended")
	versions, _, _, err := h.client.Jobs().Versions(h.jobID(0), false, nil)
	require.NoError(t, err)
	require.Len(t, versions, 2)
	assert.Len(t, h.allocs(0), 2, "one allocation per attempt")
}

// gang is an experiment of one trial of two groups of 3 cores each.
const gang = `experiment "gang" {
  on_unfit = "%s"
  group "a" {
    resources {
      cpu    = 3
      memory = 256
    }
    task "train" {
      driver = "mock_driver"
      config {
        run_for = "1m"
      }
    }
  }
  group "b" {
    resources {
      cpu    = 3
      memory = 256
    }
    task "train" {
      driver = "mock_driver"
      config {
        run_for = "1m"
      }
    }
  }
  nomad {
    datacenters  = ["dc1"]
    gang_timeout = "1s"
  }
}`

func TestAGangNomadWouldPlaceOnlyInPartIsNotRegistered(t *testing.T) {
	h := setupSim(t, fmt.Sprintf(gang, "wait"), harnessOptions{})

	h.start(0, 0)
	exit, evs := h.waitExited(0, 0)

	assert.Equal(t, []driver.EventKind{driver.EventExited}, kinds(evs))
	assert.True(t, exit.Unplaced)
	assert.False(t, exit.Failed)
	assert.Contains(t, exit.Message, "cpu exhausted")
	_, _, err := h.client.Jobs().Info(h.jobID(0), nil)
	assert.True(t, notFound(err), "nothing was registered: %v", err)
}

func TestAGangPlacedOnlyInPartIsRolledBackAfterTheGangTimeout(t *testing.T) {
	// on_unfit = "queue" registers without planning first, as an
	// autoscaled cluster wants; Nomad then places one group of two.
	h := setupSim(t, fmt.Sprintf(gang, "queue"), harnessOptions{})

	h.start(0, 0)
	exit, evs := h.waitExited(0, 0)

	assert.Equal(t, []driver.EventKind{driver.EventExited}, kinds(evs), "a partial placement never counts as running")
	assert.True(t, exit.Unplaced)
	assert.Equal(t, "placed 1 of 2 allocations in 1s", exit.Message)
	_, _, err := h.client.Jobs().Info(h.jobID(0), nil)
	assert.True(t, notFound(err), "the job is purged: %v", err)
	for _, a := range h.allocs(0) {
		assert.NotEqual(t, api.AllocClientStatusRunning, a.ClientStatus, "allocation %s still runs", a.ID)
	}
}

func TestStopDeregistersTheJob(t *testing.T) {
	h := setupSim(t, mockTrial(`      run_for = "1m"`, ""), harnessOptions{})

	h.start(0, 0)
	h.waitRunning(0, 0)
	require.NoError(t, h.d.Stop(context.Background(), h.trials[0].ID, 0, "loss <= 0.1"))
	exit, _ := h.waitExited(0, 0)

	assert.True(t, exit.Stopped)
	assert.False(t, exit.Failed)
	assert.Equal(t, "loss <= 0.1", exit.Message)
	job, _, err := h.client.Jobs().Info(h.jobID(0), nil)
	require.NoError(t, err)
	assert.True(t, *job.Stop)
	for _, a := range h.allocs(0) {
		assert.NotEqual(t, api.AllocClientStatusRunning, a.ClientStatus)
	}
	// Stopping an attempt that has ended is no error.
	assert.NoError(t, h.d.Stop(context.Background(), h.trials[0].ID, 0, "again"))
}

func TestPurgeRemovesAFinishedJob(t *testing.T) {
	h := setupSim(t, mockTrial(`      run_for = "100ms"`, `    purge = true`), harnessOptions{})

	h.start(0, 0)
	exit, _ := h.waitExited(0, 0)

	assert.False(t, exit.Failed, exit.Message)
	_, _, err := h.client.Jobs().Info(h.jobID(0), nil)
	assert.True(t, notFound(err), "the job is purged: %v", err)
}

func TestALostNodeFailsTheAttempt(t *testing.T) {
	// A second node is where Nomad would place a replacement.
	h := setupSim(t, mockTrial(`      run_for = "1m"`, ""), harnessOptions{sim: nomadsim.Options{Nodes: []nomadsim.NodeSpec{small, small}}})

	h.start(0, 0)
	h.waitRunning(0, 0)
	allocs := h.allocs(0)
	require.Len(t, allocs, 1)
	require.NoError(t, h.sim.LoseNode(allocs[0].NodeID))
	exit, _ := h.waitExited(0, 0)

	assert.True(t, exit.Failed)
	assert.Equal(t, fmt.Sprintf("allocation %s lost: node %s down", allocs[0].ID[:8], allocs[0].NodeName), exit.Message)
	job, _, err := h.client.Jobs().Info(h.jobID(0), nil)
	require.NoError(t, err)
	assert.True(t, *job.Stop, "the job is stopped, so no replacement of the lost allocation runs")
	// Nomad replaced the lost allocation on the other node in the plan
	// that marked it lost; the attempt is reported ended only once that
	// replacement has ended too.
	after := h.allocs(0)
	require.Len(t, after, 2, "the lost allocation and its replacement")
	for _, a := range after {
		assert.True(t, terminal(a.ClientStatus), "allocation %s is %s when the attempt is reported ended", a.ID[:8], a.ClientStatus)
	}
}

func TestADroppedEventStreamIsFollowedAgain(t *testing.T) {
	h := setupSim(t, mockTrial(`      run_for       = "1s"
      stdout_string = "@tune {\"loss\": 2}\n"`, ""), harnessOptions{})

	h.start(0, 0)
	h.waitRunning(0, 0)
	h.sim.DropEventStreams()
	exit, evs := h.waitExited(0, 0)

	assert.False(t, exit.Failed, exit.Message)
	assert.Equal(t, []driver.EventKind{driver.EventRunning, driver.EventReport, driver.EventExited}, kinds(evs))
}

func TestServerErrorsAreRetriedWithoutDoubleSubmission(t *testing.T) {
	h := setupSim(t, mockTrial(`      run_for       = "200ms"
      stdout_string = "@tune {\"loss\": 3}\n"`, ""), harnessOptions{})
	// Half the requests fail, and half the writes that get through are
	// applied but answered with a 500, as when the leader is lost.
	h.sim.SetFailureRate(0.5, 500)
	h.sim.SetLostWriteRate(0.5)

	h.start(0, 0)
	// The faults go on while the attempt runs: the event stream, the
	// catch-up reads and the log streams are retried too.
	exit, evs := h.waitExited(0, 0)
	h.sim.SetFailureRate(0, 0)
	h.sim.SetLostWriteRate(0)

	assert.False(t, exit.Failed, exit.Message)
	assert.Equal(t, []driver.EventKind{driver.EventRunning, driver.EventReport, driver.EventExited}, kinds(evs))
	versions, _, _, err := h.client.Jobs().Versions(h.jobID(0), false, nil)
	require.NoError(t, err)
	assert.Len(t, versions, 1, "registered once")
	assert.Len(t, h.allocs(0), 1)
}

func TestAClientErrorFailsTheStartAtOnce(t *testing.T) {
	h := setupSim(t, mockTrial(`      run_for = "100ms"`, ""), harnessOptions{driver: Options{Backoff: Backoff{Initial: time.Hour, Retries: 1}}})
	h.sim.SetFailureRate(1, 403)

	// A retry would wait an hour.
	err := h.d.Start(context.Background(), driver.StartRequest{Experiment: h.exp, Trial: h.trials[0], Attempt: 0})

	require.Error(t, err)
	assert.Contains(t, err.Error(), `Nomad refused to list nodes (403 Permission denied): the ACL token (NOMAD_TOKEN) needs node { policy = "read" }`)
	var denied *PermissionError
	assert.ErrorAs(t, err, &denied)
}

func TestARefusalThatPersistsFailsTheStartAfterItsRetries(t *testing.T) {
	h := setupSim(t, mockTrial(`      run_for = "100ms"`, `    namespace = "nowhere"`),
		harnessOptions{driver: Options{Backoff: Backoff{Initial: time.Millisecond, Retries: 2}}})

	h.start(0, 0)
	exit, evs := h.waitExited(0, 0)

	assert.Equal(t, []driver.EventKind{driver.EventExited}, kinds(evs))
	assert.True(t, exit.Failed)
	assert.Equal(t, -1, exit.ExitCode)
	assert.True(t, strings.HasPrefix(exit.Message, "could not start: trial "+h.trials[0].ID+" attempt 0: planning job "), exit.Message)
	assert.Contains(t, exit.Message, `nonexistent namespace "nowhere"`)
	_, _, err := h.client.Jobs().Info(h.jobID(0), &api.QueryOptions{Namespace: "nowhere"})
	assert.Error(t, err)
}

func TestAnInvalidReportIsWarnedOfOnceAndKeptAsOutput(t *testing.T) {
	h := setupSim(t, mockTrial(`      run_for                = "200ms"
      stdout_string          = "@tune loss=1\n"
      stdout_repeat          = 2
      stdout_repeat_duration = "10ms"
      stderr_string          = "warning: slow\n"`, ""), harnessOptions{})

	stdout, stderr := h.start(0, 0)
	exit, evs := h.waitExited(0, 0)

	assert.False(t, exit.Failed, exit.Message)
	assert.Equal(t, []driver.EventKind{driver.EventRunning, driver.EventWarning, driver.EventExited}, kinds(evs))
	assert.Contains(t, evs[1].Message, "invalid @tune line")
	assert.Equal(t, []string{"@tune loss=1", "@tune loss=1", "@tune loss=1"}, stdout.all())
	assert.Equal(t, []string{"warning: slow"}, stderr.all())
}

func TestMaxRunDurationEndsTheAttemptCleanly(t *testing.T) {
	h := setupSim(t, `experiment "timed" {
  task "train" {
    driver = "mock_driver"
    config {
      run_for = "1m"
    }
  }
  stop {
    trial_timeout = "200ms"
  }
  nomad {
    datacenters = ["dc1"]
  }
}`, harnessOptions{})

	h.start(0, 0)
	exit, evs := h.waitExited(0, 0)

	assert.Equal(t, []driver.EventKind{driver.EventRunning, driver.EventExited}, kinds(evs))
	assert.False(t, exit.Failed, exit.Message)
	assert.False(t, exit.Stopped)
	assert.Equal(t, "trial_timeout", exit.Message)
}

func TestStoppingAnAttemptNothingOfWhichIsPlacedEndsItAtOnce(t *testing.T) {
	h := setupSim(t, fmt.Sprintf(gang, "queue"), harnessOptions{sim: nomadsim.Options{Nodes: []nomadsim.NodeSpec{{Count: 1, Name: "tiny", Datacenter: "dc1", Cores: 2, MHz: 2000, MemoryMiB: 8192}}}})

	h.start(0, 0)
	h.waitSubmitted(0, 0)
	require.NoError(t, h.sim.WaitIdle(context.Background()))
	require.Empty(t, h.allocs(0), "nothing fits: the job waits in Nomad's queue")
	require.NoError(t, h.d.Stop(context.Background(), h.trials[0].ID, 0, "interrupted"))
	exit, evs := h.waitExited(0, 0)

	assert.Equal(t, []driver.EventKind{driver.EventExited}, kinds(evs))
	assert.True(t, exit.Stopped)
	assert.Equal(t, "interrupted", exit.Message)
}

func TestWhenOneAllocationOfAGangFailsTheOthersAreStopped(t *testing.T) {
	h := setupSim(t, `experiment "gang" {
  group "a" {
    resources {
      cpu    = 1
      memory = 256
    }
    task "train" {
      driver = "mock_driver"
      config {
        run_for   = "100ms"
        exit_code = 7
      }
    }
  }
  group "b" {
    resources {
      cpu    = 1
      memory = 256
    }
    task "train" {
      driver = "mock_driver"
      config {
        run_for = "1m"
      }
    }
  }
  nomad {
    datacenters = ["dc1"]
  }
}`, harnessOptions{})

	h.start(0, 0)
	exit, _ := h.waitExited(0, 0)

	assert.True(t, exit.Failed)
	assert.Equal(t, 7, exit.ExitCode)
	assert.Contains(t, exit.Message, "(rank 0) exited with code 7")
	allocs := h.allocs(0)
	require.Len(t, allocs, 2)
	for _, a := range allocs {
		assert.NotEqual(t, api.AllocClientStatusRunning, a.ClientStatus, "allocation of group %s still runs", a.TaskGroup)
	}
}

// ranked is an experiment of one trial of two allocations that each
// report.
const ranked = `experiment "ranked" {
  group "worker" {
    count = 2
    resources {
      cpu    = 0.5
      memory = 128
    }
    task "train" {
      driver = "mock_driver"
      config {
        run_for       = "200ms"
        stdout_string = "@tune {\"loss\": 4}\n"
      }
    }
  }
  nomad {
    datacenters = ["dc1"]
  }
}`

func TestTheLinesAndReportsOfAMultiAllocationTrialCarryTheirRanks(t *testing.T) {
	for _, placement := range []string{"pack", "strict_pack"} {
		t.Run(placement, func(t *testing.T) {
			h := setupSim(t, strings.Replace(ranked, "{", "{\n  placement = \""+placement+"\"", 1), harnessOptions{})

			stdout, _ := h.start(0, 0)
			exit, evs := h.waitExited(0, 0)

			assert.False(t, exit.Failed, exit.Message)
			assert.Equal(t, driver.EventRunning, evs[0].Kind)
			var ranks []int
			for _, ev := range evs {
				if ev.Kind == driver.EventReport {
					ranks = append(ranks, ev.Rank)
				}
			}
			slices.Sort(ranks)
			assert.Equal(t, []int{0, 1}, ranks)
			lines := stdout.all()
			slices.Sort(lines)
			assert.Equal(t, []string{`[0] @tune {"loss": 4}`, `[1] @tune {"loss": 4}`}, lines)
			want := 2
			if placement == "strict_pack" {
				want = 1
			}
			assert.Len(t, h.allocs(0), want)
		})
	}
}

func TestCloseStopsWhatRunsAndClosesTheEvents(t *testing.T) {
	h := setupSim(t, mockTrial(`      run_for = "1m"`, ""), harnessOptions{noClose: true})

	h.start(0, 0)
	h.waitRunning(0, 0)
	require.NoError(t, h.d.Close())
	<-h.closed

	exit, _ := h.waitExited(0, 0)
	assert.True(t, exit.Stopped)
	assert.Equal(t, closeReason, exit.Message)
	err := h.d.Start(context.Background(), driver.StartRequest{Experiment: h.exp, Trial: h.trials[0], Attempt: 1})
	assert.Error(t, err)
}

func TestCapacityIsTheClustersFreeRoom(t *testing.T) {
	gpu := nomadsim.NodeSpec{Count: 2, Name: "gpu", Datacenter: "dc1", NodePool: "gpu", Cores: 8, MHz: 2500, MemoryMiB: 65536,
		ReservedMHz: 1000, ReservedMemoryMiB: 2048, GPUs: 4, GPUModel: "H100", GPUMemoryMiB: 81559}
	elsewhere := nomadsim.NodeSpec{Count: 1, Name: "far", Datacenter: "dc2", NodePool: "gpu", Cores: 8, MHz: 2500, MemoryMiB: 65536}
	h := setupSim(t, `experiment "cap" {
  resources {
    cpu    = 1
    memory = 1024
    gpu    = 2
  }
  task "train" {
    driver = "mock_driver"
    config {
      run_for = "1m"
    }
  }
  nomad {
    datacenters = ["dc1"]
    node_pool   = "gpu"
  }
}`, harnessOptions{sim: nomadsim.Options{Nodes: []nomadsim.NodeSpec{gpu, elsewhere, small}}})

	c, err := h.d.Capacity(context.Background())
	require.NoError(t, err)
	require.Len(t, c.Nodes, 2, "only the gpu pool's nodes in dc1")
	for _, n := range c.Nodes {
		assert.Equal(t, int64(19000), n.CPUShares)
		assert.Equal(t, int64(2500), n.MHzPerCore)
		assert.Equal(t, int64(63488), n.MemoryMiB)
		require.Len(t, n.Devices, 1)
		assert.Equal(t, "81559 MiB", n.Devices[0].Attributes["memory"])
		assert.Equal(t, "Simulated CPU", n.Attributes["cpu.modelname"], "attributes come from the full node")
	}
	assert.Equal(t, 8, c.Totals().GPUs)
	assert.Equal(t, int64(2500), c.MHzPerCore)
	assert.Equal(t, h.client.Address(), c.Target)

	// What another job holds is subtracted.
	other := otherJob("other", 2)
	_, _, err = h.client.Jobs().Register(other, nil)
	require.NoError(t, err)
	require.NoError(t, h.sim.WaitIdle(context.Background()))
	c, err = h.d.Capacity(context.Background())
	require.NoError(t, err)
	totals := c.Totals()
	assert.InDelta(t, 6.0, totals.FreeGPUs, 1e-9)
}

// otherJob is a job of someone else's in the gpu pool holding gpus GPUs.
func otherJob(id string, gpus uint64) *api.Job {
	job := api.NewBatchJob(id, id, "global", 50)
	job.Datacenters = []string{"dc1"}
	job.NodePool = new("gpu")
	tg := api.NewTaskGroup("g", 1)
	task := api.NewTask("t", "mock_driver")
	task.Config = map[string]any{"run_for": "1m"}
	task.Resources = &api.Resources{CPU: new(500), MemoryMB: new(256), Devices: []*api.RequestedDevice{{Name: "nvidia/gpu", Count: new(gpus)}}}
	tg.Tasks = []*api.Task{task}
	job.TaskGroups = []*api.TaskGroup{tg}
	return job
}

func TestDryRunExplainsWhatNomadCannotPlace(t *testing.T) {
	gpu := nomadsim.NodeSpec{Count: 3, Name: "gpu", Datacenter: "dc1", Cores: 8, MHz: 2500, MemoryMiB: 65536, GPUs: 4, GPUModel: "H100", GPUMemoryMiB: 81559}
	h := setupSim(t, mockTrial(`      run_for = "1m"`, ""), harnessOptions{sim: nomadsim.Options{Nodes: []nomadsim.NodeSpec{gpu}}})
	job := otherJob("big", 8)
	job.NodePool = nil

	u, err := h.d.DryRun(context.Background(), job)

	require.NoError(t, err)
	require.NotNil(t, u)
	assert.Equal(t, "no node has 8 nvidia/gpu: missing devices filtered all 3 nodes", u.Reason())
	_, _, err = h.client.Jobs().Info("big", nil)
	assert.True(t, notFound(err), "a dry run registers nothing")

	fits := otherJob("fits", 4)
	fits.NodePool = nil
	u, err = h.d.DryRun(context.Background(), fits)
	require.NoError(t, err)
	assert.Nil(t, u)

	// Three jobs of 3 GPUs take a node each, and leave no node 2 free.
	for _, id := range []string{"x", "y", "z"} {
		job := otherJob(id, 3)
		job.NodePool = nil
		_, _, err := h.client.Jobs().Register(job, nil)
		require.NoError(t, err)
	}
	require.NoError(t, h.sim.WaitIdle(context.Background()))
	two := otherJob("two", 2)
	two.NodePool = nil
	u, err = h.d.DryRun(context.Background(), two)
	require.NoError(t, err)
	require.NotNil(t, u)
	assert.Equal(t, "no node has 2 free nvidia/gpu: devices exhausted on 3 nodes", u.Reason())
}

func TestTheTokenNeverAppearsInLogsOrErrors(t *testing.T) {
	const token = "0b7b4a58-secret-token-e0f6c9d1"
	var logs bytes.Buffer
	logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: &logs})
	h := setupSim(t, mockTrial(`      run_for   = "100ms"
      exit_code = 5`, ""), harnessOptions{token: token, driver: Options{Logger: logger}})
	h.sim.SetFailureRate(0.3, 500)

	h.start(0, 0)
	exit, _ := h.waitExited(0, 0)
	h.sim.SetFailureRate(1, 403)
	_, capErr := h.d.Capacity(context.Background())

	require.Error(t, capErr)
	assert.NotContains(t, capErr.Error(), token)
	assert.NotContains(t, exit.Message, token)
	assert.NotEmpty(t, logs.String())
	assert.False(t, strings.Contains(logs.String(), token), "the token is in the log")
}

func TestWhatHappenedWhileTheStreamWasDownIsCaughtUp(t *testing.T) {
	for _, tc := range []struct {
		name   string
		trials int
		// listed says the catch-up lists the experiment's jobs and
		// allocations rather than reading each attempt's.
		listed bool
	}{
		{name: "a few attempts are read one by one", trials: 1},
		{name: "many attempts are caught up from two listings", trials: catchUpByListing + 1, listed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Once the gate is shut, subscriptions to the event stream are
			// held until it opens.
			var shut atomic.Bool
			f := newFront(func(r *http.Request) bool { return shut.Load() && r.URL.Path == "/v1/event/stream" })
			h := setupSim(t, trialsOf(tc.trials, 0.5, `      run_for       = "200ms"
      stdout_string = "@tune {\"loss\": 5}\n"`), harnessOptions{
				front: f,
				// A buffer of one batch cannot replay what was missed.
				sim: nomadsim.Options{EventBufferSize: 1,
					Nodes: []nomadsim.NodeSpec{{Count: 1, Name: "big", Datacenter: "dc1", Cores: 16, MHz: 2000, MemoryMiB: 16384}}},
			})

			for i := range tc.trials {
				h.start(i, 0)
			}
			for i := range tc.trials {
				h.waitRunning(i, 0)
			}
			shut.Store(true)
			h.sim.DropEventStreams()
			waitArrived(t, f)
			for i := range tc.trials {
				require.Eventually(t, func() bool {
					allocs := h.allocs(i)
					return len(allocs) == 1 && allocs[0].ClientStatus == api.AllocClientStatusComplete
				}, waitLimit, 10*time.Millisecond)
			}
			// Someone else's job pushes the allocations' last updates out
			// of the buffer.
			noise := otherJob("noise", 1)
			noise.NodePool = nil
			noise.TaskGroups[0].Tasks[0].Resources.Devices = nil
			_, _, err := h.client.Jobs().Register(noise, nil)
			require.NoError(t, err)
			require.NoError(t, h.sim.WaitIdle(context.Background()))
			f.reset()
			f.open()
			for i := range tc.trials {
				exit, evs := h.waitExited(i, 0)
				assert.False(t, exit.Failed, exit.Message)
				assert.Equal(t, []driver.EventKind{driver.EventRunning, driver.EventReport, driver.EventExited}, kinds(evs))
			}

			perAttempt := f.count(http.MethodGet, "/v1/job/"+h.jobID(0)) + f.count(http.MethodGet, "/v1/job/"+h.jobID(0)+"/allocations")
			if tc.listed {
				assert.Zero(t, perAttempt)
				assert.Equal(t, 1, f.count(http.MethodGet, "/v1/allocations"))
				assert.Equal(t, 1, f.count(http.MethodGet, "/v1/jobs"))
			} else {
				assert.Equal(t, 2, perAttempt)
				assert.Zero(t, f.count(http.MethodGet, "/v1/allocations"))
			}
		})
	}
}

func TestAJobStoppedOutsideTuneEndsTheAttemptAsStopped(t *testing.T) {
	h := setupSim(t, mockTrial(`      run_for = "1m"`, ""), harnessOptions{})

	h.start(0, 0)
	h.waitRunning(0, 0)
	// As `tune stop` or `nomad job stop` do.
	_, _, err := h.client.Jobs().Deregister(h.jobID(0), false, nil)
	require.NoError(t, err)
	exit, _ := h.waitExited(0, 0)

	assert.True(t, exit.Stopped, "a stop the controller did not ask for")
	assert.False(t, exit.Failed)
	assert.Equal(t, fmt.Sprintf("job %s was stopped in Nomad", h.jobID(0)), exit.Message)
	for _, a := range h.allocs(0) {
		assert.NotEqual(t, api.AllocClientStatusRunning, a.ClientStatus)
	}
}

func TestATaskThatCannotStartFailsTheAttempt(t *testing.T) {
	h := setupSim(t, mockTrial(`      start_error = "image not found"`, ""), harnessOptions{})

	h.start(0, 0)
	exit, evs := h.waitExited(0, 0)

	assert.Equal(t, []driver.EventKind{driver.EventExited}, kinds(evs), "it never ran")
	assert.True(t, exit.Failed)
	assert.Equal(t, -1, exit.ExitCode)
	assert.Contains(t, exit.Message, `task "train" of allocation `)
	assert.Contains(t, exit.Message, "image not found")
}

func TestAnAttemptIsRegisteredThenPlacedThenRunning(t *testing.T) {
	two := small
	two.Count = 2
	// Two gangs, each of which takes both nodes, queued in Nomad when
	// they do not fit; time enough to be placed whole however loaded the
	// machine is.
	src := strings.NewReplacer(`experiment "gang" {`, "experiment \"gang\" {\n  num_samples = 2",
		`gang_timeout = "1s"`, `gang_timeout = "10m"`).Replace(fmt.Sprintf(gang, "queue"))
	h := setupSim(t, src, harnessOptions{sim: nomadsim.Options{Nodes: []nomadsim.NodeSpec{two}}})

	h.start(0, 0)
	first := h.waitFor(0, 0, "running", func(ev driver.Event) bool { return ev.Kind == driver.EventRunning })
	// The second gang waits in Nomad's queue until the first leaves room.
	h.start(1, 0)
	stopAt := time.Now()
	require.NoError(t, h.d.Stop(context.Background(), h.trials[0].ID, 0, "make room"))
	second := h.waitFor(1, 0, "running", func(ev driver.Event) bool { return ev.Kind == driver.EventRunning })

	for i, ev := range []driver.Event{first[len(first)-1], second[len(second)-1]} {
		require.False(t, ev.Registered.IsZero(), "trial %d: registered", i)
		require.False(t, ev.Placed.IsZero(), "trial %d: placed", i)
		assert.False(t, ev.Placed.Before(ev.Registered), "trial %d: placed %s before registered %s", i, ev.Placed, ev.Registered)
		assert.False(t, ev.Time.Before(ev.Placed), "trial %d: running %s before placed %s", i, ev.Time, ev.Placed)
	}
	assert.False(t, second[len(second)-1].Placed.Before(stopAt), "the second gang was placed only once the first was stopped")
}
