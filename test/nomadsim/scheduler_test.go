package nomadsim

import (
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// longRunning keeps tasks running for the whole test.
var longRunning = map[string]any{"run_for": "24h"}

func sized(job *api.Job, cpu, mem int) *api.Job {
	for _, tg := range job.TaskGroups {
		for _, t := range tg.Tasks {
			t.Resources = &api.Resources{CPU: new(cpu), MemoryMB: new(mem)}
		}
	}
	return job
}

func TestRegistration(t *testing.T) {
	t.Run("enforcing index 0 registers a new job once and refuses it after", func(t *testing.T) {
		_, c := startSim(t, Options{})
		job := mockJob("once", 1, longRunning)
		resp, _, err := c.Jobs().EnforceRegister(job, 0, nil)
		require.NoError(t, err)
		assert.NotZero(t, resp.JobModifyIndex)

		_, _, err = c.Jobs().EnforceRegister(mockJob("once", 1, longRunning), 0, nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "500")
		assert.Contains(t, err.Error(), "Enforcing job modify index 0: job already exists")
	})

	t.Run("enforcing the current modify index updates the job and a stale one is refused", func(t *testing.T) {
		_, c := startSim(t, Options{})
		resp, _, err := c.Jobs().Register(mockJob("upd", 1, longRunning), nil)
		require.NoError(t, err)
		changed := mockJob("upd", 1, longRunning)
		changed.SetMeta("attempt", "1")
		resp2, _, err := c.Jobs().EnforceRegister(changed, resp.JobModifyIndex, nil)
		require.NoError(t, err)
		assert.Greater(t, resp2.JobModifyIndex, resp.JobModifyIndex)

		_, _, err = c.Jobs().EnforceRegister(mockJob("upd", 1, longRunning), resp.JobModifyIndex, nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "job exists with conflicting job modify index")

		info, _, err := c.Jobs().Info("upd", nil)
		require.NoError(t, err)
		assert.Equal(t, uint64(1), *info.Version)
	})

	t.Run("enforcing a non-zero index on a missing job is refused", func(t *testing.T) {
		_, c := startSim(t, Options{})
		_, _, err := c.Jobs().EnforceRegister(mockJob("nope", 1, longRunning), 7, nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "Enforcing job modify index 7: job does not exist")
	})

	t.Run("registering an unchanged job creates an evaluation but no new version", func(t *testing.T) {
		srv, c := startSim(t, Options{})
		first, _, err := c.Jobs().Register(mockJob("same", 1, longRunning), nil)
		require.NoError(t, err)
		waitIdle(t, srv)
		second, _, err := c.Jobs().Register(mockJob("same", 1, longRunning), nil)
		require.NoError(t, err)
		assert.NotEqual(t, first.EvalID, second.EvalID)
		info, _, err := c.Jobs().Info("same", nil)
		require.NoError(t, err)
		assert.Equal(t, uint64(0), *info.Version)
		assert.Equal(t, first.JobModifyIndex, *info.JobModifyIndex)
		waitIdle(t, srv)
		assert.Len(t, jobAllocs(t, c, "same"), 1, "the re-evaluation places nothing new")
	})

	t.Run("the server fills Nomad's defaults into a registered job", func(t *testing.T) {
		_, c := startSim(t, Options{})
		_, _, err := c.Jobs().Register(mockJob("defaults", 1, longRunning), nil)
		require.NoError(t, err)
		info, _, err := c.Jobs().Info("defaults", nil)
		require.NoError(t, err)
		assert.Equal(t, []string{"*"}, info.Datacenters)
		assert.Equal(t, "default", *info.NodePool)
		assert.Equal(t, "default", *info.Namespace)
		tg := info.TaskGroups[0]
		assert.Equal(t, 3, *tg.RestartPolicy.Attempts, "batch restart default")
		assert.Equal(t, 15*time.Second, *tg.RestartPolicy.Delay)
		assert.Equal(t, 1, *tg.ReschedulePolicy.Attempts, "batch reschedule default")
		assert.Equal(t, 300, *tg.EphemeralDisk.SizeMB)
		assert.NotZero(t, *info.SubmitTime)
	})

	t.Run("invalid jobs are refused with Nomad's validation errors", func(t *testing.T) {
		_, c := startSim(t, Options{})
		job := mockJob("bad", 1, longRunning)
		job.TaskGroups[0].Tasks[0].Resources.MemoryMB = new(5)
		_, _, err := c.Jobs().Register(job, nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "Task group main validation failed")
		assert.Contains(t, err.Error(), "minimum MemoryMB value is 10; got 5")

		missing := api.NewBatchJob("empty", "empty", "global", 50)
		_, _, err = c.Jobs().Register(missing, nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "Missing job task groups")
	})

	t.Run("a job in a node pool or namespace that does not exist is refused", func(t *testing.T) {
		_, c := startSim(t, Options{})
		job := mockJob("pool", 1, longRunning)
		job.NodePool = new("gpu")
		_, _, err := c.Jobs().Register(job, nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), `nonexistent node pool "gpu"`)

		_, _, err = c.Jobs().Register(mockJob("ns", 1, longRunning), &api.WriteOptions{Namespace: "team"})
		require.Error(t, err)
		assert.Contains(t, err.Error(), `nonexistent namespace "team"`)
	})
}

