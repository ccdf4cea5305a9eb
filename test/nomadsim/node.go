package nomadsim

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/hashicorp/nomad/api"
)

const (
	nomadVersion  = "2.0.5"
	nomadRevision = "simulated"
)

// simNode is one client node: its published API object and the resources
// the scheduler accounts on it. Usage counts every allocation on the node
// that is not client-terminal, as Nomad's AllocsFit does.
type simNode struct {
	node  *api.Node // immutable once stored; replaced on change
	class string    // computed class: identical for nodes of one spec

	cpuShares  int64 // schedulable shares: total less reserved
	mhzPerCore int64
	totalCores int
	cores      []uint16 // reservable core IDs
	memoryMB   int64
	diskMB     int64
	devices    []*deviceGroup

	used struct {
		cpu, mem, disk int64
		cores          map[uint16]bool
		devices        map[string]bool // instance ID → in use
	}
	// allocs are the allocations holding resources here.
	allocs map[string]*allocRecord
}

// deviceGroup is one vendor/type/name group of identical devices.
type deviceGroup struct {
	vendor, typ, name string
	attrs             map[string]*api.Attribute
	ids               []string
	healthy           []bool
}

func (g *deviceGroup) id() string { return g.vendor + "/" + g.typ + "/" + g.name }

// buildNodes turns the specs into nodes; advertise is the HTTP address the
// nodes report, through which the api client reaches them for logs.
func buildNodes(specs []NodeSpec, ids *idSource, now time.Time, advertise string) ([]*simNode, error) {
	var out []*simNode
	seq := map[string]int{}
	for si, raw := range specs {
		spec, err := raw.withDefaults()
		if err != nil {
			return nil, fmt.Errorf("node spec %d: %w", si+1, err)
		}
		class := computedClass(spec)
		for i := 0; i < spec.Count; i++ {
			seq[spec.Name]++
			name := fmt.Sprintf("%s-%d", spec.Name, seq[spec.Name])
			out = append(out, newSimNode(spec, class, name, ids, now, advertise))
		}
	}
	return out, nil
}

// computedClass hashes everything about a spec except the count and names,
// so two specs describing the same machine share a class, as Nomad's
// computed class ignores unique attributes.
func computedClass(s NodeSpec) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s|%s|%s|%d|%d|%d|%d|%d|%d|%d|%d|%s|%s|%s|%d|%v",
		s.Datacenter, s.NodePool, s.NodeClass, s.Cores, s.MHz, s.MemoryMiB, s.DiskMiB,
		s.ReservedMHz, s.ReservedMemoryMiB, s.ReservedCores, s.GPUs, s.GPUVendor, s.GPUType,
		s.GPUModel, s.GPUMemoryMiB, s.Drivers)
	for _, k := range sortedKeys(s.Attributes) {
		fmt.Fprintf(h, "|a:%s=%s", k, s.Attributes[k])
	}
	for _, k := range sortedKeys(s.Meta) {
		fmt.Fprintf(h, "|m:%s=%s", k, s.Meta[k])
	}
	return fmt.Sprintf("v1:%d", h.Sum64())
}

