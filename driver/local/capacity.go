package local

import (
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/nomad-tune/tune/planner"
)

// CapacityOptions are what the user declares this machine offers, from the
// -local-cpus, -local-gpus and -local-memory flags, like Ray's
// ray.init(num_cpus=, num_gpus=). Zero means detect.
type CapacityOptions struct {
	// CPUs may be fractional; the node counts it in milli-CPUs.
	CPUs float64
	// GPUs declares that many GPUs: the first ones NVML sees, then
	// DeclaredModel devices for the rest.
	GPUs      int
	MemoryMiB int64
	// Logger hears about what was detected and what was not; nil is quiet.
	Logger hclog.Logger
}

const (
	targetName = "local"
	nodeID     = "local"
	// milliCPUsPerCore makes the local node's CPU shares milli-CPUs, so
	// cpu = 0.5 asks for 500 shares, as on Nomad it asks for half a core's
	// MHz.
	milliCPUsPerCore = 1000
	gpuVendor        = "nvidia"
	gpuType          = "gpu"
)

// probe is where detection reads the machine, so tests can stand in for a
// machine with GPUs or a given amount of memory.
type probe struct {
	numCPU    func() int
	memoryMiB func(hclog.Logger) (int64, error)
	gpus      func(hclog.Logger) ([]GPU, error)
	hostname  func() (string, error)
}

var thisMachine = probe{
	numCPU:    runtime.NumCPU,
	memoryMiB: systemMemoryMiB,
	gpus:      DetectGPUs,
	hostname:  os.Hostname,
}

// DetectCapacity describes this machine as a capacity of one node for the
// planner, with what opts declares taking the place of what is detected.
//
// Detected CPUs are runtime.NumCPU(): the CPUs this process may run on.
// Detected memory is the machine's total (MemTotal on Linux, hw.memsize on
// macOS, 0 elsewhere); a container's memory limit is not looked at, so
// declare it with -local-memory. Missing GPUs, NVML or cgo are not errors:
// the node simply has no GPUs, unless opts declares some.
func DetectCapacity(opts CapacityOptions) (*planner.Capacity, error) {
	return detectCapacity(opts, thisMachine)
}

func detectCapacity(opts CapacityOptions, p probe) (*planner.Capacity, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	log := orNullLogger(opts.Logger)

	cpus := opts.CPUs
	if cpus == 0 {
		cpus = float64(p.numCPU())
	}

	memMiB := opts.MemoryMiB
	if memMiB == 0 {
		var err error
		if memMiB, err = p.memoryMiB(log); err != nil {
			return nil, fmt.Errorf("detecting this machine's memory: %w; declare it with -local-memory", err)
		}
	}

	detected, err := p.gpus(log)
	if err != nil {
		// A CPU-only experiment must not be stopped by a broken GPU stack,
		// and there is no flag to turn GPU detection off.
		log.Warn("cannot list GPUs; continuing without detected GPUs", "error", err)
		detected = nil
	}
	gpus := selectGPUs(detected, opts.GPUs, log)

	host, err := p.hostname()
	if err != nil || host == "" {
		log.Debug("hostname unknown; naming the node after the target", "error", err)
		host = nodeID
	}

	cores := int(math.Floor(cpus))
	node := &planner.Node{
		ID:         nodeID,
		Name:       host,
		Datacenter: "local",
		NodePool:   "default",
		// Named as Nomad fingerprints them, so constraints written for a
		// Nomad cluster select (or reject) this machine the same way.
		Attributes: map[string]string{
			"kernel.name":     runtime.GOOS,
			"cpu.arch":        runtime.GOARCH,
			"unique.hostname": host,
			"cpu.numcores":    strconv.Itoa(cores),
		},
		CPUShares:  int64(math.Round(cpus * milliCPUsPerCore)),
		MHzPerCore: milliCPUsPerCore,
		Cores:      cores,
		MemoryMiB:  memMiB,
		Devices:    gpuDeviceGroups(gpus),
	}
	log.Debug("local capacity", "cpus", cpus, "memory_mib", memMiB, "gpus", len(gpus))
	return &planner.Capacity{
		Target:         targetName,
		Nodes:          []*planner.Node{node},
		FractionalGPUs: true,
		MHzPerCore:     milliCPUsPerCore,
		GPUDevice:      gpuVendor + "/" + gpuType,
	}, nil
}