func TestPartialPlacement(t *testing.T) {
	t.Run("a job whose groups do not all fit is placed in part and leaves a blocked evaluation", func(t *testing.T) {
		srv, c := startSim(t, Options{Nodes: []NodeSpec{{Count: 1, Cores: 4, MHz: 2000, MemoryMiB: 8192}}})
		job := mockJob("gang", 1, longRunning)
		second := api.NewTaskGroup("second", 1)
		task := api.NewTask("work", "mock_driver")
		task.Config = longRunning
		second.AddTask(task)
		job.AddTaskGroup(second)
		sized(job, 6000, 1024)

		resp, _, err := c.Jobs().Register(job, nil)
		require.NoError(t, err)
		waitIdle(t, srv)

		allocs := jobAllocs(t, c, "gang")
		require.Len(t, allocs, 1, "only one group fits")
		eval, _, err := c.Evaluations().Info(resp.EvalID, nil)
		require.NoError(t, err)
		assert.Equal(t, "complete", eval.Status)
		require.NotEmpty(t, eval.BlockedEval)
		require.Len(t, eval.FailedTGAllocs, 1)
		for tg, m := range eval.FailedTGAllocs {
			assert.NotEqual(t, allocs[0].TaskGroup, tg)
			assert.Equal(t, 1, m.NodesEvaluated)
			assert.Equal(t, 1, m.NodesExhausted)
			assert.Equal(t, map[string]int{"cpu": 1}, m.DimensionExhausted)
		}
		blocked, _, err := c.Evaluations().Info(eval.BlockedEval, nil)
		require.NoError(t, err)
		assert.Equal(t, "blocked", blocked.Status)
		assert.Equal(t, "queued-allocs", blocked.TriggeredBy)
		assert.Equal(t, resp.EvalID, blocked.PreviousEval)
		assert.Equal(t, "created to place remaining allocations", blocked.StatusDescription)

		sum, _, err := c.Jobs().Summary("gang", nil)
		require.NoError(t, err)
		queued := sum.Summary["main"].Queued + sum.Summary["second"].Queued
		assert.Equal(t, 1, queued)

		info, _, err := c.Jobs().Info("gang", nil)
		require.NoError(t, err)
		assert.Equal(t, "running", *info.Status)
	})

	t.Run("the blocked evaluation places the rest once capacity frees", func(t *testing.T) {
		srv, c := startSim(t, Options{Nodes: []NodeSpec{{Count: 1, Cores: 4, MHz: 2000}}, TimeScale: 1000})
		hog := sized(mockJob("hog", 1, longRunning), 6000, 256)
		_, _, err := c.Jobs().Register(hog, nil)
		require.NoError(t, err)
		waitIdle(t, srv)
		waiter := sized(mockJob("waiter", 1, map[string]any{"run_for": "1m"}), 6000, 256)
		resp, _, err := c.Jobs().Register(waiter, nil)
		require.NoError(t, err)
		waitIdle(t, srv)
		require.Empty(t, jobAllocs(t, c, "waiter"))
		eval, _, err := c.Evaluations().Info(resp.EvalID, nil)
		require.NoError(t, err)
		require.NotEmpty(t, eval.BlockedEval)
		info, _, _ := c.Jobs().Info("waiter", nil)
		assert.Equal(t, "pending", *info.Status, "a job waiting in a blocked evaluation is pending")

		_, _, err = c.Jobs().Deregister("hog", true, nil)
		require.NoError(t, err)
		eventually(t, func() bool { return len(jobAllocs(t, c, "waiter")) == 1 }, "the waiter is placed")
		eventually(t, func() bool {
			b, _, err := c.Evaluations().Info(eval.BlockedEval, nil)
			return err == nil && b.Status == "complete"
		}, "the blocked evaluation completes")
		eventually(t, func() bool { return allDone(jobAllocs(t, c, "waiter"), "complete") }, "the waiter runs to completion")
	})

	t.Run("a group with a count larger than fits is placed in part and coalesces its failures", func(t *testing.T) {
		srv, c := startSim(t, Options{Nodes: []NodeSpec{{Count: 2, Cores: 2, MHz: 1000}}})
		job := sized(mockJob("wide", 5, longRunning), 1500, 256)
		resp, _, err := c.Jobs().Register(job, nil)
		require.NoError(t, err)
		waitIdle(t, srv)
		assert.Len(t, jobAllocs(t, c, "wide"), 2)
		eval, _, err := c.Evaluations().Info(resp.EvalID, nil)
		require.NoError(t, err)
		m := eval.FailedTGAllocs["main"]
		require.NotNil(t, m)
		assert.Equal(t, 2, m.CoalescedFailures, "the second and third failures coalesce into the first")
		assert.Equal(t, 3, eval.QueuedAllocations["main"])
	})

	t.Run("a newer blocked evaluation replaces the job's older one", func(t *testing.T) {
		srv, c := startSim(t, Options{Nodes: []NodeSpec{{Count: 1, Cores: 1, MHz: 1000}}})
		job := sized(mockJob("twice", 1, longRunning), 5000, 256)
		r1, _, err := c.Jobs().Register(job, nil)
		require.NoError(t, err)
		waitIdle(t, srv)
		job2 := sized(mockJob("twice", 1, longRunning), 6000, 256)
		_, _, err = c.Jobs().Register(job2, nil)
		require.NoError(t, err)
		waitIdle(t, srv)
		e1, _, err := c.Evaluations().Info(r1.EvalID, nil)
		require.NoError(t, err)
		b1, _, err := c.Evaluations().Info(e1.BlockedEval, nil)
		require.NoError(t, err)
		assert.Equal(t, "canceled", b1.Status)
		evals, _, err := c.Jobs().Evaluations("twice", nil)
		require.NoError(t, err)
		blocked := 0
		for _, e := range evals {
			if e.Status == "blocked" {
				blocked++
			}
		}
		assert.Equal(t, 1, blocked)
	})
}

