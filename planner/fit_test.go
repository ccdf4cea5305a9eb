package planner

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/experiment"
)

// nodesOf lists where each allocation went, in shape order.
func nodesOf(a *Assignment) []string {
	var out []string
	for _, al := range a.Allocs {
		out = append(out, al.NodeID)
	}
	return out
}

// orPack is the experiment's default placement where a case sets none.
func orPack(p experiment.Placement) experiment.Placement {
	if p == "" {
		return experiment.PlacementPack
	}
	return p
}

func withUsed(n *Node, cpus int, memMiB int64) *Node {
	n.Used = Usage{CPUShares: int64(cpus) * 1000, MemoryMiB: memMiB}
	return n
}

func withConstraints(s *experiment.Shape, cs ...experiment.Constraint) *experiment.Shape {
	for i := range s.Groups {
		s.Groups[i].Constraints = append(s.Groups[i].Constraints, cs...)
	}
	return s
}

func TestFitPlaces(t *testing.T) {
	racks := cluster(4, 8, 16384, 0)
	for i, rack := range []string{"a", "a", "b", "b"} {
		racks.Nodes[i].Meta["rack"] = rack
	}
	gpuModels := testCapacity(testNode("small", 8, 16384, 0), testNode("large", 8, 16384, 0))
	gpuModels.Nodes[0].Devices = []*DeviceGroup{gpuGroup("small", "T4", "15360 MiB", 4)}
	gpuModels.Nodes[1].Devices = []*DeviceGroup{gpuGroup("large", "A100", "81559 MiB", 4)}
	bigGPU := []experiment.Constraint{{Attribute: "${device.attr.memory}", Operator: ">=", Value: "40 GiB"}}
	unhealthy := cluster(1, 8, 16384, 2)
	unhealthy.Nodes[0].Devices[0].Instances[0].Healthy = false

	tests := []struct {
		name      string
		c         *Capacity
		shape     *experiment.Shape
		placement experiment.Placement
		want      []string
	}{
		{
			name:  "a trial goes to the node it leaves fullest",
			c:     testCapacity(testNode("idle", 8, 16384, 0), withUsed(testNode("busy", 8, 16384, 0), 6, 8192)),
			shape: single(2, 1024, 0),
			want:  []string{"busy"},
		},
		{
			name:  "pack keeps a gang's allocations together",
			c:     cluster(3, 4, 8192, 0),
			shape: shape(group("worker", 3, task(1, 512, 0))),
			want:  []string{"node-0", "node-0", "node-0"},
		},
		{
			name:      "spread puts allocations on different nodes when it can",
			c:         cluster(3, 4, 8192, 0),
			shape:     shape(group("worker", 3, task(1, 512, 0))),
			placement: experiment.PlacementSpread,
			want:      []string{"node-0", "node-1", "node-2"},
		},
		{
			name:      "spread doubles up once every node has one",
			c:         cluster(2, 4, 8192, 0),
			shape:     shape(group("worker", 3, task(1, 512, 0))),
			placement: experiment.PlacementSpread,
			want:      []string{"node-0", "node-1", "node-0"},
		},
		{
			name:      "strict_pack puts every allocation on the one node that holds them all",
			c:         testCapacity(testNode("small", 4, 8192, 0), testNode("large", 16, 32768, 0)),
			shape:     shape(group("ps", 1, task(2, 1024, 0)), group("worker", 2, task(3, 1024, 0))),
			placement: experiment.PlacementStrictPack,
			want:      []string{"large", "large", "large"},
		},
		{
			name:      "strict_spread puts every allocation on its own node",
			c:         cluster(3, 8, 16384, 0),
			shape:     shape(group("worker", 3, task(1, 512, 0))),
			placement: experiment.PlacementStrictSpread,
			want:      []string{"node-0", "node-1", "node-2"},
		},
		{
			name: "distinct_hosts keeps allocations apart even when packing",
			c:    cluster(2, 8, 16384, 0),
			shape: withConstraints(shape(group("worker", 2, task(1, 512, 0))),
				experiment.Constraint{Operator: "distinct_hosts", Value: "true"}),
			want: []string{"node-0", "node-1"},
		},
		{
			name: "distinct_property puts one allocation per rack",
			c:    racks,
			shape: withConstraints(shape(group("worker", 2, task(1, 512, 0))),
				experiment.Constraint{Attribute: "${meta.rack}", Operator: "distinct_property"}),
			want: []string{"node-0", "node-2"},
		},
		{
			name:  "larger groups are placed first so small ones do not fragment the nodes",
			c:     testCapacity(testNode("a", 4, 8192, 0), testNode("b", 2, 8192, 0)),
			shape: shape(group("small", 1, task(2, 512, 0)), group("big", 1, task(4, 512, 0))),
			want:  []string{"b", "a"},
		},
		{
			name:  "whole cores come from the node's cores",
			c:     testCapacity(withUsed(testNode("a", 4, 8192, 0), 0, 0), testNode("b", 8, 8192, 0)),
			shape: shape(group("trial", 1, experiment.TaskResources{Task: "train", Cores: 6, MemoryMiB: 512})),
			want:  []string{"b"},
		},
		{
			name: "a device constraint picks the devices that meet it",
			c:    gpuModels,
			shape: shape(group("trial", 1, experiment.TaskResources{Task: "train", CPU: 1, MemoryMiB: 512,
				Devices: []experiment.DeviceRequest{{Name: "nvidia/gpu", Count: 2, Constraints: bigGPU}}})),
			want: []string{"large"},
		},
		{
			name:  "unhealthy GPUs are passed over",
			c:     unhealthy,
			shape: single(1, 512, 1),
			want:  []string{"node-0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			placement := orPack(tt.placement)
			a, u := tt.c.Fit(tt.shape, placement)
			require.Nil(t, u, "unfit: %s", u.Reason())
			assert.Equal(t, tt.want, nodesOf(a))
		})
	}
}

