package planner

import (
	"strings"

	"github.com/nomad-tune/tune/experiment"
)

// Node is one machine trials can be placed on: what it has, and what is
// already in use on it.
//
// CPU is counted in shares: MHz on Nomad (as Nomad counts it), milli-CPUs on
// the local target (MHzPerCore = 1000), so one fit function serves both.
type Node struct {
	ID         string
	Name       string
	Datacenter string
	NodePool   string
	Class      string
	// Attributes are the node's attributes as Nomad fingerprints them,
	// without the "attr." prefix (e.g. "kernel.name", "cpu.arch").
	Attributes map[string]string
	Meta       map[string]string

	// CPUShares is the schedulable CPU (total less reserved).
	CPUShares int64
	// MHzPerCore is the CPU shares of one core.
	MHzPerCore int64
	// Cores is the number of whole cores that can be reserved.
	Cores     int
	MemoryMiB int64
	Devices   []*DeviceGroup

	// Used is what allocations already on the node hold.
	Used Usage
}

// Usage is the amount of a node's CPU, cores and memory in use.
type Usage struct {
	CPUShares int64
	Cores     int
	MemoryMiB int64
}

// DeviceGroup is a set of identical devices on a node, as Nomad reports
// them: vendor/type/name with attributes and instances.
type DeviceGroup struct {
	Vendor string
	Type   string
	Name   string
	// Attributes are the device group's attributes (e.g. "memory" →
	// "81559 MiB", "cuda_cores" → "16896"); "model" is Name.
	Attributes map[string]string
	Instances  []*DeviceInstance
}

// DeviceInstance is one device. Share is how much of it is in use in
// thousandths: a whole-device grant uses 1000; a fractional local GPU
// grant of 0.25 uses 250.
type DeviceInstance struct {
	ID      string
	Healthy bool
	Share   int
}

// Capacity is a snapshot of a target's nodes.
type Capacity struct {
	// Target names where it came from ("local", or the Nomad address).
	Target string
	Nodes  []*Node
	// FractionalGPUs says whether a GPU may be shared by trials asking for
	// gpu < 1 (true on the local target, as in Ray Tune; Nomad devices are
	// whole).
	FractionalGPUs bool
	// MHzPerCore converts a request of cpu cores into shares; 0 means use
	// each node's own MHzPerCore... see CPUShares.
	MHzPerCore int64
	// GPUDevice is the device a `gpu` request asks for ("nvidia/gpu").
	GPUDevice string
	// Refused are the shapes (by Shape.Key) the target's own scheduler
	// says no node can ever hold, with its reason: what this model does
	// not see, such as a task driver or a node attribute no node has.
	// Fit and FitsEmpty refuse them.
	Refused map[string]string
}

// Refuse records the target's own word that no node can ever hold shape.
func (c *Capacity) Refuse(shape *experiment.Shape, reason string) {
	if c.Refused == nil {
		c.Refused = map[string]string{}
	}
	c.Refused[shape.Key()] = reason
}

func (c *Capacity) refused(shape *experiment.Shape) *Unfit {
	if len(c.Refused) == 0 {
		return nil
	}
	reason, ok := c.Refused[shape.Key()]
	if !ok {
		return nil
	}
	return &Unfit{Refused: true, reason: reason}
}

// ID is the device group's full Nomad name, "vendor/type/name": the name
// grants are recorded under, so a grant finds its group again on a clone.
func (g *DeviceGroup) ID() string {
	return g.Vendor + "/" + g.Type + "/" + g.Name
}

// Matches says whether a request for name ("type", "vendor/type" or
// "vendor/type/name", as a Nomad device block names it) can be served by
// this group.
func (g *DeviceGroup) Matches(name string) bool {
	parts := strings.Split(name, "/")
	switch len(parts) {
	case 1:
		return parts[0] == g.Type
	case 2:
		return parts[0] == g.Vendor && parts[1] == g.Type
	case 3:
		return parts[0] == g.Vendor && parts[1] == g.Type && parts[2] == g.Name
	}
	return false
}

// Clone copies the capacity deeply enough that fitting, committing and
// releasing on the copy never touch the original: nodes' Used and device
// instances' Share are copied. Attributes and Meta maps are shared, since
// nothing in the planner writes them.
func (c *Capacity) Clone() *Capacity {
	out := *c
	if c.Nodes == nil {
		return &out
	}
	out.Nodes = make([]*Node, len(c.Nodes))
	for i, n := range c.Nodes {
		out.Nodes[i] = n.clone()
	}
	return &out
}