func TestPlan(t *testing.T) {
	t.Run("a plan of a job too big for every node names the exhausted dimension and writes nothing", func(t *testing.T) {
		srv, c := startSim(t, Options{Nodes: []NodeSpec{{Count: 3, Cores: 4, MemoryMiB: 4096}}})
		job := sized(mockJob("huge", 1, longRunning), 500, 8192)
		plan, _, err := c.Jobs().Plan(job, true, nil)
		require.NoError(t, err)
		m := plan.FailedTGAllocs["main"]
		require.NotNil(t, m)
		assert.Equal(t, 3, m.NodesEvaluated)
		assert.Equal(t, 3, m.NodesExhausted)
		assert.Equal(t, 0, m.NodesFiltered)
		assert.Equal(t, map[string]int{"memory": 3}, m.DimensionExhausted)
		assert.Equal(t, 8192, *m.ResourcesExhausted["work"].MemoryMB)
		assert.Equal(t, uint64(0), plan.JobModifyIndex)
		assert.Equal(t, uint64(1), plan.Annotations.DesiredTGUpdates["main"].Place)
		require.Len(t, plan.CreatedEvals, 1)
		assert.Equal(t, "blocked", plan.CreatedEvals[0].Status)
		require.NotNil(t, plan.Diff)
		assert.Equal(t, "Added", plan.Diff.Type)
		assert.Equal(t, uint64(1), plan.Diff.TaskGroups[0].Updates["create"])

		waitIdle(t, srv)
		_, _, err = c.Jobs().Info("huge", nil)
		require.Error(t, err, "a plan registers nothing")
		assert.Contains(t, err.Error(), "404")
	})

	t.Run("a plan of an existing job reports its modify index and what would change", func(t *testing.T) {
		srv, c := startSim(t, Options{})
		reg, _, err := c.Jobs().Register(mockJob("planned", 2, longRunning), nil)
		require.NoError(t, err)
		waitIdle(t, srv)
		plan, _, err := c.Jobs().Plan(mockJob("planned", 3, longRunning), true, nil)
		require.NoError(t, err)
		assert.Equal(t, reg.JobModifyIndex, plan.JobModifyIndex)
		u := plan.Annotations.DesiredTGUpdates["main"]
		assert.Equal(t, uint64(1), u.Place)
		assert.Equal(t, uint64(2), u.InPlaceUpdate)
		assert.Empty(t, plan.FailedTGAllocs)
		assert.Equal(t, "Edited", plan.Diff.Type)
	})

	t.Run("constraints filter nodes and identical nodes are skipped by computed class", func(t *testing.T) {
		_, c := startSim(t, Options{Nodes: []NodeSpec{{Count: 4}}})
		job := mockJob("arm", 1, longRunning)
		job.Constrain(api.NewConstraint("${attr.cpu.arch}", "=", "arm64"))
		plan, _, err := c.Jobs().Plan(job, false, nil)
		require.NoError(t, err)
		m := plan.FailedTGAllocs["main"]
		require.NotNil(t, m)
		assert.Equal(t, 4, m.NodesEvaluated)
		assert.Equal(t, 4, m.NodesFiltered)
		assert.Equal(t, map[string]int{"${attr.cpu.arch} = arm64": 1, "computed class ineligible": 3}, m.ConstraintFiltered)
	})

	t.Run("a driver no node has filters every node", func(t *testing.T) {
		_, c := startSim(t, Options{Nodes: []NodeSpec{{Count: 2}}})
		job := mockJob("docker", 1, nil)
		job.TaskGroups[0].Tasks[0].Driver = "docker"
		plan, _, err := c.Jobs().Plan(job, false, nil)
		require.NoError(t, err)
		assert.Equal(t, map[string]int{"missing drivers": 1, "computed class ineligible": 1}, plan.FailedTGAllocs["main"].ConstraintFiltered)
	})

	t.Run("unique constraints escape the computed class", func(t *testing.T) {
		_, c := startSim(t, Options{Nodes: []NodeSpec{{Count: 3}}})
		job := mockJob("unique", 1, longRunning)
		job.Constrain(api.NewConstraint("${attr.unique.hostname}", "=", "nowhere"))
		plan, _, err := c.Jobs().Plan(job, false, nil)
		require.NoError(t, err)
		assert.Equal(t, map[string]int{"${attr.unique.hostname} = nowhere": 3}, plan.FailedTGAllocs["main"].ConstraintFiltered)
	})
}