func newSimNode(spec NodeSpec, class, name string, ids *idSource, now time.Time, advertise string) *simNode {
	id := ids.uuid()
	shares := int64(spec.Cores) * int64(spec.MHz)
	attrs := map[string]string{
		"arch":                      "x86_64",
		"cpu.arch":                  "amd64",
		"cpu.frequency":             strconv.Itoa(spec.MHz),
		"cpu.modelname":             "Simulated CPU",
		"cpu.numcores":              strconv.Itoa(spec.Cores),
		"cpu.reservablecores":       strconv.Itoa(spec.Cores - spec.ReservedCores),
		"cpu.totalcompute":          strconv.FormatInt(shares, 10),
		"cpu.usablecompute":         strconv.FormatInt(shares-int64(spec.ReservedMHz), 10),
		"kernel.arch":               "x86_64",
		"kernel.name":               "linux",
		"kernel.version":            "6.8.0",
		"memory.totalbytes":         strconv.FormatInt(int64(spec.MemoryMiB)<<20, 10),
		"nomad.advertise.address":   advertise,
		"nomad.bridge.hairpin_mode": "false",
		"nomad.revision":            nomadRevision,
		"nomad.service_discovery":   "true",
		"nomad.version":             nomadVersion,
		"os.name":                   "ubuntu",
		"os.signals":                "SIGINT,SIGKILL,SIGTERM,SIGHUP,SIGQUIT,SIGUSR1,SIGUSR2",
		"os.version":                "24.04",
		"unique.hostname":           name,
		"unique.network.ip-address": "127.0.0.1",
		"unique.storage.bytesfree":  strconv.FormatInt(int64(spec.DiskMiB)<<20, 10),
		"unique.storage.bytestotal": strconv.FormatInt(int64(spec.DiskMiB)<<20, 10),
		"unique.storage.volume":     "/dev/sim",
	}
	drivers := map[string]*api.DriverInfo{}
	for _, d := range spec.Drivers {
		attrs["driver."+d] = "1"
		drivers[d] = &api.DriverInfo{
			Attributes:        map[string]string{"driver." + d: "1"},
			Detected:          true,
			Healthy:           true,
			HealthDescription: "Healthy",
			UpdateTime:        now,
		}
	}
	for k, v := range spec.Attributes {
		attrs[k] = v
	}
	meta := map[string]string{}
	for k, v := range spec.Meta {
		meta[k] = v
	}

	n := &simNode{
		class:      class,
		cpuShares:  shares - int64(spec.ReservedMHz),
		mhzPerCore: int64(spec.MHz),
		totalCores: spec.Cores,
		memoryMB:   int64(spec.MemoryMiB - spec.ReservedMemoryMiB),
		diskMB:     int64(spec.DiskMiB),
		allocs:     map[string]*allocRecord{},
	}
	n.used.cores = map[uint16]bool{}
	n.used.devices = map[string]bool{}
	allCores := make([]uint16, spec.Cores)
	for i := range allCores {
		allCores[i] = uint16(i)
	}
	// The client reserves the lowest-numbered cores, as `reserved.cores`
	// does when given as a count.
	n.cores = append([]uint16(nil), allCores[spec.ReservedCores:]...)

	var devices []*api.NodeDeviceResource
	if spec.GPUs > 0 {
		g := &deviceGroup{vendor: spec.GPUVendor, typ: spec.GPUType, name: spec.GPUModel}
		g.attrs = map[string]*api.Attribute{
			"memory":           {IntVal: new(int64(spec.GPUMemoryMiB)), Unit: "MiB"},
			"bar1":             {IntVal: new(int64(131072)), Unit: "MiB"},
			"cores_clock":      {IntVal: new(int64(1980)), Unit: "MHz"},
			"memory_clock":     {IntVal: new(int64(2619)), Unit: "MHz"},
			"power":            {IntVal: new(int64(700)), Unit: "W"},
			"pci_bandwidth":    {IntVal: new(int64(15760)), Unit: "MB/s"},
			"driver_version":   {StringVal: new("550.54.15")},
			"display_state":    {StringVal: new("Enabled")},
			"persistence_mode": {StringVal: new("Enabled")},
		}
		res := &api.NodeDeviceResource{Vendor: g.vendor, Type: g.typ, Name: g.name, Attributes: g.attrs}
		for i := 0; i < spec.GPUs; i++ {
			gid := "GPU-" + ids.uuid()
			g.ids = append(g.ids, gid)
			g.healthy = append(g.healthy, true)
			res.Instances = append(res.Instances, &api.NodeDevice{ID: gid, Healthy: true})
		}
		n.devices = append(n.devices, g)
		devices = append(devices, res)
	}

	n.node = &api.Node{
		ID:         id,
		Datacenter: spec.Datacenter,
		Name:       name,
		HTTPAddr:   advertise,
		Attributes: attrs,
		NodeResources: &api.NodeResources{
			Cpu: api.NodeCpuResources{
				CpuShares:          shares,
				TotalCpuCores:      uint16(spec.Cores),
				ReservableCpuCores: n.cores,
			},
			Memory:         api.NodeMemoryResources{MemoryMB: int64(spec.MemoryMiB)},
			Disk:           api.NodeDiskResources{DiskMB: int64(spec.DiskMiB)},
			Devices:        devices,
			Networks:       []*api.NetworkResource{{Mode: "host", Device: "lo", CIDR: "127.0.0.1/32", IP: "127.0.0.1"}},
			MinDynamicPort: 20000,
			MaxDynamicPort: 32000,
		},
		ReservedResources: &api.NodeReservedResources{
			Cpu:    api.NodeReservedCpuResources{CpuShares: uint64(spec.ReservedMHz)},
			Memory: api.NodeReservedMemoryResources{MemoryMB: uint64(spec.ReservedMemoryMiB)},
		},
		Meta:                  meta,
		NodeClass:             spec.NodeClass,
		NodePool:              spec.NodePool,
		SchedulingEligibility: api.NodeSchedulingEligible,
		Status:                api.NodeStatusReady,
		StatusUpdatedAt:       now.Unix(),
		Events: []*api.NodeEvent{{
			Message:   "Node registered",
			Subsystem: "Cluster",
			Timestamp: now,
		}},
		Drivers:       drivers,
		HostVolumes:   map[string]*api.HostVolumeInfo{},
		HostNetworks:  map[string]*api.HostNetworkInfo{},
		NodeMaxAllocs: 0,
	}
	return n
}

