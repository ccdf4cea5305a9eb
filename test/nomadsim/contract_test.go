package nomadsim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The contract suite states what the Nomad driver relies on. It runs
// against the simulator, and against a real Nomad when NOMAD_ADDR is set
// (with NOMAD_TOKEN and the rest of the standard client environment), so
// the simulator is held to Nomad's behaviour rather than to itself. On a
// real cluster it uses only mock_driver jobs (a `nomad agent -dev` has
// the driver), expects the cluster to be otherwise idle, and purges every
// job it registers.

type contract struct {
	c    *api.Client
	real bool
}

func contractTarget(t *testing.T) *contract {
	t.Helper()
	if os.Getenv("NOMAD_ADDR") != "" {
		c, err := api.NewClient(api.DefaultConfig())
		require.NoError(t, err)
		return &contract{c: c, real: true}
	}
	_, c := startSim(t, Options{})
	return &contract{c: c}
}

// job is a mock_driver job with an ID no other run uses, purged when the
// test ends.
func (ct *contract) job(t *testing.T, name string, count int, config map[string]any) *api.Job {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	id := "contract-" + name + "-" + hex.EncodeToString(b)
	t.Cleanup(func() { ct.c.Jobs().Deregister(id, true, nil) })
	return mockJob(id, count, config)
}

// memory is the schedulable memory of the cluster's ready nodes, largest
// first.
func (ct *contract) memory(t *testing.T) []int64 {
	t.Helper()
	nodes, _, err := ct.c.Nodes().List(&api.QueryOptions{Params: map[string]string{"resources": "true"}})
	require.NoError(t, err)
	var out []int64
	for _, n := range nodes {
		if n.Status != "ready" || n.SchedulingEligibility != "eligible" || n.NodeResources == nil {
			continue
		}
		mem := n.NodeResources.Memory.MemoryMB
		if n.ReservedResources != nil {
			mem -= int64(n.ReservedResources.Memory.MemoryMB)
		}
		out = append(out, mem)
	}
	require.NotEmpty(t, out, "the cluster has no ready nodes")
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] > out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// nodeIDs are the IDs of the cluster's ready, eligible nodes.
func (ct *contract) nodeIDs(t *testing.T) []string {
	t.Helper()
	nodes, _, err := ct.c.Nodes().List(nil)
	require.NoError(t, err)
	var out []string
	for _, n := range nodes {
		if n.Status == "ready" && n.SchedulingEligibility == "eligible" {
			out = append(out, n.ID)
		}
	}
	require.NotEmpty(t, out, "the cluster has no ready nodes")
	return out
}

func waitFor(t *testing.T, timeout time.Duration, cond func() bool, msg string) {
	t.Helper()
	require.Eventually(t, cond, timeout, 20*time.Millisecond, msg)
}

