package nomad

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"testing"

	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/driver"
	"github.com/nomad-tune/tune/jobs"
	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/test/nomadsim"
	"github.com/nomad-tune/tune/trialenv"
)

// gpuNodes are three nodes of 8 GPUs, alike, so that only what runs on
// them makes Nomad prefer one.
var gpuNodes = nomadsim.NodeSpec{Count: 3, Name: "gpu", Datacenter: "dc1", Cores: 16, MHz: 2400, MemoryMiB: 65536,
	GPUs: 8, GPUModel: "H100", GPUMemoryMiB: 81559}

// pinnedTrial is one trial of a group of count allocations with gpus GPUs
// each, placed as placement says.
func pinnedTrial(placement, onUnfit string, count, gpus int) string {
	return fmt.Sprintf(`experiment "pin" {
  placement = %q
  on_unfit  = %q
  group "rank" {
    count = %d
    resources {
      cpu    = 1
      memory = 1024
      gpu    = %d
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
}`, placement, onUnfit, count, gpus)
}

// nodeIDs are the simulated nodes' IDs in name order.
func (h *simHarness) nodeIDs() []string {
	nodes := h.sim.Nodes()
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	ids := make([]string, len(nodes))
	for i, n := range nodes {
		ids[i] = n.ID
	}
	return ids
}

// startOn starts attempt 0 of trial 0 with an assignment that places its
// group's allocations on the given nodes, in rank order.
func (h *simHarness) startOn(nodes ...string) {
	h.t.Helper()
	h.startAttemptOn(0, nodes...)
}

// startAttemptOn is startOn for another attempt.
func (h *simHarness) startAttemptOn(attempt int, nodes ...string) {
	h.t.Helper()
	a := &planner.Assignment{}
	for i, n := range nodes {
		a.Allocs = append(a.Allocs, planner.AllocAssignment{Group: "rank", Index: i, NodeID: n})
	}
	err := h.d.Start(context.Background(), driver.StartRequest{Experiment: h.exp, Trial: h.trials[0], Attempt: attempt, Assignment: a})
	require.NoError(h.t, err)
}

// holdGPUs runs a job of someone else's on one node, holding gpus of its
// GPUs for a minute.
func (h *simHarness) holdGPUs(id, nodeID string, gpus uint64) {
	h.t.Helper()
	job := otherJob(id, gpus)
	job.NodePool = nil
	job.TaskGroups[0].Constraints = []*api.Constraint{{LTarget: "${node.unique.id}", Operand: "=", RTarget: nodeID}}
	_, _, err := h.client.Jobs().Register(job, nil)
	require.NoError(h.t, err)
	require.NoError(h.t, h.sim.WaitIdle(context.Background()))
	stubs, _, err := h.client.Jobs().Allocations(id, true, nil)
	require.NoError(h.t, err)
	require.Len(h.t, stubs, 1, "the other job runs")
	require.Equal(h.t, nodeID, stubs[0].NodeID)
}

// placedOn are the nodes of trial 0's allocations that are not terminal,
// sorted.
func (h *simHarness) placedOn() []string {
	h.t.Helper()
	var out []string
	for _, a := range h.allocs(0) {
		if !terminal(a.ClientStatus) {
			out = append(out, a.NodeID)
		}
	}
	sort.Strings(out)
	return out
}

// pins are the node pins of each task group of trial 0's registered job.
func (h *simHarness) pins() []*api.Constraint {
	h.t.Helper()
	job, _, err := h.client.Jobs().Info(h.jobID(0), nil)
	require.NoError(h.t, err)
	var out []*api.Constraint
	for _, tg := range job.TaskGroups {
		for _, c := range tg.Constraints {
			if c.LTarget == jobs.NodeIDTarget {
				out = append(out, c)
			}
		}
	}
	return out
}