func TestDevices(t *testing.T) {
	gpuCluster := Options{Nodes: []NodeSpec{
		{Count: 2, Cores: 32, MemoryMiB: 256 * 1024, GPUs: 8, GPUModel: "NVIDIA H100 80GB HBM3", GPUMemoryMiB: 81559, NodePool: "gpu"},
		{Count: 2, Cores: 16, MemoryMiB: 64 * 1024, GPUs: 4, GPUModel: "NVIDIA A10G", GPUMemoryMiB: 23028, NodePool: "gpu"},
		{Count: 3, Cores: 16, MemoryMiB: 64 * 1024},
	}}
	gpuJob := func(id string, gpus uint64, cons ...*api.Constraint) *api.Job {
		job := mockJob(id, 1, longRunning)
		job.NodePool = new("gpu")
		job.TaskGroups[0].Tasks[0].Resources.Devices = []*api.RequestedDevice{{Name: "nvidia/gpu", Count: new(gpus), Constraints: cons}}
		return job
	}

	t.Run("GPUs are granted as whole device instances listed in the allocation", func(t *testing.T) {
		srv, c := startSim(t, gpuCluster)
		_, _, err := c.Jobs().Register(gpuJob("train", 2), nil)
		require.NoError(t, err)
		waitIdle(t, srv)
		allocs := jobAllocs(t, c, "train")
		require.Len(t, allocs, 1)
		a, _, err := c.Allocations().Info(allocs[0].ID, nil)
		require.NoError(t, err)
		devs := a.AllocatedResources.Tasks["work"].Devices
		require.Len(t, devs, 1)
		assert.Equal(t, "nvidia", devs[0].Vendor)
		assert.Equal(t, "gpu", devs[0].Type)
		assert.Len(t, devs[0].DeviceIDs, 2)
		for _, id := range devs[0].DeviceIDs {
			assert.True(t, strings.HasPrefix(id, "GPU-"))
		}
	})

	t.Run("a device constraint on memory with units picks the large GPUs", func(t *testing.T) {
		srv, c := startSim(t, gpuCluster)
		_, _, err := c.Jobs().Register(gpuJob("big", 1, api.NewConstraint("${device.attr.memory}", ">=", "40 GiB")), nil)
		require.NoError(t, err)
		waitIdle(t, srv)
		allocs := jobAllocs(t, c, "big")
		require.Len(t, allocs, 1)
		a, _, err := c.Allocations().Info(allocs[0].ID, nil)
		require.NoError(t, err)
		assert.Equal(t, "NVIDIA H100 80GB HBM3", a.AllocatedResources.Tasks["work"].Devices[0].Name)
	})

	t.Run("a device model constraint no node meets filters them as missing devices", func(t *testing.T) {
		_, c := startSim(t, gpuCluster)
		plan, _, err := c.Jobs().Plan(gpuJob("b200", 1, api.NewConstraint("${device.model}", "=", "NVIDIA B200")), false, nil)
		require.NoError(t, err)
		m := plan.FailedTGAllocs["main"]
		require.NotNil(t, m)
		assert.Equal(t, 4, m.NodesInPool, "only the gpu pool is considered")
		assert.Equal(t, 4, m.NodesEvaluated)
		assert.Equal(t, map[string]int{"missing devices": 2, "computed class ineligible": 2}, m.ConstraintFiltered)
	})

	t.Run("GPUs in use exhaust the devices dimension", func(t *testing.T) {
		srv, c := startSim(t, gpuCluster)
		for _, id := range []string{"a", "b"} {
			_, _, err := c.Jobs().Register(gpuJob(id, 8), nil)
			require.NoError(t, err)
		}
		waitIdle(t, srv)
		plan, _, err := c.Jobs().Plan(gpuJob("c", 8), false, nil)
		require.NoError(t, err)
		m := plan.FailedTGAllocs["main"]
		require.NotNil(t, m)
		assert.Equal(t, map[string]int{"devices: no devices match request": 2}, m.DimensionExhausted)
		assert.Equal(t, map[string]int{"missing devices": 1, "computed class ineligible": 1}, m.ConstraintFiltered, "the A10G nodes have only 4")
	})
}

