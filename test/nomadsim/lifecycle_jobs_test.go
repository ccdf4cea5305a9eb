package nomadsim

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/clock"
)

func TestJobAttempts(t *testing.T) {
	t.Run("a new version of a finished batch job runs again", func(t *testing.T) {
		srv, c := startSim(t, Options{TimeScale: 1000})
		job := mockJob("attempts", 1, map[string]any{"run_for": "1s"})
		job.SetMeta("attempt", "0")
		_, _, err := c.Jobs().Register(job, nil)
		require.NoError(t, err)
		eventually(t, jobDead(t, c, "attempts"), "first attempt done")
		waitIdle(t, srv)

		// The same spec again finds its work done and places nothing.
		_, _, err = c.Jobs().Register(job, nil)
		require.NoError(t, err)
		waitIdle(t, srv)
		assert.Len(t, jobAllocs(t, c, "attempts"), 1)

		next := mockJob("attempts", 1, map[string]any{"run_for": "1s"})
		next.SetMeta("attempt", "1")
		_, _, err = c.Jobs().Register(next, nil)
		require.NoError(t, err)
		eventually(t, func() bool {
			allocs := jobAllocs(t, c, "attempts")
			return len(allocs) == 2 && allDone(allocs, "complete")
		}, "the second attempt runs")
	})

	t.Run("a stopped job registered again runs again", func(t *testing.T) {
		srv, c := startSim(t, Options{TimeScale: 1000})
		_, _, err := c.Jobs().Register(mockJob("restart", 1, longRunning), nil)
		require.NoError(t, err)
		waitIdle(t, srv)
		_, _, err = c.Jobs().Deregister("restart", false, nil)
		require.NoError(t, err)
		eventually(t, func() bool { return allDone(jobAllocs(t, c, "restart"), "complete") }, "stopped")
		_, _, err = c.Jobs().Register(mockJob("restart", 1, longRunning), nil)
		require.NoError(t, err)
		waitIdle(t, srv)
		live := 0
		for _, a := range jobAllocs(t, c, "restart") {
			if a.DesiredStatus == "run" {
				live++
			}
		}
		assert.Equal(t, 1, live)
		info, _, err := c.Jobs().Info("restart", nil)
		require.NoError(t, err)
		assert.False(t, *info.Stop)
		assert.Equal(t, uint64(2), *info.Version)
	})

	t.Run("a purged job registered again is a new job whose list hides the old allocations", func(t *testing.T) {
		srv, c := startSim(t, Options{TimeScale: 1000})
		_, _, err := c.Jobs().Register(mockJob("again", 1, map[string]any{"run_for": "1s"}), nil)
		require.NoError(t, err)
		eventually(t, jobDead(t, c, "again"), "done")
		_, _, err = c.Jobs().Deregister("again", true, nil)
		require.NoError(t, err)
		// The purge's evaluation must be done before the job comes back:
		// processed after the new registration, it would reconcile the new
		// job and place its allocation under its own evaluation, as Nomad's
		// scheduler would too.
		waitIdle(t, srv)
		resp, _, err := c.Jobs().EnforceRegister(mockJob("again", 1, longRunning), 0, nil)
		require.NoError(t, err, "a purged job is new to enforce-index registration")
		waitIdle(t, srv)
		current, _, err := c.Jobs().Allocations("again", false, nil)
		require.NoError(t, err)
		require.Len(t, current, 1)
		assert.Equal(t, resp.EvalID, current[0].EvalID)
		all, _, err := c.Jobs().Allocations("again", true, nil)
		require.NoError(t, err)
		assert.Len(t, all, 2)
	})

	t.Run("stopping one allocation replaces it", func(t *testing.T) {
		srv, c := startSim(t, Options{TimeScale: 1000})
		_, _, err := c.Jobs().Register(mockJob("alloc-stop", 1, longRunning), nil)
		require.NoError(t, err)
		waitIdle(t, srv)
		first := jobAllocs(t, c, "alloc-stop")[0]
		a, _, err := c.Allocations().Info(first.ID, nil)
		require.NoError(t, err)
		_, err = c.Allocations().Stop(a, nil)
		require.NoError(t, err)
		eventually(t, func() bool { return len(jobAllocs(t, c, "alloc-stop")) == 2 }, "replaced")
		old, _, err := c.Allocations().Info(first.ID, nil)
		require.NoError(t, err)
		assert.Equal(t, "alloc is being migrated", old.DesiredDescription)
	})
}

func TestUnsupported(t *testing.T) {
	t.Run("system jobs are refused rather than scheduled wrongly", func(t *testing.T) {
		_, c := startSim(t, Options{})
		job := mockJob("sys", 1, longRunning)
		job.Type = new("system")
		_, _, err := c.Jobs().Register(job, nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "does not schedule system jobs")
	})

	t.Run("a host volume request finds no node", func(t *testing.T) {
		_, c := startSim(t, Options{Nodes: []NodeSpec{{Count: 2}}})
		job := mockJob("vol", 1, longRunning)
		job.TaskGroups[0].Volumes = map[string]*api.VolumeRequest{"data": {Name: "data", Type: "host", Source: "data"}}
		plan, _, err := c.Jobs().Plan(job, false, nil)
		require.NoError(t, err)
		assert.Equal(t, map[string]int{"missing compatible host volumes": 1, "computed class ineligible": 1}, plan.FailedTGAllocs["main"].ConstraintFiltered)
	})

	t.Run("an unimplemented endpoint answers 404 naming itself", func(t *testing.T) {
		_, c := startSim(t, Options{})
		_, err := c.Operator().RaftGetConfiguration(nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "does not implement /v1/operator/raft/configuration")
	})
}

func TestHandler(t *testing.T) {
	t.Run("a Sim served by httptest streams logs through its own address", func(t *testing.T) {
		// The task runs as long as the test: its clock never moves.
		sim, err := New(Options{Clock: clock.NewManual(time.Unix(0, 0)), Seed: 1})
		require.NoError(t, err)
		defer sim.Close()
		hs := httptest.NewServer(sim.Handler())
		defer hs.Close()
		sim.SetAdvertiseAddr(hs.Listener.Addr().String())
		cfg := api.DefaultConfig()
		cfg.Address = hs.URL
		c, err := api.NewClient(cfg)
		require.NoError(t, err)
		node, _, err := c.Nodes().Info(sim.Nodes()[0].ID, nil)
		require.NoError(t, err)
		assert.Equal(t, hs.Listener.Addr().String(), node.HTTPAddr)
		_, _, err = c.Jobs().Register(mockJob("h", 1, map[string]any{"stdout_string": "via httptest\n", "run_for": "1h"}), nil)
		require.NoError(t, err)
		var a *api.Allocation
		eventually(t, func() bool {
			allocs := jobAllocs(t, c, "h")
			if len(allocs) == 0 || allocs[0].ClientStatus != "running" {
				return false
			}
			a, _, err = c.Allocations().Info(allocs[0].ID, nil)
			return err == nil
		}, "running")
		assert.Equal(t, "via httptest\n", readLogs(t, c, a, "work", "stdout", false))
	})
}