func TestAPinnedTrialLandsOnTheNodesOfItsAssignment(t *testing.T) {
	cases := []struct {
		name      string
		placement string
		count     int
		gpus      int
		// on are the assigned nodes by index into the nodes in name
		// order, want the nodes the allocations must land on; node 0
		// holds 4 GPUs of another job, where Nomad's bin-packing would
		// rather put the trial.
		on     []int
		want   []int
		wantOp string
	}{
		{name: "a one-allocation trial on an empty node", placement: "pack", count: 1, gpus: 4, on: []int{2}, want: []int{2}, wantOp: "="},
		{name: "a packed gang on one empty node", placement: "pack", count: 2, gpus: 4, on: []int{2, 2}, want: []int{2, 2}, wantOp: "="},
		{name: "a strict_spread gang on two chosen nodes", placement: "strict_spread", count: 2, gpus: 4, on: []int{2, 1}, want: []int{1, 2}, wantOp: "set_contains_any"},
		{name: "a strict_spread gang over every node, one each", placement: "strict_spread", count: 3, gpus: 2, on: []int{1, 0, 2}, want: []int{0, 1, 2}, wantOp: "set_contains_any"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := setupSim(t, pinnedTrial(tc.placement, "wait", tc.count, tc.gpus), harnessOptions{sim: nomadsim.Options{Nodes: []nomadsim.NodeSpec{gpuNodes}}})
			ids := h.nodeIDs()
			h.holdGPUs("other", ids[0], 4)
			var on, want []string
			for _, i := range tc.on {
				on = append(on, ids[i])
			}
			for _, i := range tc.want {
				want = append(want, ids[i])
			}
			sort.Strings(want)

			h.startOn(on...)
			h.waitRunning(0, 0)

			assert.Equal(t, want, h.placedOn())
			pins := h.pins()
			require.Len(t, pins, 1, "the job's group is pinned")
			assert.Equal(t, tc.wantOp, pins[0].Operand)
		})
	}
}

func TestAPinnedTrialNomadCannotPlaceThereIsPlacedWithoutThePin(t *testing.T) {
	cases := []struct {
		name string
		// away makes node 0, where the trial is assigned, unable to take
		// it.
		away func(h *simHarness, node string)
	}{
		{name: "the node left the cluster", away: func(h *simHarness, node string) {
			require.NoError(h.t, h.sim.LoseNode(node))
		}},
		{name: "something outside the experiment took the node's room", away: func(h *simHarness, node string) {
			h.holdGPUs("other", node, 8)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := setupSim(t, pinnedTrial("pack", "wait", 2, 4), harnessOptions{sim: nomadsim.Options{Nodes: []nomadsim.NodeSpec{gpuNodes}}})
			ids := h.nodeIDs()
			tc.away(h, ids[0])

			h.startOn(ids[0], ids[0])
			h.waitRunning(0, 0)

			placed := h.placedOn()
			require.Len(t, placed, 2)
			assert.NotContains(t, placed, ids[0])
			assert.Empty(t, h.pins(), "the job is registered without its pin")
		})
	}
}

func TestAPinnedTrialNoNodeCanHoldIsStillNeverPlaced(t *testing.T) {
	// 9 GPUs an allocation, on nodes of 8.
	h := setupSim(t, pinnedTrial("pack", "wait", 2, 9), harnessOptions{sim: nomadsim.Options{Nodes: []nomadsim.NodeSpec{gpuNodes}}})
	ids := h.nodeIDs()

	h.startOn(ids[0], ids[1])
	exit, evs := h.waitExited(0, 0)

	assert.Equal(t, []driver.EventKind{driver.EventExited}, kinds(evs))
	assert.True(t, exit.Failed)
	assert.True(t, exit.NeverRuns)
	assert.Equal(t, "no node of the cluster can ever hold it: no node has 9 nvidia/gpu: missing devices filtered all 3 nodes (2 allocations not placed)", exit.Message,
		"the reason is the cluster's, not the pin's")
	_, _, err := h.client.Jobs().Info(h.jobID(0), nil)
	assert.True(t, notFound(err), "nothing was registered: %v", err)
}

func TestAPinnedTrialThatFitsNowhereNowIsHandledAsWithoutAPin(t *testing.T) {
	cases := []struct {
		onUnfit    string
		registered bool
	}{
		// Unplaced, and queued again in tune.
		{onUnfit: "wait", registered: false},
		// Registered to wait in Nomad's queue, without the pin: the
		// pinned node may never free up.
		{onUnfit: "queue", registered: true},
	}
	for _, tc := range cases {
		t.Run("on_unfit = "+tc.onUnfit, func(t *testing.T) {
			h := setupSim(t, pinnedTrial("pack", tc.onUnfit, 1, 8), harnessOptions{sim: nomadsim.Options{Nodes: []nomadsim.NodeSpec{gpuNodes}}})
			ids := h.nodeIDs()
			for i, id := range ids {
				h.holdGPUs(fmt.Sprintf("other-%d", i), id, 4)
			}

			h.startOn(ids[0])

			if !tc.registered {
				exit, _ := h.waitExited(0, 0)
				assert.True(t, exit.Unplaced)
				assert.False(t, exit.Failed)
				assert.Equal(t, "no node has 8 free nvidia/gpu: devices exhausted on 3 nodes", exit.Message)
				_, _, err := h.client.Jobs().Info(h.jobID(0), nil)
				assert.True(t, notFound(err), "nothing was registered: %v", err)
				return
			}
			h.waitSubmitted(0, 0)
			require.NoError(t, h.sim.WaitIdle(context.Background()))
			assert.Empty(t, h.pins(), "the queued job is registered without its pin")
			// The first node to free up takes it.
			_, _, err := h.client.Jobs().Deregister("other-2", true, nil)
			require.NoError(t, err)
			h.waitRunning(0, 0)
			assert.Equal(t, []string{ids[2]}, h.placedOn())
		})
	}
}

