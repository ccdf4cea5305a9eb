package nomad

import (
	"testing"

	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testJob(groups ...*api.TaskGroup) *api.Job {
	return &api.Job{ID: new("tune-exp-00000-abc"), TaskGroups: groups}
}

func testGroup(name string, count, cpu, mem int, devices ...*api.RequestedDevice) *api.TaskGroup {
	return &api.TaskGroup{
		Name:  new(name),
		Count: new(count),
		Tasks: []*api.Task{{Name: "train", Resources: &api.Resources{CPU: new(cpu), MemoryMB: new(mem), Devices: devices}}},
	}
}

func TestPlanMetricsBecomeOneLineReasons(t *testing.T) {
	gpus := &api.RequestedDevice{Name: "nvidia/gpu", Count: new(uint64(8))}
	tests := []struct {
		name   string
		job    *api.Job
		failed map[string]*api.AllocationMetric
		want   string
	}{
		{
			name: "devices exhausted everywhere",
			job:  testJob(testGroup("trial", 1, 1000, 1024, gpus)),
			failed: map[string]*api.AllocationMetric{"trial": {
				NodesEvaluated: 12, NodesExhausted: 12,
				DimensionExhausted: map[string]int{"devices: no devices match request": 12},
			}},
			want: "no node has 8 free nvidia/gpu: devices exhausted on 12 nodes",
		},
		{
			name: "one constraint filters every node",
			job:  testJob(testGroup("trial", 1, 1000, 1024)),
			failed: map[string]*api.AllocationMetric{"trial": {
				NodesEvaluated: 12, NodesFiltered: 12,
				ConstraintFiltered: map[string]int{"${attr.cpu.arch} = arm64": 12},
			}},
			want: "constraint ${attr.cpu.arch} = arm64 filtered all 12 nodes",
		},
		{
			name: "several reasons filter the nodes",
			job:  testJob(testGroup("trial", 1, 1000, 1024)),
			failed: map[string]*api.AllocationMetric{"trial": {
				NodesEvaluated: 12, NodesFiltered: 12,
				ConstraintFiltered: map[string]int{"${attr.cpu.arch} = arm64": 8, "missing drivers": 4},
			}},
			want: "all 12 nodes filtered out: constraint ${attr.cpu.arch} = arm64 (8), missing drivers (4)",
		},
		{
			name: "every node has fewer devices than asked for",
			job:  testJob(testGroup("trial", 1, 1000, 1024, gpus)),
			failed: map[string]*api.AllocationMetric{"trial": {
				NodesEvaluated: 3, NodesFiltered: 3,
				ConstraintFiltered: map[string]int{"missing devices": 1, "computed class ineligible": 2},
			}},
			want: "no node has 8 nvidia/gpu: missing devices filtered all 3 nodes",
		},
		{
			name: "nodes of a class already ruled out are not a reason of their own",
			job:  testJob(testGroup("trial", 1, 1000, 1024)),
			failed: map[string]*api.AllocationMetric{"trial": {
				NodesEvaluated: 5, NodesFiltered: 5,
				ConstraintFiltered: map[string]int{"missing drivers": 1, "${attr.cpu.arch} = arm64": 1, "computed class ineligible": 3},
			}},
			want: "all 5 nodes filtered out: the checks of nodes of the same class (3), constraint ${attr.cpu.arch} = arm64 (1), missing drivers (1)",
		},
		{
			name: "memory exhausted where constraints let it be placed",
			job:  testJob(testGroup("trial", 1, 1000, 4096)),
			failed: map[string]*api.AllocationMetric{"trial": {
				NodesEvaluated: 12, NodesFiltered: 9, NodesExhausted: 3,
				ConstraintFiltered: map[string]int{"${node.class} = gpu": 9},
				DimensionExhausted: map[string]int{"memory": 2, "cpu": 1},
			}},
			want: "no node has 4096 MiB of free memory: memory exhausted on 2 nodes; 9 nodes filtered out by constraint ${node.class} = gpu",
		},
		{
			name: "cpu exhausted for several allocations of a group",
			job:  testJob(testGroup("worker", 4, 2400, 1024), testGroup("ps", 1, 500, 512)),
			failed: map[string]*api.AllocationMetric{"worker": {
				NodesEvaluated: 3, NodesExhausted: 3, CoalescedFailures: 2,
				DimensionExhausted: map[string]int{"cpu": 3},
			}},
			want: `group "worker": no node has 2400 MHz of free cpu: cpu exhausted on 3 nodes (3 allocations not placed)`,
		},
		{
			name: "no node in the datacenter",
			job:  testJob(testGroup("trial", 1, 1000, 1024)),
			failed: map[string]*api.AllocationMetric{"trial": {
				NodesAvailable: map[string]int{"dc2": 0},
			}},
			want: `no nodes are available in datacenter "dc2"`,
		},
		{
			name: "no node in the pool",
			job:  testJob(testGroup("trial", 1, 1000, 1024)),
			failed: map[string]*api.AllocationMetric{"trial": {
				NodePool: "gpu",
			}},
			want: `no nodes were eligible for evaluation (node pool "gpu" has 0)`,
		},
		{
			name: "two groups fail and the first in job order is named",
			job:  testJob(testGroup("worker", 2, 1000, 1024), testGroup("ps", 1, 1000, 1024)),
			failed: map[string]*api.AllocationMetric{
				"ps":     {NodesEvaluated: 2, NodesExhausted: 2, DimensionExhausted: map[string]int{"memory": 2}},
				"worker": {NodesEvaluated: 2, NodesExhausted: 2, DimensionExhausted: map[string]int{"cpu": 2}},
			},
			want: `group "worker": no node has 1000 MHz of free cpu: cpu exhausted on 2 nodes (and 1 more group not placed)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := unfitOf(tt.job, tt.failed)
			require.NotNil(t, u)
			assert.Equal(t, tt.want, u.Reason())
		})
	}
}

func TestAPlanWithoutFailuresFits(t *testing.T) {
	assert.Nil(t, unfitOf(testJob(testGroup("trial", 1, 1000, 1024)), nil))
	assert.Nil(t, unfitOf(testJob(testGroup("trial", 1, 1000, 1024)), map[string]*api.AllocationMetric{}))
	var u *Unfit
	assert.Equal(t, "", u.Reason())
}

func TestOnlyNodesFilteredOutMakeAJobNeverPlaceable(t *testing.T) {
	tests := []struct {
		name   string
		failed map[string]*api.AllocationMetric
		never  bool
	}{
		{"a driver no node has", map[string]*api.AllocationMetric{"trial": {
			NodesEvaluated: 4, NodesFiltered: 4, ConstraintFiltered: map[string]int{"missing drivers": 4}}}, true},
		{"a constraint every node fails", map[string]*api.AllocationMetric{"trial": {
			NodesEvaluated: 3, NodesFiltered: 3, ConstraintFiltered: map[string]int{"${attr.kernel.name} = windows": 3}}}, true},
		{"a device no node has", map[string]*api.AllocationMetric{"trial": {
			NodesEvaluated: 2, NodesFiltered: 2, ConstraintFiltered: map[string]int{"missing devices": 2}}}, true},
		{"one group of a gang filtered everywhere", map[string]*api.AllocationMetric{
			"ps":     {NodesEvaluated: 2, NodesExhausted: 2},
			"worker": {NodesEvaluated: 2, NodesFiltered: 2, ConstraintFiltered: map[string]int{"distinct_hosts": 2}}}, true},
		{"nodes that are full now", map[string]*api.AllocationMetric{"trial": {
			NodesEvaluated: 4, NodesExhausted: 4, DimensionExhausted: map[string]int{"cpu": 4}}}, false},
		{"some nodes full and the others filtered", map[string]*api.AllocationMetric{"trial": {
			NodesEvaluated: 4, NodesExhausted: 1, NodesFiltered: 3, ConstraintFiltered: map[string]int{"missing drivers": 3}}}, false},
		{"no ready node in the datacenter", map[string]*api.AllocationMetric{"trial": {
			NodesAvailable: map[string]int{"dc1": 0}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := unfitOf(testJob(testGroup("trial", 1, 100, 64)), tt.failed)
			require.NotNil(t, u)
			assert.Equal(t, tt.never, u.Never())
		})
	}
	var fits *Unfit
	assert.False(t, fits.Never(), "a job that fits")
}
