package nomad

import (
	"testing"

	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/experiment"
	"github.com/nomad-tune/tune/planner"
)

// apiNode is a ready, eligible node of cores cores at mhz MHz each, with
// memMiB of memory and gpus NVIDIA H100s, as Nodes().Info returns it.
func apiNode(id, dc, pool string, cores int, mhz int64, memMiB int64, gpus int) *api.Node {
	n := &api.Node{
		ID: id, Name: id, Datacenter: dc, NodePool: pool, NodeClass: "compute",
		Status: api.NodeStatusReady, SchedulingEligibility: api.NodeSchedulingEligible,
		Attributes: map[string]string{"cpu.arch": "amd64", "kernel.name": "linux"},
		Meta:       map[string]string{"rack": "r1"},
		NodeResources: &api.NodeResources{
			Cpu:    api.NodeCpuResources{CpuShares: int64(cores) * mhz, TotalCpuCores: uint16(cores)},
			Memory: api.NodeMemoryResources{MemoryMB: memMiB},
		},
		ReservedResources: &api.NodeReservedResources{},
	}
	for i := 0; i < cores; i++ {
		n.NodeResources.Cpu.ReservableCpuCores = append(n.NodeResources.Cpu.ReservableCpuCores, uint16(i))
	}
	if gpus > 0 {
		dev := &api.NodeDeviceResource{
			Vendor: "nvidia", Type: "gpu", Name: "H100",
			Attributes: map[string]*api.Attribute{
				"memory":     {IntVal: new(int64(81559)), Unit: "MiB"},
				"cuda_cores": {IntVal: new(int64(16896))},
				"model":      {StringVal: new("H100")},
			},
		}
		for i := 0; i < gpus; i++ {
			dev.Instances = append(dev.Instances, &api.NodeDevice{ID: id + "-gpu" + itoa(i), Healthy: true})
		}
		n.NodeResources.Devices = []*api.NodeDeviceResource{dev}
	}
	return n
}

func TestNodesBecomePlannerNodesLessWhatTheirClientsReserve(t *testing.T) {
	node := apiNode("n1", "dc1", "default", 4, 2400, 16384, 2)
	node.ReservedResources.Cpu.CpuShares = 600
	node.ReservedResources.Memory.MemoryMB = 1024
	node.NodeResources.Devices[0].Instances[1].Healthy = false

	c := capacityOf("http://nomad:4646", experiment.Nomad{}, []*api.Node{node}, nil, nil)

	require.Len(t, c.Nodes, 1)
	n := c.Nodes[0]
	assert.Equal(t, "n1", n.ID)
	assert.Equal(t, "dc1", n.Datacenter)
	assert.Equal(t, "default", n.NodePool)
	assert.Equal(t, "compute", n.Class)
	assert.Equal(t, "amd64", n.Attributes["cpu.arch"])
	assert.Equal(t, "r1", n.Meta["rack"])
	assert.Equal(t, int64(9000), n.CPUShares, "4 × 2400 MHz less 600 reserved")
	assert.Equal(t, int64(2400), n.MHzPerCore)
	assert.Equal(t, 4, n.Cores)
	assert.Equal(t, int64(15360), n.MemoryMiB)
	require.Len(t, n.Devices, 1)
	g := n.Devices[0]
	assert.Equal(t, "nvidia/gpu/H100", g.ID())
	assert.Equal(t, "81559 MiB", g.Attributes["memory"])
	assert.Equal(t, "16896", g.Attributes["cuda_cores"])
	require.Len(t, g.Instances, 2)
	assert.True(t, g.Instances[0].Healthy)
	assert.False(t, g.Instances[1].Healthy, "an unhealthy GPU is kept, and not usable")

	assert.Equal(t, "http://nomad:4646", c.Target)
	assert.False(t, c.FractionalGPUs)
	assert.Equal(t, "nvidia/gpu", c.GPUDevice)
	assert.Equal(t, int64(2400), c.MHzPerCore)
}

