package nomadsim

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/clock"
)

// waitLimit bounds every wait of these tests for something to happen. It
// only matters when the awaited thing never happens: simulated time moves
// on a manual clock or on a scaled one, never against this limit.
const waitLimit = time.Minute

// startSim serves a simulated cluster for one test and returns a real
// api client pointed at it.
func startSim(t *testing.T, opts Options) (*Server, *api.Client) {
	t.Helper()
	if opts.Seed == 0 {
		opts.Seed = 42
	}
	srv, err := Start(opts)
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	cfg := api.DefaultConfig()
	cfg.Address = srv.URL()
	cfg.Namespace = ""
	cfg.Region = ""
	cfg.SecretID = ""
	client, err := api.NewClient(cfg)
	require.NoError(t, err)
	return srv, client
}

// mockJob is a batch job of one group of count tasks run by mock_driver.
func mockJob(id string, count int, config map[string]any) *api.Job {
	job := api.NewBatchJob(id, id, "global", 50)
	task := api.NewTask("work", "mock_driver")
	task.Config = config
	task.Resources = &api.Resources{CPU: new(500), MemoryMB: new(256)}
	tg := api.NewTaskGroup("main", count)
	tg.AddTask(task)
	job.AddTaskGroup(tg)
	return job
}

// startManual serves a simulated cluster whose time moves only when the
// test advances it, so that durations the API reports are exact.
func startManual(t *testing.T, opts Options) (*Server, *api.Client, *clock.Manual) {
	t.Helper()
	clk := clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	opts.Clock = clk
	srv, c := startSim(t, opts)
	return srv, c, clk
}

// advance waits until at least n waits are pending on clk, the soonest
// due in d, then moves the clock d on: the advance then reaches the waits
// the test means it for, and ends the soonest.
func advance(t *testing.T, clk *clock.Manual, n int, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	err := clk.WaitUntil(ctx, func(pending []time.Duration) bool { return len(pending) >= n && pending[0] == d })
	require.NoError(t, err, "waiting for %d waits on the clock, the soonest in %s; pending: %v", n, d, clk.Pending())
	clk.Advance(d)
}

// waitStarted waits until the API shows task of the job's first
// allocation started. A task's waits are on the clock a moment before
// its start is recorded, so a test that measures from the start moves
// the clock only after this.
func waitStarted(t *testing.T, c *api.Client, jobID, task string) {
	t.Helper()
	eventually(t, func() bool {
		allocs := jobAllocs(t, c, jobID)
		if len(allocs) == 0 {
			return false
		}
		ts := allocs[0].TaskStates[task]
		return ts != nil && !ts.StartedAt.IsZero()
	}, "task %s of job %s started", task, jobID)
}

func waitIdle(t *testing.T, s *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	require.NoError(t, s.WaitIdle(ctx))
}

// eventually polls cond until it holds, failing after waitLimit.
func eventually(t *testing.T, cond func() bool, msg string, args ...any) {
	t.Helper()
	require.Eventuallyf(t, cond, waitLimit, 5*time.Millisecond, msg, args...)
}

// jobAllocs lists a job's allocations through the API.
func jobAllocs(t *testing.T, c *api.Client, id string) []*api.AllocationListStub {
	t.Helper()
	allocs, _, err := c.Jobs().Allocations(id, true, nil)
	require.NoError(t, err)
	return allocs
}

func allDone(allocs []*api.AllocationListStub, status string) bool {
	if len(allocs) == 0 {
		return false
	}
	for _, a := range allocs {
		if a.ClientStatus != status {
			return false
		}
	}
	return true
}