func TestFitUnfit(t *testing.T) {
	twelve := cluster(12, 8, 16384, 0)
	twoGPUKinds := cluster(2, 8, 16384, 4)
	tests := []struct {
		name      string
		c         *Capacity
		shape     *experiment.Shape
		placement experiment.Placement
		reason    string
		group     string
		filtered  map[string]int
		exhausted map[string]int
		dimension string
	}{
		{
			name:      "a trial asking for more GPUs than any node has",
			c:         cluster(3, 32, 65536, 4),
			shape:     single(1, 1024, 8),
			reason:    "no node has 8 free nvidia/gpu (largest: 4)",
			group:     "trial",
			exhausted: map[string]int{"devices: nvidia/gpu": 3},
			dimension: "devices: nvidia/gpu",
		},
		{
			name:      "a trial asking for more CPU than any node has",
			c:         cluster(2, 32, 262144, 0),
			shape:     single(64, 1024, 0),
			reason:    "no node has 64 free CPUs (largest: 32)",
			group:     "trial",
			exhausted: map[string]int{"cpu": 2},
			dimension: "cpu",
		},
		{
			name:      "a trial asking for more memory than any node has",
			c:         cluster(2, 8, 4096, 0),
			shape:     single(1, 8192, 0),
			reason:    "no node has 8192 MiB free memory (largest: 4096 MiB)",
			group:     "trial",
			exhausted: map[string]int{"memory": 2},
			dimension: "memory",
		},
		{
			name:      "a trial asking for more whole cores than any node has",
			c:         cluster(2, 8, 4096, 0),
			shape:     shape(group("trial", 1, experiment.TaskResources{Task: "t", Cores: 12, MemoryMiB: 100})),
			reason:    "no node has 12 free cores (largest: 8)",
			group:     "trial",
			exhausted: map[string]int{"cores": 2},
			dimension: "cores",
		},
		{
			name:      "a GPU trial on nodes without GPUs",
			c:         cluster(2, 8, 4096, 0),
			shape:     single(1, 100, 1),
			reason:    "no eligible node has a healthy nvidia/gpu",
			group:     "trial",
			exhausted: map[string]int{"devices: nvidia/gpu": 2},
			dimension: "devices: nvidia/gpu",
		},
		{
			name:      "a gang that fits in total but not per node",
			c:         cluster(3, 4, 8192, 0),
			shape:     shape(group("worker", 2, task(5, 512, 0))),
			reason:    "no node has 5 free CPUs (largest: 4)",
			group:     "worker",
			exhausted: map[string]int{"cpu": 3},
			dimension: "cpu",
		},
		{
			name:      "a constraint that filters every node is named",
			c:         twelve,
			shape:     withConstraints(single(1, 512, 0), experiment.Constraint{Attribute: "${attr.cpu.arch}", Operator: "=", Value: "arm64"}),
			reason:    "constraint ${attr.cpu.arch} = arm64 filtered all 12 nodes",
			group:     "trial",
			filtered:  map[string]int{"${attr.cpu.arch} = arm64": 12},
			exhausted: map[string]int{},
		},
		{
			name: "constraints that filter every node between them are all named",
			c:    cluster(3, 8, 16384, 0),
			shape: withConstraints(single(1, 512, 0),
				experiment.Constraint{Attribute: "${node.unique.id}", Operator: "!=", Value: "node-0"},
				experiment.Constraint{Attribute: "${node.unique.id}", Operator: "=", Value: "node-0"}),
			reason:    "constraints filtered all 3 nodes: ${node.unique.id} = node-0 (2), ${node.unique.id} != node-0 (1)",
			group:     "trial",
			filtered:  map[string]int{"${node.unique.id} != node-0": 1, "${node.unique.id} = node-0": 2},
			exhausted: map[string]int{},
		},
		{
			name:      "strict_spread with fewer nodes than allocations",
			c:         cluster(2, 8, 16384, 0),
			shape:     shape(group("worker", 3, task(1, 512, 0))),
			placement: experiment.PlacementStrictSpread,
			reason:    "needs 3 nodes for strict_spread but only 2 are eligible",
			group:     "worker",
			filtered:  map[string]int{},
			exhausted: map[string]int{},
		},
		{
			name: "strict_spread when a larger group took the only node a smaller one may use",
			c:    cluster(2, 8, 16384, 0),
			shape: shape(
				withConstraints(shape(group("a", 1, task(1, 512, 0))), experiment.Constraint{Attribute: "${node.unique.id}", Value: "node-0"}).Groups[0],
				group("b", 1, task(2, 512, 0))),
			placement: experiment.PlacementStrictSpread,
			reason:    `no node is left for group "a" under strict_spread after placing 1 of 2 allocations`,
			group:     "a",
			filtered:  map[string]int{"${node.unique.id} = node-0": 1, "strict_spread": 1},
			exhausted: map[string]int{},
		},
		{
			name:      "strict_pack with more GPUs than one node has",
			c:         cluster(4, 64, 262144, 8),
			shape:     shape(group("worker", 3, task(1, 512, 3))),
			placement: experiment.PlacementStrictPack,
			reason:    "strict_pack needs 9 GPUs on one node (largest: 8)",
			group:     "worker",
			filtered:  map[string]int{},
			exhausted: map[string]int{"devices: nvidia/gpu": 4},
			dimension: "devices: nvidia/gpu",
		},
		{
			name:      "strict_pack with more CPU than one node has",
			c:         cluster(2, 8, 65536, 0),
			shape:     shape(group("ps", 1, task(2, 512, 0)), group("worker", 2, task(4, 512, 0))),
			placement: experiment.PlacementStrictPack,
			reason:    "strict_pack needs 10 CPUs on one node (largest: 8)",
			group:     "ps",
			filtered:  map[string]int{},
			exhausted: map[string]int{"cpu": 2},
			dimension: "cpu",
		},
		{
			name: "a device constraint no device meets",
			c:    twoGPUKinds,
			shape: shape(group("trial", 1, experiment.TaskResources{Task: "train", CPU: 1, MemoryMiB: 512,
				Devices: []experiment.DeviceRequest{{Name: "nvidia/gpu", Count: 1, Constraints: []experiment.Constraint{
					{Attribute: "${device.attr.memory}", Operator: ">=", Value: "100 GiB"}}}}})),
			reason:    "no eligible node has a healthy nvidia/gpu with ${device.attr.memory} >= 100 GiB",
			group:     "trial",
			exhausted: map[string]int{"devices: nvidia/gpu": 2},
			dimension: "devices: nvidia/gpu",
		},
		{
			name:   "a fractional GPU where devices are whole",
			c:      cluster(1, 8, 16384, 1),
			shape:  single(1, 512, 0.5),
			reason: "fractional GPUs (gpu = 0.5) cannot be placed: Nomad devices are whole",
			group:  "trial",
		},
		{
			name:   "a target without nodes",
			c:      testCapacity(),
			shape:  single(1, 512, 0),
			reason: "the target has no nodes",
			group:  "trial",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			placement := orPack(tt.placement)
			before := tt.c.Clone()
			a, u := tt.c.Fit(tt.shape, placement)
			require.Nil(t, a)
			require.NotNil(t, u)
			assert.Equal(t, tt.reason, u.Reason())
			assert.Equal(t, tt.group, u.Group)
			assert.Equal(t, len(tt.c.Nodes), u.NodesEvaluated)
			assert.Equal(t, tt.dimension, u.Dimension)
			if tt.filtered != nil {
				assert.Equal(t, tt.filtered, u.ConstraintFiltered)
				total := 0
				for _, n := range tt.filtered {
					total += n
				}
				assert.Equal(t, total, u.NodesFiltered)
			}
			if tt.exhausted != nil {
				assert.Equal(t, tt.exhausted, u.DimensionExhausted)
				total := 0
				for _, n := range tt.exhausted {
					total += n
				}
				assert.Equal(t, total, u.NodesExhausted)
			}
			assert.Equal(t, before, tt.c, "a failed fit changes nothing")
			assert.NotNil(t, tt.c.FitsEmpty(tt.shape, placement), "a trial that does not fit an idle target never fits")
		})
	}
}

