package nomadsim

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/require"
)

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

func waitIdle(t *testing.T, s *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, s.WaitIdle(ctx))
}

// eventually polls cond for up to ten seconds.
func eventually(t *testing.T, cond func() bool, msg string, args ...any) {
	t.Helper()
	require.Eventuallyf(t, cond, 10*time.Second, 5*time.Millisecond, msg, args...)
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