func TestReservedCoresAreNotReservable(t *testing.T) {
	node := apiNode("n1", "dc1", "default", 8, 2000, 8192, 0)
	// A client with reserved.cores = "0-1" reports only the others.
	node.NodeResources.Cpu.ReservableCpuCores = []uint16{2, 3, 4, 5, 6, 7}

	c := capacityOf("t", experiment.Nomad{}, []*api.Node{node}, nil, nil)

	require.Len(t, c.Nodes, 1)
	assert.Equal(t, 6, c.Nodes[0].Cores)
	assert.Equal(t, int64(2000), c.Nodes[0].MHzPerCore)
}

func allocOn(node, job, desired, client string, tasks map[string]*api.AllocatedTaskResources) *api.AllocationListStub {
	return &api.AllocationListStub{
		ID: node + "-" + job + "-" + client, NodeID: node, JobID: job, Namespace: "default",
		DesiredStatus: desired, ClientStatus: client,
		AllocatedResources: &api.AllocatedResources{Tasks: tasks},
	}
}

func TestAllocationsThatHoldResourcesAreCountedAsUsed(t *testing.T) {
	nodes := []*api.Node{apiNode("n1", "dc1", "default", 4, 2500, 16384, 4), apiNode("n2", "dc1", "default", 4, 2500, 16384, 0)}
	train := map[string]*api.AllocatedTaskResources{"train": {
		Cpu:     api.AllocatedCpuResources{CpuShares: 5000, ReservedCores: []uint16{0, 1}},
		Memory:  api.AllocatedMemoryResources{MemoryMB: 4096},
		Devices: []*api.AllocatedDeviceResource{{Vendor: "nvidia", Type: "gpu", Name: "H100", DeviceIDs: []string{"n1-gpu1", "n1-gpu3"}}},
	}}
	small := map[string]*api.AllocatedTaskResources{"web": {
		Cpu:    api.AllocatedCpuResources{CpuShares: 500},
		Memory: api.AllocatedMemoryResources{MemoryMB: 256},
	}}
	allocs := []*api.AllocationListStub{
		allocOn("n1", "other", api.AllocDesiredStatusRun, api.AllocClientStatusRunning, train),
		allocOn("n1", "web", api.AllocDesiredStatusRun, api.AllocClientStatusPending, small),
		// Finished, stopping or on nodes outside the snapshot: not held.
		allocOn("n2", "done", api.AllocDesiredStatusRun, api.AllocClientStatusComplete, small),
		allocOn("n2", "failed", api.AllocDesiredStatusRun, api.AllocClientStatusFailed, small),
		allocOn("n2", "stopping", api.AllocDesiredStatusStop, api.AllocClientStatusRunning, small),
		allocOn("n9", "elsewhere", api.AllocDesiredStatusRun, api.AllocClientStatusRunning, small),
		// This driver's own attempts are the controller's to account for.
		allocOn("n2", "tune-exp-00001", api.AllocDesiredStatusRun, api.AllocClientStatusRunning, small),
	}
	own := func(ns, job string) bool { return job == "tune-exp-00001" }

	c := capacityOf("t", experiment.Nomad{}, nodes, allocs, own)

	require.Len(t, c.Nodes, 2)
	n1, n2 := c.Nodes[0], c.Nodes[1]
	assert.Equal(t, planner.Usage{CPUShares: 5500, Cores: 2, MemoryMiB: 4352}, n1.Used)
	assert.Equal(t, planner.Usage{}, n2.Used)
	shares := []int{}
	for _, inst := range n1.Devices[0].Instances {
		shares = append(shares, inst.Share)
	}
	assert.Equal(t, []int{0, 1000, 0, 1000}, shares)

	totals := c.Totals()
	assert.Equal(t, 4, totals.GPUs)
	assert.InDelta(t, 2.0, totals.FreeGPUs, 1e-9)
}