func TestPlacementRules(t *testing.T) {
	t.Run("distinct_hosts puts every allocation on its own node", func(t *testing.T) {
		srv, c := startSim(t, Options{Nodes: []NodeSpec{{Count: 3, Cores: 16}}})
		job := mockJob("spread", 4, longRunning)
		job.Constrain(&api.Constraint{Operand: "distinct_hosts", RTarget: "true"})
		resp, _, err := c.Jobs().Register(job, nil)
		require.NoError(t, err)
		waitIdle(t, srv)
		allocs := jobAllocs(t, c, "spread")
		require.Len(t, allocs, 3)
		nodes := map[string]bool{}
		for _, a := range allocs {
			nodes[a.NodeID] = true
		}
		assert.Len(t, nodes, 3)
		eval, _, err := c.Evaluations().Info(resp.EvalID, nil)
		require.NoError(t, err)
		assert.Equal(t, map[string]int{"distinct_hosts": 3}, eval.FailedTGAllocs["main"].ConstraintFiltered)
	})

	t.Run("datacenters and node pools limit the nodes considered", func(t *testing.T) {
		srv, c := startSim(t, Options{Nodes: []NodeSpec{
			{Count: 2, Datacenter: "dc1"}, {Count: 2, Datacenter: "dc2"}, {Count: 2, Datacenter: "dc2", NodePool: "batch"},
		}})
		job := mockJob("dc2", 4, longRunning)
		job.Datacenters = []string{"dc2"}
		job.NodePool = new("batch")
		_, _, err := c.Jobs().Register(job, nil)
		require.NoError(t, err)
		waitIdle(t, srv)
		byID := map[string]*api.Node{}
		for _, n := range srv.Nodes() {
			byID[n.ID] = n
		}
		for _, a := range jobAllocs(t, c, "dc2") {
			assert.Equal(t, "dc2", byID[a.NodeID].Datacenter)
			assert.Equal(t, "batch", byID[a.NodeID].NodePool)
		}

		all := mockJob("anywhere", 1, longRunning)
		all.NodePool = new("all")
		all.Datacenters = []string{"dc*"}
		plan, _, err := c.Jobs().Plan(all, false, nil)
		require.NoError(t, err)
		assert.Empty(t, plan.FailedTGAllocs)
	})

	t.Run("reserved cores are whole cores no other allocation gets", func(t *testing.T) {
		srv, c := startSim(t, Options{Nodes: []NodeSpec{{Count: 1, Cores: 4, MHz: 2000}}})
		job := mockJob("cores", 2, longRunning)
		job.TaskGroups[0].Tasks[0].Resources = &api.Resources{Cores: new(2), MemoryMB: new(256)}
		resp, _, err := c.Jobs().Register(job, nil)
		require.NoError(t, err)
		waitIdle(t, srv)
		allocs := jobAllocs(t, c, "cores")
		require.Len(t, allocs, 2)
		seen := map[uint16]bool{}
		for _, s := range allocs {
			a, _, err := c.Allocations().Info(s.ID, nil)
			require.NoError(t, err)
			tr := a.AllocatedResources.Tasks["work"]
			assert.Equal(t, int64(4000), tr.Cpu.CpuShares, "cores cost their MHz")
			for _, core := range tr.Cpu.ReservedCores {
				assert.False(t, seen[core])
				seen[core] = true
			}
		}
		eval, _, _ := c.Evaluations().Info(resp.EvalID, nil)
		assert.Empty(t, eval.FailedTGAllocs)
		plan, _, err := c.Jobs().Plan(sized(mockJob("more", 1, longRunning), 100, 64), false, nil)
		require.NoError(t, err)
		assert.Equal(t, map[string]int{"cpu": 1}, plan.FailedTGAllocs["main"].DimensionExhausted)
	})
}

