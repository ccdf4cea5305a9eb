package planner

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/experiment"
)

// testNode is a node of cpus cores at 1000 MHz each, memMiB of memory and
// gpus NVIDIA A100s with IDs "<id>-gpu<i>".
func testNode(id string, cpus int, memMiB int64, gpus int) *Node {
	n := &Node{
		ID: id, Name: id, Datacenter: "dc1", NodePool: "default",
		Attributes: map[string]string{"cpu.arch": "amd64", "kernel.name": "linux"},
		Meta:       map[string]string{},
		CPUShares:  int64(cpus) * 1000, MHzPerCore: 1000, Cores: cpus, MemoryMiB: memMiB,
	}
	if gpus > 0 {
		n.Devices = append(n.Devices, gpuGroup(id, "A100", "81559 MiB", gpus))
	}
	return n
}

func gpuGroup(nodeID, model, memory string, count int) *DeviceGroup {
	g := &DeviceGroup{Vendor: "nvidia", Type: "gpu", Name: model, Attributes: map[string]string{"memory": memory}}
	for i := 0; i < count; i++ {
		g.Instances = append(g.Instances, &DeviceInstance{ID: fmt.Sprintf("%s-%s-%d", nodeID, model, i), Healthy: true})
	}
	return g
}

func testCapacity(nodes ...*Node) *Capacity {
	return &Capacity{Target: "test", Nodes: nodes, GPUDevice: "nvidia/gpu"}
}

// cluster is n identical nodes named node-0, node-1, ...
func cluster(n, cpus int, memMiB int64, gpus int) *Capacity {
	c := testCapacity()
	for i := 0; i < n; i++ {
		c.Nodes = append(c.Nodes, testNode(fmt.Sprintf("node-%d", i), cpus, memMiB, gpus))
	}
	return c
}

// task is a task "train" asking for cpu cores, memMiB and gpu GPUs.
func task(cpu float64, memMiB int, gpu float64) experiment.TaskResources {
	return experiment.TaskResources{Task: "train", CPU: cpu, MemoryMiB: memMiB, GPU: gpu}
}

func group(name string, count int, tasks ...experiment.TaskResources) experiment.GroupShape {
	return experiment.GroupShape{Name: name, Count: count, Tasks: tasks}
}

func shape(groups ...experiment.GroupShape) *experiment.Shape {
	return &experiment.Shape{Groups: groups}
}

// single is the common trial: one group of one task.
func single(cpu float64, memMiB int, gpu float64) *experiment.Shape {
	return shape(group("trial", 1, task(cpu, memMiB, gpu)))
}

func TestClone(t *testing.T) {
	c := cluster(2, 4, 8192, 2)
	c.Nodes[0].Used = Usage{CPUShares: 1000, Cores: 1, MemoryMiB: 100}
	c.Nodes[0].Devices[0].Instances[1].Share = 250
	want := cluster(2, 4, 8192, 2)
	want.Nodes[0].Used = Usage{CPUShares: 1000, Cores: 1, MemoryMiB: 100}
	want.Nodes[0].Devices[0].Instances[1].Share = 250

	clone := c.Clone()
	require.Equal(t, c, clone, "a clone starts equal")
	clone.Nodes[0].Used.CPUShares = 4000
	clone.Nodes[1].Used.MemoryMiB = 8192
	clone.Nodes[0].Devices[0].Instances[0].Share = 1000
	clone.Nodes[0].Devices[0].Instances[1].Share = 0
	assert.Equal(t, want, c, "changing the clone leaves the original as it was")
}

func TestSharesPerCore(t *testing.T) {
	tests := []struct {
		name string
		c    *Capacity
		want int64
	}{
		{"the capacity's own figure wins", &Capacity{MHzPerCore: 2500, Nodes: []*Node{{MHzPerCore: 3000}}}, 2500},
		{"otherwise the slowest node's cores set the rate", &Capacity{Nodes: []*Node{{MHzPerCore: 3000}, {MHzPerCore: 2200}, {}}}, 2200},
		{"with nothing to go on a core is 1000 shares", &Capacity{Nodes: []*Node{{}}}, 1000},
		{"an empty target is 1000 shares per core", &Capacity{}, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.c.SharesPerCore())
		})
	}
}