// emptyClone is a clone with nothing in use, for questions about what the
// target can hold at all rather than what it can hold now.
func (c *Capacity) emptyClone() *Capacity {
	out := c.Clone()
	for _, n := range out.Nodes {
		n.Used = Usage{}
		for _, g := range n.Devices {
			for _, inst := range g.Instances {
				inst.Share = 0
			}
		}
	}
	return out
}

func (n *Node) clone() *Node {
	cp := *n
	if n.Devices == nil {
		return &cp
	}
	cp.Devices = make([]*DeviceGroup, len(n.Devices))
	for i, g := range n.Devices {
		gc := *g
		if g.Instances == nil {
			cp.Devices[i] = &gc
			continue
		}
		backing := make([]DeviceInstance, len(g.Instances))
		gc.Instances = make([]*DeviceInstance, len(g.Instances))
		for j, inst := range g.Instances {
			backing[j] = *inst
			gc.Instances[j] = &backing[j]
		}
		cp.Devices[i] = &gc
	}
	return &cp
}

// SharesPerCore is how many CPU shares one core of a `cpu` request is
// worth. One figure for the whole target keeps a trial's request the same
// on every node, as Nomad's `cpu` MHz is; the slowest node's figure is the
// conservative choice when the capacity does not set one.
func (c *Capacity) SharesPerCore() int64 {
	if c.MHzPerCore > 0 {
		return c.MHzPerCore
	}
	var least int64
	for _, n := range c.Nodes {
		if n.MHzPerCore > 0 && (least == 0 || n.MHzPerCore < least) {
			least = n.MHzPerCore
		}
	}
	if least > 0 {
		return least
	}
	return 1000
}

// gpuDevice is the device `gpu = n` asks for; an unset GPUDevice means
// Nomad's NVIDIA plugin, the only GPU plugin most clusters run.
func (c *Capacity) gpuDevice() string {
	if c.GPUDevice != "" {
		return c.GPUDevice
	}
	return experiment.DefaultGPUDevice
}

// Totals is the size of a target and how much of it is free, in the units
// a user reads in `tune plan`.
type Totals struct {
	Nodes int `json:"nodes"`
	// CPUCores is CPU shares divided by SharesPerCore, so fractional
	// requests and reports use one unit.
	CPUCores     float64 `json:"cpu_cores"`
	FreeCPUCores float64 `json:"free_cpu_cores"`
	// Cores are whole reservable cores (Nomad `cores`).
	Cores         int   `json:"cores"`
	FreeCores     int   `json:"free_cores"`
	MemoryMiB     int64 `json:"memory_mib"`
	FreeMemoryMiB int64 `json:"free_memory_mib"`
	// GPUs counts the healthy instances of the GPU device. FreeGPUs is a
	// fraction where GPUs are shared (the local target): the unused
	// thousandths of every healthy instance, added up.
	GPUs     int     `json:"gpus"`
	FreeGPUs float64 `json:"free_gpus"`
}

// Totals adds up every node's capacity and what is still free of it.
func (c *Capacity) Totals() Totals {
	t := Totals{Nodes: len(c.Nodes)}
	spc := float64(c.SharesPerCore())
	gpu := c.gpuDevice()
	var shares, freeShares int64
	for _, n := range c.Nodes {
		shares += n.CPUShares
		freeShares += max(n.CPUShares-n.Used.CPUShares, 0)
		t.Cores += n.Cores
		t.FreeCores += max(n.Cores-n.Used.Cores, 0)
		t.MemoryMiB += n.MemoryMiB
		t.FreeMemoryMiB += max(n.MemoryMiB-n.Used.MemoryMiB, 0)
	}
	gpus, free := c.deviceUse(gpu)
	t.GPUs, t.FreeGPUs = int(gpus), free
	t.CPUCores = float64(shares) / spc
	t.FreeCPUCores = float64(freeShares) / spc
	return t
}

// deviceUse is how many healthy instances of the devices a request for
// name can use the target has, and how much of them is free (a shared
// instance counts in part).
func (c *Capacity) deviceUse(name string) (total, free float64) {
	for _, n := range c.Nodes {
		for _, g := range n.Devices {
			if !g.Matches(name) {
				continue
			}
			for _, inst := range g.Instances {
				if inst.Healthy {
					total++
					free += float64(max(1000-inst.Share, 0)) / 1000
				}
			}
		}
	}
	return total, free
}