func TestTwoGangsThatFitInTotalButNotPerNode(t *testing.T) {
	c := cluster(3, 4, 8192, 0)
	gang := shape(group("worker", 2, task(3, 512, 0)))

	first, u := c.Fit(gang, experiment.PlacementPack)
	require.Nil(t, u)
	c.Commit(first)
	assert.Equal(t, 6.0, c.Totals().FreeCPUCores, "6 cores are left, enough for the gang's 6 in total")

	before := c.Clone()
	second, u := c.Fit(gang, experiment.PlacementPack)
	require.Nil(t, second)
	require.NotNil(t, u)
	assert.Equal(t, "no node has 3 free CPUs (largest: 1) after placing 1 of 2 allocations", u.Reason())
	assert.Equal(t, map[string]int{"cpu": 3}, u.DimensionExhausted)
	assert.Equal(t, before, c, "the first allocation the second gang found room for is not held")
	assert.Nil(t, c.FitsEmpty(gang, experiment.PlacementPack), "on an idle cluster the gang fits")
}

func TestFractionalGPUs(t *testing.T) {
	t.Run("four trials of a quarter GPU share one GPU locally", func(t *testing.T) {
		c := cluster(1, 8, 16384, 1)
		c.FractionalGPUs = true
		quarter := single(1, 512, 0.25)
		for i := 0; i < 4; i++ {
			a, u := c.Fit(quarter, experiment.PlacementPack)
			require.Nil(t, u, "trial %d: %s", i, u.Reason())
			require.Len(t, a.Allocs, 1)
			assert.Equal(t, []DeviceGrant{{Task: "train", Device: "nvidia/gpu/A100", InstanceID: "node-0-A100-0", Share: 250, GPU: true}},
				stripHints(a.Allocs[0].Devices))
			assert.Equal(t, []string{"node-0-A100-0"}, a.Allocs[0].GPUIDs("train"))
			c.Commit(a)
		}
		assert.Equal(t, 1000, c.Nodes[0].Devices[0].Instances[0].Share)
		_, u := c.Fit(quarter, experiment.PlacementPack)
		require.NotNil(t, u)
		assert.Equal(t, "no node has a nvidia/gpu with 0.25 free (largest: 0)", u.Reason())
		assert.Nil(t, c.FitsEmpty(quarter, experiment.PlacementPack))
	})
	t.Run("fractional requests fill the fullest GPU that still fits", func(t *testing.T) {
		c := cluster(1, 8, 16384, 2)
		c.FractionalGPUs = true
		var got []string
		for _, gpu := range []float64{0.5, 0.25, 0.5, 0.25} {
			a, u := c.Fit(single(1, 512, gpu), experiment.PlacementPack)
			require.Nil(t, u)
			got = append(got, a.Allocs[0].GPUIDs("train")...)
			c.Commit(a)
		}
		assert.Equal(t, []string{"node-0-A100-0", "node-0-A100-0", "node-0-A100-1", "node-0-A100-0"}, got)
	})
	t.Run("a fraction is refused where GPUs are whole", func(t *testing.T) {
		c := cluster(1, 8, 16384, 1)
		_, u := c.Fit(single(1, 512, 0.25), experiment.PlacementPack)
		require.NotNil(t, u)
		assert.Equal(t, "fractional GPUs (gpu = 0.25) cannot be placed: Nomad devices are whole", u.Reason())
		assert.NotNil(t, c.FitsEmpty(single(1, 512, 0.25), experiment.PlacementPack))
	})
	t.Run("a whole GPU does not go to a GPU that is partly shared", func(t *testing.T) {
		c := cluster(1, 8, 16384, 1)
		c.FractionalGPUs = true
		c.Nodes[0].Devices[0].Instances[0].Share = 250
		_, u := c.Fit(single(1, 512, 1), experiment.PlacementPack)
		require.NotNil(t, u)
		assert.Equal(t, "no node has 1 free nvidia/gpu (largest: 0)", u.Reason())
	})
}