// ready says whether the scheduler may place on the node, as Nomad's
// readyNodesInDCsAndPool does.
func (n *simNode) ready() bool {
	return n.node.Status == api.NodeStatusReady && n.node.SchedulingEligibility == api.NodeSchedulingEligible && !n.node.Drain
}

// hasDriver says whether the driver is detected and healthy.
func (n *simNode) hasDriver(name string) bool {
	d, ok := n.node.Drivers[name]
	return ok && d.Detected && d.Healthy
}

// hold adds what an allocation was granted to the node's usage.
func (n *simNode) hold(r *allocRecord) {
	if r.holding {
		return
	}
	r.holding = true
	n.allocs[r.alloc.ID] = r
	n.used.cpu += r.res.cpu
	n.used.mem += r.res.mem
	n.used.disk += r.res.disk
	for _, c := range r.res.cores {
		n.used.cores[c] = true
	}
	for _, d := range r.res.devices {
		n.used.devices[d] = true
	}
}

// release gives back what hold took; it is idempotent.
func (n *simNode) release(r *allocRecord) {
	if !r.holding {
		return
	}
	r.holding = false
	delete(n.allocs, r.alloc.ID)
	n.used.cpu -= r.res.cpu
	n.used.mem -= r.res.mem
	n.used.disk -= r.res.disk
	for _, c := range r.res.cores {
		delete(n.used.cores, c)
	}
	for _, d := range r.res.devices {
		delete(n.used.devices, d)
	}
}

// stub is the node as the list endpoint shows it.
func nodeStub(n *api.Node, resources, os bool) *api.NodeListStub {
	s := &api.NodeListStub{
		Address:               "127.0.0.1",
		ID:                    n.ID,
		Datacenter:            n.Datacenter,
		Name:                  n.Name,
		NodeClass:             n.NodeClass,
		NodePool:              n.NodePool,
		Version:               n.Attributes["nomad.version"],
		Drain:                 n.Drain,
		SchedulingEligibility: n.SchedulingEligibility,
		Status:                n.Status,
		StatusDescription:     n.StatusDescription,
		Drivers:               n.Drivers,
		LastDrain:             n.LastDrain,
		CreateIndex:           n.CreateIndex,
		ModifyIndex:           n.ModifyIndex,
	}
	if resources {
		s.NodeResources = n.NodeResources
		s.ReservedResources = n.ReservedResources
	}
	if os {
		s.Attributes = map[string]string{"os.name": n.Attributes["os.name"], "os.version": n.Attributes["os.version"]}
	}
	return s
}