// validate reports every bad flag at once, so the user fixes them in one go.
func (o CapacityOptions) validate() error {
	var errs []error
	switch {
	case math.IsNaN(o.CPUs) || math.IsInf(o.CPUs, 0):
		errs = append(errs, fmt.Errorf("-local-cpus must be a number of CPUs, not %v", o.CPUs))
	case o.CPUs < 0:
		errs = append(errs, fmt.Errorf("-local-cpus must not be negative (got %v); 0 detects this machine's CPUs", o.CPUs))
	case o.CPUs > 0 && math.Round(o.CPUs*milliCPUsPerCore) < 1:
		// It would round to no CPU at all, which is not what anyone
		// declaring a positive amount means.
		errs = append(errs, fmt.Errorf("-local-cpus must be at least 0.001 (one milli-CPU), got %v", o.CPUs))
	case o.CPUs*milliCPUsPerCore >= math.MaxInt64:
		errs = append(errs, fmt.Errorf("-local-cpus %v is too large", o.CPUs))
	}
	if o.GPUs < 0 {
		errs = append(errs, fmt.Errorf("-local-gpus must not be negative (got %d); 0 detects this machine's GPUs", o.GPUs))
	}
	if o.MemoryMiB < 0 {
		errs = append(errs, fmt.Errorf("-local-memory must not be negative (got %d MiB); 0 detects this machine's memory", o.MemoryMiB))
	}
	return errors.Join(errs...)
}

// selectGPUs applies -local-gpus to the GPUs NVML found: all of them when
// nothing is declared, the first ones when fewer are declared, and declared
// devices on the free indices when more are, so the node has exactly the
// declared number with distinct indices (as Ray numbers num_gpus 0..N-1).
func selectGPUs(detected []GPU, declared int, log hclog.Logger) []GPU {
	gpus := slices.Clone(detected)
	slices.SortFunc(gpus, func(a, b GPU) int { return a.Index - b.Index })
	switch {
	case declared == 0:
		return gpus
	case len(gpus) >= declared:
		return gpus[:declared]
	}
	if len(gpus) > 0 {
		// With some real GPUs, asking for more is more likely a mistake
		// than a test setup; trials on the declared ones will find no GPU.
		log.Warn("-local-gpus declares more GPUs than NVML sees; the rest have no GPU behind them",
			"declared", declared, "detected", len(gpus))
	} else {
		log.Debug("declaring GPUs that this machine does not have", "declared", declared)
	}
	taken := make(map[int]bool, len(gpus))
	for _, g := range gpus {
		taken[g.Index] = true
	}
	for i := 0; len(gpus) < declared; i++ {
		if !taken[i] {
			gpus = append(gpus, GPU{Index: i, Model: DeclaredModel})
		}
	}
	slices.SortFunc(gpus, func(a, b GPU) int { return a.Index - b.Index })
	return gpus
}

// gpuDeviceGroups puts identical GPUs (same model and memory) in one group,
// as Nomad's device plugin does, in order of their lowest index so the
// capacity is the same from run to run.
func gpuDeviceGroups(gpus []GPU) []*planner.DeviceGroup {
	type key struct {
		model     string
		memoryMiB int64
	}
	var groups []*planner.DeviceGroup
	byKey := map[key]*planner.DeviceGroup{}
	indices := map[*planner.DeviceGroup][]string{}
	for _, g := range gpus {
		k := key{g.Model, g.MemoryMiB}
		grp, ok := byKey[k]
		if !ok {
			grp = &planner.DeviceGroup{
				Vendor:     gpuVendor,
				Type:       gpuType,
				Name:       g.Model,
				Attributes: map[string]string{},
			}
			if g.MemoryMiB > 0 {
				grp.Attributes["memory"] = fmt.Sprintf("%d MiB", g.MemoryMiB)
			}
			byKey[k] = grp
			groups = append(groups, grp)
		}
		id := strconv.Itoa(g.Index)
		grp.Instances = append(grp.Instances, &planner.DeviceInstance{ID: id, Healthy: true})
		indices[grp] = append(indices[grp], id)
	}
	for _, grp := range groups {
		// The instance IDs already are the indices; the attribute makes
		// them visible to constraints, which see only group attributes.
		grp.Attributes["index"] = strings.Join(indices[grp], ",")
	}
	return groups
}

func orNullLogger(log hclog.Logger) hclog.Logger {
	if log == nil {
		return hclog.NewNullLogger()
	}
	return log
}