func stripHints(grants []DeviceGrant) []DeviceGrant {
	out := make([]DeviceGrant, len(grants))
	for i, g := range grants {
		g.group, g.inst = 0, 0
		out[i] = g
	}
	return out
}

func TestGPUGrants(t *testing.T) {
	c := cluster(2, 32, 65536, 4)
	c.Nodes[0].Used = Usage{CPUShares: 1000, MemoryMiB: 1024}
	c.Nodes[0].Devices[0].Instances[0].Share = 1000
	s := shape(group("worker", 2,
		experiment.TaskResources{Task: "train", CPU: 2, MemoryMiB: 1024, GPU: 2},
		experiment.TaskResources{Task: "sidecar", CPU: 0.5, MemoryMiB: 128}))
	a, u := c.Fit(s, experiment.PlacementPack)
	require.Nil(t, u)
	require.Len(t, a.Allocs, 2)
	assert.Equal(t, "worker", a.Allocs[0].Group)
	assert.Equal(t, 0, a.Allocs[0].Index)
	assert.Equal(t, 1, a.Allocs[1].Index)
	assert.Equal(t, "node-0", a.Allocs[0].NodeID, "the busier node is filled first")
	assert.Equal(t, []string{"node-0-A100-1", "node-0-A100-2"}, a.Allocs[0].GPUIDs("train"))
	assert.Equal(t, "node-1", a.Allocs[1].NodeID, "node-0 has one GPU left, not two")
	assert.Equal(t, []string{"node-1-A100-0", "node-1-A100-1"}, a.Allocs[1].GPUIDs("train"))
	assert.Empty(t, a.Allocs[0].GPUIDs("sidecar"), "a task without GPUs gets none")
	assert.Equal(t, int64(2500), a.Allocs[0].CPUShares)
	assert.Equal(t, int64(1152), a.Allocs[0].MemoryMiB)
}