func TestOnlyReadyEligibleNodesOfTheExperimentsDatacentersAndPoolCount(t *testing.T) {
	tests := []struct {
		name        string
		status      string
		eligibility string
		dc, pool    string
		nomad       experiment.Nomad
		want        bool
	}{
		{"a ready node of the default pool", "ready", "eligible", "dc1", "default", experiment.Nomad{}, true},
		{"a node that is down", "down", "eligible", "dc1", "default", experiment.Nomad{}, false},
		{"a node being initialised", "initializing", "eligible", "dc1", "default", experiment.Nomad{}, false},
		{"a draining node", "ready", "ineligible", "dc1", "default", experiment.Nomad{}, false},
		{"a node of another pool when none is named", "ready", "eligible", "dc1", "gpu", experiment.Nomad{}, false},
		{"a node of the named pool", "ready", "eligible", "dc1", "gpu", experiment.Nomad{NodePool: "gpu"}, true},
		{"any pool with all", "ready", "eligible", "dc1", "gpu", experiment.Nomad{NodePool: "all"}, true},
		{"a listed datacenter", "ready", "eligible", "dc2", "default", experiment.Nomad{Datacenters: []string{"dc1", "dc2"}}, true},
		{"an unlisted datacenter", "ready", "eligible", "dc3", "default", experiment.Nomad{Datacenters: []string{"dc1", "dc2"}}, false},
		{"every datacenter with a star", "ready", "eligible", "eu-west", "default", experiment.Nomad{Datacenters: []string{"*"}}, true},
		{"a datacenter matching a glob", "ready", "eligible", "us-east-1", "default", experiment.Nomad{Datacenters: []string{"us-*"}}, true},
		{"a datacenter not matching a glob", "ready", "eligible", "eu-east-1", "default", experiment.Nomad{Datacenters: []string{"us-*"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, eligible(tt.status, tt.eligibility, tt.dc, tt.pool, tt.nomad))
		})
	}
}

func TestDatacenterGlobsMatchAsNomadsDo(t *testing.T) {
	tests := []struct {
		pattern, dc string
		want        bool
	}{
		{"dc1", "dc1", true},
		{"dc1", "dc10", false},
		{"*", "", true},
		{"dc*", "dc1", true},
		{"*-1", "us-east-1", true},
		{"us-*-1", "us-east-1", true},
		{"us-*-1", "us-east-2", false},
		{"*east*", "us-east-1", true},
		{"a*a", "a", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, globMatch(tt.pattern, tt.dc), "%q against %q", tt.pattern, tt.dc)
	}
}

func TestCPUSpeedIsTheExperimentsWhenSetAndElseTheSlowestNodes(t *testing.T) {
	nodes := []*api.Node{apiNode("fast", "dc1", "default", 4, 3000, 8192, 0), apiNode("slow", "dc1", "default", 4, 2000, 8192, 0)}

	c := capacityOf("t", experiment.Nomad{}, nodes, nil, nil)
	assert.Equal(t, int64(2000), c.MHzPerCore)

	c = capacityOf("t", experiment.Nomad{CPUMHzPerCore: 2400}, nodes, nil, nil)
	assert.Equal(t, int64(2400), c.MHzPerCore)

	c = capacityOf("t", experiment.Nomad{}, nil, nil, nil)
	assert.Equal(t, int64(0), c.MHzPerCore, "no nodes, no speed")
}

func TestNodesOutsideTheSelectionAndNodesWithoutResourcesAreLeftOut(t *testing.T) {
	other := apiNode("other", "dc2", "default", 4, 2000, 8192, 0)
	old := apiNode("old", "dc1", "default", 4, 2000, 8192, 0)
	old.NodeResources = nil
	kept := apiNode("kept", "dc1", "default", 4, 2000, 8192, 0)

	c := capacityOf("t", experiment.Nomad{Datacenters: []string{"dc1"}}, []*api.Node{other, old, kept}, nil, nil)

	require.Len(t, c.Nodes, 1)
	assert.Equal(t, "kept", c.Nodes[0].ID)
}