func TestStopAndPurge(t *testing.T) {
	t.Run("deregistering stops the job's allocations and keeps the job, dead", func(t *testing.T) {
		srv, c := startSim(t, Options{TimeScale: 100})
		_, _, err := c.Jobs().Register(mockJob("stopme", 2, longRunning), nil)
		require.NoError(t, err)
		waitIdle(t, srv)
		eventually(t, func() bool { return allDone(jobAllocs(t, c, "stopme"), "running") }, "running")
		evalID, _, err := c.Jobs().Deregister("stopme", false, nil)
		require.NoError(t, err)
		require.NotEmpty(t, evalID)
		eventually(t, func() bool { return allDone(jobAllocs(t, c, "stopme"), "complete") }, "stopped allocations complete")
		for _, a := range jobAllocs(t, c, "stopme") {
			assert.Equal(t, "stop", a.DesiredStatus)
			assert.Equal(t, "alloc not needed due to job update", a.DesiredDescription)
			events := a.TaskStates["work"].Events
			var types []string
			for _, e := range events {
				types = append(types, e.Type)
			}
			assert.Equal(t, []string{"Received", "Task Setup", "Started", "Killing", "Terminated", "Killed"}, types)
		}
		eventually(t, func() bool {
			info, _, err := c.Jobs().Info("stopme", nil)
			return err == nil && *info.Stop && *info.Status == "dead"
		}, "job dead and stopped")
		info, _, _ := c.Jobs().Info("stopme", nil)
		assert.Equal(t, uint64(1), *info.Version, "stopping makes a new version")
	})

	t.Run("purging removes the job but not its allocations", func(t *testing.T) {
		srv, c := startSim(t, Options{TimeScale: 100})
		_, _, err := c.Jobs().Register(mockJob("purge", 1, longRunning), nil)
		require.NoError(t, err)
		waitIdle(t, srv)
		_, _, err = c.Jobs().Deregister("purge", true, nil)
		require.NoError(t, err)
		_, _, err = c.Jobs().Info("purge", nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "job not found")
		eventually(t, func() bool { return allDone(jobAllocs(t, c, "purge"), "complete") }, "allocation stopped")
		list, _, err := c.Jobs().PrefixList("purge")
		require.NoError(t, err)
		assert.Empty(t, list)
	})

	t.Run("deregistering a job that does not exist succeeds without an evaluation", func(t *testing.T) {
		_, c := startSim(t, Options{})
		evalID, _, err := c.Jobs().Deregister("ghost", true, nil)
		require.NoError(t, err)
		assert.Empty(t, evalID)
	})

	t.Run("lowering the count stops the highest-numbered allocations", func(t *testing.T) {
		srv, c := startSim(t, Options{TimeScale: 100})
		_, _, err := c.Jobs().Register(mockJob("shrink", 3, longRunning), nil)
		require.NoError(t, err)
		waitIdle(t, srv)
		_, _, err = c.Jobs().Register(mockJob("shrink", 1, longRunning), nil)
		require.NoError(t, err)
		waitIdle(t, srv)
		live := 0
		for _, a := range jobAllocs(t, c, "shrink") {
			if a.DesiredStatus == "run" {
				live++
				assert.Equal(t, "shrink.main[0]", a.Name)
			}
		}
		assert.Equal(t, 1, live)
	})
}