func TestCommitThenReleaseReturnsCapacityExactly(t *testing.T) {
	tests := []struct {
		name      string
		c         *Capacity
		shape     *experiment.Shape
		placement experiment.Placement
	}{
		{"a CPU trial", cluster(2, 4, 8192, 0), single(0.5, 300, 0), experiment.PlacementPack},
		{"a gang with GPUs and whole cores", cluster(3, 16, 65536, 8), shape(
			group("worker", 3, experiment.TaskResources{Task: "train", Cores: 4, MemoryMiB: 4096, GPU: 2}),
			group("ps", 1, task(1.5, 1024, 0))), experiment.PlacementSpread},
		{"a shared GPU", func() *Capacity {
			c := cluster(1, 4, 8192, 1)
			c.FractionalGPUs = true
			c.Nodes[0].Devices[0].Instances[0].Share = 500
			return c
		}(), single(1, 300, 0.3), experiment.PlacementPack},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.c.Clone()
			a, u := tt.c.Fit(tt.shape, tt.placement)
			require.Nil(t, u)
			assert.Equal(t, before, tt.c, "fitting alone reserves nothing")
			tt.c.Commit(a)
			assert.NotEqual(t, before, tt.c, "committing reserves")
			assert.Less(t, tt.c.Totals().FreeCPUCores, before.Totals().FreeCPUCores)
			tt.c.Release(a)
			assert.Equal(t, before, tt.c, "releasing gives back exactly what was reserved")
		})
	}
}