func TestContract(t *testing.T) {
	t.Run("registering a new job twice with enforce index 0 is refused the second time", func(t *testing.T) {
		ct := contractTarget(t)
		job := ct.job(t, "enforce", 1, map[string]any{"run_for": "1s"})
		resp, _, err := ct.c.Jobs().EnforceRegister(job, 0, nil)
		require.NoError(t, err)
		assert.NotZero(t, resp.JobModifyIndex)
		_, _, err = ct.c.Jobs().EnforceRegister(job, 0, nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), api.RegisterEnforceIndexErrPrefix+" 0: job already exists")
		var ue api.UnexpectedResponseError
		if assert.ErrorAs(t, err, &ue) {
			assert.Equal(t, 500, ue.StatusCode())
		}
	})

	t.Run("a plan of a job no node can hold names the exhausted dimension", func(t *testing.T) {
		ct := contractTarget(t)
		mem := ct.memory(t)
		job := ct.job(t, "plan", 1, map[string]any{"run_for": "1s"})
		job.TaskGroups[0].Tasks[0].Resources.MemoryMB = new(int(mem[0]) + 1)
		plan, _, err := ct.c.Jobs().Plan(job, false, nil)
		require.NoError(t, err)
		m := plan.FailedTGAllocs["main"]
		require.NotNil(t, m)
		assert.Equal(t, len(mem), m.NodesEvaluated)
		assert.Equal(t, len(mem), m.NodesExhausted)
		assert.Equal(t, len(mem), m.DimensionExhausted["memory"])
		assert.Equal(t, uint64(0), plan.JobModifyIndex)
		_, _, err = ct.c.Jobs().Info(*job.ID, nil)
		assert.Error(t, err, "a plan registers nothing")
	})

	t.Run("a job that only partly fits is placed in part and leaves a blocked evaluation", func(t *testing.T) {
		ct := contractTarget(t)
		mem := ct.memory(t)
		ask := mem[0]/2 + 1
		fitting := 0
		for _, m := range mem {
			if m >= ask {
				fitting++
			}
		}
		job := ct.job(t, "partial", fitting+1, map[string]any{"run_for": "1h"})
		job.TaskGroups[0].Tasks[0].Resources.MemoryMB = new(int(ask))
		job.TaskGroups[0].Tasks[0].Resources.CPU = new(100)
		resp, _, err := ct.c.Jobs().Register(job, nil)
		require.NoError(t, err)
		var eval *api.Evaluation
		waitFor(t, 10*time.Second, func() bool {
			eval, _, err = ct.c.Evaluations().Info(resp.EvalID, nil)
			return err == nil && eval.Status == "complete"
		}, "the registration evaluation completes")
		require.Contains(t, eval.FailedTGAllocs, "main")
		require.NotEmpty(t, eval.BlockedEval)
		blocked, _, err := ct.c.Evaluations().Info(eval.BlockedEval, nil)
		require.NoError(t, err)
		assert.Equal(t, "blocked", blocked.Status)
		assert.Equal(t, "queued-allocs", blocked.TriggeredBy)
		allocs, _, err := ct.c.Jobs().Allocations(*job.ID, false, nil)
		require.NoError(t, err)
		assert.Len(t, allocs, fitting, "every allocation that fits is placed")
		assert.Equal(t, 1, eval.QueuedAllocations["main"])
	})

	t.Run("a constraint on the node's unique id admits exactly the nodes it names", func(t *testing.T) {
		// The Nomad driver pins a trial's groups to the nodes tune chose
		// with "=" or set_contains_any on ${node.unique.id}, and reads a
		// pin that filters every node apart from a cluster that cannot
		// hold the job.
		ct := contractTarget(t)
		ids := ct.nodeIDs(t)
		pinned := func(name, op, nodes string) *api.Job {
			job := ct.job(t, name, 1, map[string]any{"run_for": "1s"})
			job.TaskGroups[0].Constraints = []*api.Constraint{{LTarget: "${node.unique.id}", Operand: op, RTarget: nodes}}
			return job
		}

		for _, job := range []*api.Job{pinned("pin-eq", "=", ids[0]), pinned("pin-any", "set_contains_any", "no-such-node,"+ids[0])} {
			plan, _, err := ct.c.Jobs().Plan(job, false, nil)
			require.NoError(t, err)
			assert.Empty(t, plan.FailedTGAllocs, "%s places", *job.ID)
		}

		gone := pinned("pin-gone", "=", "no-such-node")
		plan, _, err := ct.c.Jobs().Plan(gone, false, nil)
		require.NoError(t, err)
		m := plan.FailedTGAllocs["main"]
		require.NotNil(t, m)
		assert.Equal(t, len(ids), m.NodesEvaluated)
		assert.Equal(t, len(ids), m.NodesFiltered)
		assert.Zero(t, m.NodesExhausted)
		assert.Equal(t, map[string]int{"${node.unique.id} = no-such-node": len(ids)}, m.ConstraintFiltered,
			"a unique attribute is checked on every node, not once per node class")

		last := ids[len(ids)-1]
		job := pinned("pin-placed", "set_contains_any", "no-such-node,"+last)
		_, _, err = ct.c.Jobs().Register(job, nil)
		require.NoError(t, err)
		waitFor(t, 10*time.Second, func() bool {
			allocs, _, err := ct.c.Jobs().Allocations(*job.ID, false, nil)
			return err == nil && len(allocs) == 1 && allocs[0].NodeID == last
		}, "the allocation is placed on the node named")
	})

	t.Run("a task's log streams through the api client", func(t *testing.T) {
		ct := contractTarget(t)
		job := ct.job(t, "logs", 1, map[string]any{"run_for": "30s", "stdout_string": "contract log line\n"})
		_, _, err := ct.c.Jobs().Register(job, nil)
		require.NoError(t, err)
		var alloc *api.Allocation
		waitFor(t, 20*time.Second, func() bool {
			allocs, _, err := ct.c.Jobs().Allocations(*job.ID, false, nil)
			if err != nil || len(allocs) == 0 || allocs[0].ClientStatus != "running" {
				return false
			}
			alloc, _, err = ct.c.Allocations().Info(allocs[0].ID, nil)
			return err == nil
		}, "the task runs")
		cancel := make(chan struct{})
		defer close(cancel)
		frames, errs := ct.c.AllocFS().Logs(alloc, true, "work", "stdout", "start", 0, cancel, nil)
		var got strings.Builder
		deadline := time.After(10 * time.Second)
		for !strings.Contains(got.String(), "contract log line\n") {
			select {
			case f := <-frames:
				require.NotNil(t, f, "the stream ended")
				got.Write(f.Data)
				assert.Equal(t, "alloc/logs/work.stdout.0", f.File)
			case err := <-errs:
				t.Fatalf("stream failed: %v", err)
			case <-deadline:
				t.Fatalf("no log line; got %q", got.String())
			}
		}
	})

	t.Run("the event stream delivers allocation updates for one job", func(t *testing.T) {
		ct := contractTarget(t)
		job := ct.job(t, "events", 1, map[string]any{"run_for": "1s"})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ch, err := ct.c.EventStream().Stream(ctx, map[api.Topic][]string{api.TopicAllocation: {*job.ID}}, 0, nil)
		require.NoError(t, err)
		_, _, err = ct.c.Jobs().Register(job, nil)
		require.NoError(t, err)
		seen := map[string]bool{}
		deadline := time.After(20 * time.Second)
		for !seen["complete"] {
			select {
			case evs, ok := <-ch:
				require.True(t, ok, "the stream ended")
				require.NoError(t, evs.Err)
				for _, e := range evs.Events {
					a, err := e.Allocation()
					require.NoError(t, err)
					require.Equal(t, *job.ID, a.JobID)
					assert.Contains(t, e.FilterKeys, *job.ID)
					seen[a.ClientStatus] = true
				}
			case <-deadline:
				t.Fatalf("saw only %v", seen)
			}
		}
		assert.True(t, seen["running"] || seen["pending"], "updates before completion arrive too")
	})
}
