package planner

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
}