func TestAssignmentsMoveBetweenClones(t *testing.T) {
	c := cluster(2, 8, 16384, 2)
	a, u := c.Fit(single(2, 1024, 1), experiment.PlacementPack)
	require.Nil(t, u)
	clone := c.Clone()
	clone.Commit(a)
	assert.Equal(t, 0, c.Nodes[0].Devices[0].Instances[0].Share, "the original is untouched")
	assert.Equal(t, 1000, clone.Nodes[0].Devices[0].Instances[0].Share)

	t.Run("a node that has left is skipped", func(t *testing.T) {
		fresh := cluster(1, 8, 16384, 2)
		fresh.Nodes[0].ID = "other"
		before := fresh.Clone()
		fresh.Commit(a)
		fresh.Release(a)
		assert.Equal(t, before, fresh)
	})
	t.Run("releasing what a newer snapshot no longer counts stays at zero", func(t *testing.T) {
		fresh := cluster(2, 8, 16384, 2)
		fresh.Release(a)
		assert.Equal(t, cluster(2, 8, 16384, 2), fresh)
	})
}

func TestFitsEmptyIgnoresWhatIsRunning(t *testing.T) {
	c := cluster(2, 8, 16384, 4)
	for _, n := range c.Nodes {
		n.Used = Usage{CPUShares: 8000, Cores: 8, MemoryMiB: 16384}
		for _, inst := range n.Devices[0].Instances {
			inst.Share = 1000
		}
	}
	s := single(4, 4096, 4)
	_, u := c.Fit(s, experiment.PlacementPack)
	require.NotNil(t, u, "a full cluster has no room now")
	assert.Nil(t, c.FitsEmpty(s, experiment.PlacementPack), "but the trial runs once the cluster drains")
	u = c.FitsEmpty(single(4, 4096, 5), experiment.PlacementPack)
	require.NotNil(t, u)
	assert.Equal(t, "no node has 5 free nvidia/gpu (largest: 4)", u.Reason())
}

func TestFitOfManyNodes(t *testing.T) {
	c := cluster(200, 8, 16384, 0)
	for i, n := range c.Nodes {
		n.Attributes["cpu.arch"] = []string{"amd64", "arm64"}[i%2]
	}
	s := withConstraints(shape(group("worker", 50, task(8, 1024, 0))),
		experiment.Constraint{Attribute: "${attr.cpu.arch}", Value: "arm64"})
	a, u := c.Fit(s, experiment.PlacementPack)
	require.Nil(t, u)
	seen := map[string]bool{}
	for _, al := range a.Allocs {
		assert.False(t, seen[al.NodeID], "a node full after one allocation is not used twice")
		seen[al.NodeID] = true
		var idx int
		_, err := fmt.Sscanf(al.NodeID, "node-%d", &idx)
		require.NoError(t, err)
		assert.Equal(t, 1, idx%2, "only arm64 nodes")
	}
}

func TestAShapeTheTargetRefusedNeverFits(t *testing.T) {
	c := cluster(2, 4, 8192, 0)
	small, huge := single(1, 512, 0), single(64, 512, 0)
	c.Refuse(small, "Nomad's scheduler: missing drivers filtered all 2 nodes")
	c.Refuse(huge, "Nomad's scheduler: resources exhausted")

	u := c.FitsEmpty(small, experiment.PlacementPack)
	require.NotNil(t, u, "what fits the model but the target refused never runs")
	assert.True(t, u.Refused)
	assert.Equal(t, "Nomad's scheduler: missing drivers filtered all 2 nodes", u.Reason())
	a, u := c.Fit(small, experiment.PlacementPack)
	assert.Nil(t, a)
	assert.True(t, u.Refused)

	u = c.FitsEmpty(huge, experiment.PlacementPack)
	require.NotNil(t, u)
	assert.True(t, u.Refused, "the target's refusal makes the model's never final")
	assert.Equal(t, "no node has 64 free CPUs (largest: 4)", u.Reason(), "the model's own account comes first")

	assert.Nil(t, c.FitsEmpty(single(2, 512, 0), experiment.PlacementPack), "other shapes are untouched")
	assert.Equal(t, c.Refused, c.Clone().Refused, "a clone keeps the refusals")
}