func TestTotals(t *testing.T) {
	busy := cluster(2, 4, 8192, 2)
	busy.Nodes[0].Used = Usage{CPUShares: 2500, Cores: 1, MemoryMiB: 1024}
	busy.Nodes[0].Devices[0].Instances[0].Share = 1000
	busy.Nodes[1].Devices[0].Instances[0].Share = 250
	busy.Nodes[1].Devices[0].Instances[1].Healthy = false
	busy.Nodes[1].Devices = append(busy.Nodes[1].Devices, &DeviceGroup{Vendor: "xilinx", Type: "fpga", Name: "u250", Instances: []*DeviceInstance{{ID: "f0", Healthy: true}}})

	tests := []struct {
		name string
		c    *Capacity
		want Totals
	}{
		{"an empty target has nothing", testCapacity(), Totals{}},
		{"an idle cluster is all free", cluster(3, 8, 16384, 4), Totals{
			Nodes: 3, CPUCores: 24, FreeCPUCores: 24, Cores: 24, FreeCores: 24,
			MemoryMiB: 49152, FreeMemoryMiB: 49152, GPUs: 12, FreeGPUs: 12,
		}},
		{"used resources, shared GPUs and unhealthy GPUs are counted apart", busy, Totals{
			Nodes: 2, CPUCores: 8, FreeCPUCores: 5.5, Cores: 8, FreeCores: 7,
			MemoryMiB: 16384, FreeMemoryMiB: 15360, GPUs: 3, FreeGPUs: 1.75,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.c.Totals())
		})
	}
}

func TestDeviceGroupMatches(t *testing.T) {
	g := &DeviceGroup{Vendor: "nvidia", Type: "gpu", Name: "A100"}
	tests := []struct {
		name    string
		request string
		want    bool
	}{
		{"a bare type matches any vendor", "gpu", true},
		{"vendor and type match", "nvidia/gpu", true},
		{"vendor, type and model match", "nvidia/gpu/A100", true},
		{"another model does not match", "nvidia/gpu/H100", false},
		{"another vendor does not match", "amd/gpu", false},
		{"another type does not match", "fpga", false},
		{"too many parts never match", "nvidia/gpu/A100/x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, g.Matches(tt.request))
		})
	}
	assert.Equal(t, "nvidia/gpu/A100", g.ID())
}

func TestAmounts(t *testing.T) {
	c := cluster(2, 4, 8192, 2)
	c.Nodes[1].Devices[0].Instances[1].Healthy = false
	c.Nodes[1].Devices = append(c.Nodes[1].Devices, &DeviceGroup{Vendor: "xilinx", Type: "fpga", Name: "u250", Instances: []*DeviceInstance{{ID: "f0", Healthy: true}}})
	c.Nodes[0].Used = Usage{CPUShares: 2000, MemoryMiB: 4096}

	assert.Equal(t, Amounts{CPU: 8, MemoryMiB: 16384, Devices: map[string]float64{"nvidia/gpu": 3, "xilinx/fpga": 1}}, c.Total(),
		"the total counts what is in use too, and healthy devices only")

	tests := []struct {
		name string
		a    *Assignment
		want Amounts
	}{
		{"no assignment holds nothing", nil, Amounts{}},
		{"a gang holds the sum of its allocations", &Assignment{Allocs: []AllocAssignment{
			{NodeID: "node-0", CPUShares: 1500, MemoryMiB: 512, Devices: []DeviceGrant{{Device: "nvidia/gpu/A100", Share: 1000}}},
			{NodeID: "node-1", CPUShares: 500, MemoryMiB: 256, Devices: []DeviceGrant{{Device: "nvidia/gpu/A100", Share: 250}, {Device: "xilinx/fpga/u250", Share: 1000}}},
		}}, Amounts{CPU: 2, MemoryMiB: 768, Devices: map[string]float64{"nvidia/gpu": 1.25, "xilinx/fpga": 1}}},
		{"an allocation on a node that left still counts", &Assignment{Allocs: []AllocAssignment{{NodeID: "gone", CPUShares: 3000, MemoryMiB: 64}}},
			Amounts{CPU: 3, MemoryMiB: 64}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, c.Held(tt.a))
		})
	}
}