func TestAPinnedAttemptIsItsTrialsToAdopt(t *testing.T) {
	h := setupSim(t, pinnedTrial("pack", "wait", 2, 4), harnessOptions{sim: nomadsim.Options{Nodes: []nomadsim.NodeSpec{gpuNodes}}})
	ids := h.nodeIDs()
	h.startOn(ids[1], ids[1])
	h.waitRunning(0, 0)
	require.Len(t, h.pins(), 1)

	s := h.successor()
	existing, err := s.d.Existing(context.Background(), h.exp, h.trials)
	require.NoError(t, err)

	require.Len(t, existing, 1)
	assert.False(t, existing[0].Changed, "the pin is where the attempt runs, not what it runs")
	assert.True(t, existing[0].Running)
	job, _, err := h.client.Jobs().Info(h.jobID(0), nil)
	require.NoError(t, err)
	spec, err := s.d.Spec(h.exp, h.trials[0])
	require.NoError(t, err)
	assert.Equal(t, spec, job.Meta[trialenv.MetaSpec])
	s.adopt(0, 0)
	s.waitRunning(0, 0)
	assert.Equal(t, []string{ids[1], ids[1]}, h.placedOn())
}

func TestANodeThatRefusedAPinnedJobHasTheNextOnePlannedFirst(t *testing.T) {
	f := newFront(nil)
	h := setupSim(t, pinnedTrial("pack", "wait", 1, 8), harnessOptions{front: f, sim: nomadsim.Options{Nodes: []nomadsim.NodeSpec{gpuNodes}}})
	ids := h.nodeIDs()
	plans := func() int { return f.count(http.MethodPut, "/v1/job/"+h.jobID(0)+"/plan") }
	// Attempt 0 is planned, which makes the trial's kind known to be
	// placeable; attempt 1, registered without a dry run on a node half
	// taken by someone else, is rolled back.
	h.startOn(ids[0])
	h.waitRunning(0, 0)
	require.NoError(t, h.d.Stop(context.Background(), h.trials[0].ID, 0, "next"))
	h.waitExited(0, 0)
	h.holdGPUs("other", ids[1], 4)
	h.startAttemptOn(1, ids[1])
	exit, _ := h.waitExited(0, 1)
	require.True(t, exit.Unplaced)
	require.Equal(t, 1, plans())

	// The snapshot still says the node has room: the next attempt pinned
	// there is planned, pinned and free, and placed elsewhere.
	h.startAttemptOn(2, ids[1])
	h.waitRunning(0, 2)

	assert.Equal(t, 3, plans(), "the pinned job and the free one were planned")
	placed := h.placedOn()
	require.Len(t, placed, 1)
	assert.NotEqual(t, ids[1], placed[0])
	assert.Empty(t, h.pins())

	// Once a pinned dry run on the node passes, jobs pinned there are
	// registered without one again.
	require.NoError(t, h.d.Stop(context.Background(), h.trials[0].ID, 2, "next"))
	h.waitExited(0, 2)
	_, _, err := h.client.Jobs().Deregister("other", true, nil)
	require.NoError(t, err)
	require.NoError(t, h.sim.WaitIdle(context.Background()))
	for attempt := 3; attempt <= 4; attempt++ {
		h.startAttemptOn(attempt, ids[1])
		h.waitRunning(0, attempt)
		assert.Equal(t, []string{ids[1]}, h.placedOn())
		require.NoError(t, h.d.Stop(context.Background(), h.trials[0].ID, attempt, "next"))
		h.waitExited(0, attempt)
	}
	assert.Equal(t, 4, plans(), "attempt 3 was planned, attempt 4 was not")
}