func TestNodeLoss(t *testing.T) {
	t.Run("a lost node's allocations become lost and are placed elsewhere", func(t *testing.T) {
		srv, c := startSim(t, Options{Nodes: []NodeSpec{{Count: 2}}, TimeScale: 100})
		_, _, err := c.Jobs().Register(mockJob("survivor", 1, longRunning), nil)
		require.NoError(t, err)
		waitIdle(t, srv)
		eventually(t, func() bool { return allDone(jobAllocs(t, c, "survivor"), "running") }, "running")
		first := jobAllocs(t, c, "survivor")[0]
		require.NoError(t, srv.LoseNode(first.NodeID))
		eventually(t, func() bool { return len(jobAllocs(t, c, "survivor")) == 2 }, "replacement placed")
		waitIdle(t, srv)
		lost, _, err := c.Allocations().Info(first.ID, nil)
		require.NoError(t, err)
		assert.Equal(t, "lost", lost.ClientStatus)
		assert.Equal(t, "stop", lost.DesiredStatus)
		assert.Equal(t, "alloc is lost since its node is down", lost.DesiredDescription)
		assert.NotEmpty(t, lost.NextAllocation)
		repl, _, err := c.Allocations().Info(lost.NextAllocation, nil)
		require.NoError(t, err)
		assert.NotEqual(t, first.NodeID, repl.NodeID)
		assert.Equal(t, first.ID, repl.PreviousAllocation)
		assert.Equal(t, first.Name, repl.Name)
		node, _, err := c.Nodes().Info(first.NodeID, nil)
		require.NoError(t, err)
		assert.Equal(t, "down", node.Status)
		sum, _, err := c.Jobs().Summary("survivor", nil)
		require.NoError(t, err)
		assert.Equal(t, 1, sum.Summary["main"].Lost)
	})
}

func TestSpread(t *testing.T) {
	t.Run("a spread over nodes puts each allocation on a different node", func(t *testing.T) {
		srv, c := startSim(t, Options{Nodes: []NodeSpec{{Count: 4, Cores: 32}}})
		job := mockJob("spread", 4, longRunning)
		job.AddSpread(&api.Spread{Attribute: "${node.unique.id}", Weight: new(int8(100))})
		_, _, err := c.Jobs().Register(job, nil)
		require.NoError(t, err)
		waitIdle(t, srv)
		nodes := map[string]bool{}
		for _, a := range jobAllocs(t, c, "spread") {
			nodes[a.NodeID] = true
		}
		assert.Len(t, nodes, 4)
	})
}
