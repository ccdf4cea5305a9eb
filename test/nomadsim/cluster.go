package nomadsim

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// NodeSpec describes Count identical client nodes. Nodes built from one
// spec share a computed node class, as identical machines do in Nomad,
// which is what Nomad's "computed class ineligible" filtering is keyed on.
type NodeSpec struct {
	Count int `json:"count"`
	// Name prefixes the node names ("<name>-<n>"); the default is the
	// node pool's name.
	Name       string `json:"name,omitempty"`
	Datacenter string `json:"datacenter,omitempty"`
	NodePool   string `json:"node_pool,omitempty"`
	NodeClass  string `json:"node_class,omitempty"`

	// Cores is the number of CPU cores and MHz the speed of one; CPU
	// shares are Cores × MHz, as Nomad fingerprints them.
	Cores int `json:"cores"`
	MHz   int `json:"mhz,omitempty"`
	// MemoryMiB and DiskMiB are the node's totals; in JSON they may be
	// numbers (MiB) or strings with units ("256GiB").
	MemoryMiB Size `json:"memory,omitempty"`
	DiskMiB   Size `json:"disk,omitempty"`

	// Reserved resources are subtracted from what the scheduler may use
	// (the client's `reserved` block).
	ReservedMHz       int  `json:"reserved_cpu,omitempty"`
	ReservedMemoryMiB Size `json:"reserved_memory,omitempty"`
	ReservedCores     int  `json:"reserved_cores,omitempty"`

	// GPUs are devices exposed as the NVIDIA device plugin exposes them:
	// "<vendor>/<type>/<model>" with a memory attribute in MiB.
	GPUs         int    `json:"gpus,omitempty"`
	GPUVendor    string `json:"gpu_vendor,omitempty"`
	GPUType      string `json:"gpu_type,omitempty"`
	GPUModel     string `json:"gpu_model,omitempty"`
	GPUMemoryMiB Size   `json:"gpu_memory,omitempty"`

	// Attributes are added to (or override) the fingerprinted attributes.
	Attributes map[string]string `json:"attributes,omitempty"`
	Meta       map[string]string `json:"meta,omitempty"`
	// Drivers are the task drivers the nodes report healthy; the default
	// is every driver the simulator runs: mock_driver, raw_exec, exec.
	Drivers []string `json:"drivers,omitempty"`
}

// Size is an amount of MiB that reads "256GiB", "512MiB", "1.5TiB" or a
// bare number of MiB.
type Size int64

// UnmarshalJSON accepts a number of MiB or a string with a unit.
func (s *Size) UnmarshalJSON(b []byte) error {
	var n float64
	if err := json.Unmarshal(b, &n); err == nil {
		*s = Size(math.Round(n))
		return nil
	}
	var text string
	if err := json.Unmarshal(b, &text); err != nil {
		return fmt.Errorf("size must be a number of MiB or a string such as \"256GiB\"")
	}
	v, err := ParseSize(text)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

var sizeUnits = map[string]float64{
	"": 1, "b": 1.0 / (1 << 20),
	"k": 1.0 / 1024, "kb": 1e3 / (1 << 20), "kib": 1.0 / 1024,
	"m": 1, "mb": 1e6 / (1 << 20), "mib": 1,
	"g": 1024, "gb": 1e9 / (1 << 20), "gib": 1024,
	"t": 1 << 20, "tb": 1e12 / (1 << 20), "tib": 1 << 20,
}

// ParseSize reads an amount of memory: a bare number is MiB; KiB, MiB,
// GiB, TiB and KB, MB, GB, TB (decimal) are accepted, in any case.
func ParseSize(text string) (Size, error) {
	t := strings.TrimSpace(text)
	i := strings.IndexFunc(t, unicode.IsLetter)
	num, unit := t, ""
	if i >= 0 {
		num, unit = strings.TrimSpace(t[:i]), strings.ToLower(strings.TrimSpace(t[i:]))
	}
	f, err := strconv.ParseFloat(num, 64)
	mult, ok := sizeUnits[unit]
	if err != nil || !ok || f < 0 {
		return 0, fmt.Errorf("invalid size %q: want a number of MiB or a number with a unit (MiB, GiB, TiB, MB, GB, TB)", text)
	}
	return Size(math.Round(f * mult)), nil
}

// ClusterSpec is the cluster the command builds from a file: a list of
// node specs, in JSON.
type ClusterSpec struct {
	Nodes []NodeSpec `json:"nodes"`
}

// ReadClusterFile reads a JSON cluster description: either
// {"nodes": [spec, ...]} or a bare list of specs.
func ReadClusterFile(path string) ([]NodeSpec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseClusterJSON(data)
}

// ParseClusterJSON decodes {"nodes": [...]} or [...].
func ParseClusterJSON(data []byte) ([]NodeSpec, error) {
	trimmed := strings.TrimSpace(string(data))
	if strings.HasPrefix(trimmed, "[") {
		var specs []NodeSpec
		if err := json.Unmarshal(data, &specs); err != nil {
			return nil, fmt.Errorf("cluster file: %w", err)
		}
		return specs, nil
	}
	var spec ClusterSpec
	dec := json.NewDecoder(strings.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		return nil, fmt.Errorf("cluster file: %w", err)
	}
	return spec.Nodes, nil
}

// ParseNodeSpec reads the compact form the command's -nodes flag takes:
//
//	200x{cpu=32,mhz=2400,memory=256GiB,gpus=8,gpu_model=NVIDIA H100 80GB HBM3,gpu_memory=80GiB,pool=gpu,dc=dc1}
//
// The count and "x" may be left out for one node. Keys: cpu (cores), mhz,
// memory, disk, gpus, gpu_model, gpu_memory, gpu_vendor, gpu_type, pool,
// dc, class, name, reserved_cpu (MHz), reserved_memory, reserved_cores,
// drivers (separated by ";"), meta.<key> and attr.<key>.
func ParseNodeSpec(text string) (NodeSpec, error) {
	var spec NodeSpec
	t := strings.TrimSpace(text)
	open := strings.Index(t, "{")
	if open < 0 || !strings.HasSuffix(t, "}") {
		return spec, fmt.Errorf("node spec %q: want [COUNTx]{key=value,...}", text)
	}
	spec.Count = 1
	if head := strings.TrimSpace(t[:open]); head != "" {
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSuffix(head, "x"), "X"))
		if err != nil || n < 1 || !strings.HasSuffix(strings.ToLower(head), "x") {
			return spec, fmt.Errorf("node spec %q: the count must be a positive number followed by x, as in 200x{...}", text)
		}
		spec.Count = n
	}
	body := t[open+1 : len(t)-1]
	for _, field := range strings.Split(body, ",") {
		if strings.TrimSpace(field) == "" {
			continue
		}
		k, v, ok := strings.Cut(field, "=")
		if !ok {
			return spec, fmt.Errorf("node spec %q: %q is not key=value", text, field)
		}
		if err := spec.set(strings.TrimSpace(k), strings.TrimSpace(v)); err != nil {
			return spec, fmt.Errorf("node spec %q: %w", text, err)
		}
	}
	return spec, nil
}

func (s *NodeSpec) set(key, value string) error {
	num := func() (int, error) {
		n, err := strconv.Atoi(value)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%s must be a whole number, got %q", key, value)
		}
		return n, nil
	}
	var err error
	switch key {
	case "cpu", "cores":
		s.Cores, err = num()
	case "mhz":
		s.MHz, err = parseMHz(value)
	case "memory":
		s.MemoryMiB, err = ParseSize(value)
	case "disk":
		s.DiskMiB, err = ParseSize(value)
	case "gpus":
		s.GPUs, err = num()
	case "gpu_model":
		s.GPUModel = value
	case "gpu_memory":
		s.GPUMemoryMiB, err = ParseSize(value)
	case "gpu_vendor":
		s.GPUVendor = value
	case "gpu_type":
		s.GPUType = value
	case "pool", "node_pool":
		s.NodePool = value
	case "dc", "datacenter":
		s.Datacenter = value
	case "class", "node_class":
		s.NodeClass = value
	case "name":
		s.Name = value
	case "reserved_cpu":
		s.ReservedMHz, err = parseMHz(value)
	case "reserved_memory":
		s.ReservedMemoryMiB, err = ParseSize(value)
	case "reserved_cores":
		s.ReservedCores, err = num()
	case "drivers":
		s.Drivers = nil
		for _, d := range strings.Split(value, ";") {
			if d = strings.TrimSpace(d); d != "" {
				s.Drivers = append(s.Drivers, d)
			}
		}
	default:
		switch {
		case strings.HasPrefix(key, "meta."):
			if s.Meta == nil {
				s.Meta = map[string]string{}
			}
			s.Meta[strings.TrimPrefix(key, "meta.")] = value
		case strings.HasPrefix(key, "attr."):
			if s.Attributes == nil {
				s.Attributes = map[string]string{}
			}
			s.Attributes[strings.TrimPrefix(key, "attr.")] = value
		default:
			return fmt.Errorf("unknown key %q (known: cpu, mhz, memory, disk, gpus, gpu_model, gpu_memory, gpu_vendor, gpu_type, pool, dc, class, name, reserved_cpu, reserved_memory, reserved_cores, drivers, meta.<k>, attr.<k>)", key)
		}
	}
	return err
}

func parseMHz(value string) (int, error) {
	v := strings.ToLower(strings.TrimSpace(value))
	mult := 1.0
	switch {
	case strings.HasSuffix(v, "ghz"):
		v, mult = strings.TrimSuffix(v, "ghz"), 1000
	case strings.HasSuffix(v, "mhz"):
		v = strings.TrimSuffix(v, "mhz")
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("invalid CPU speed %q: want MHz (2400) or GHz (2.4GHz)", value)
	}
	return int(math.Round(f * mult)), nil
}

// supportedDrivers are the task drivers the simulator can run.
var supportedDrivers = []string{"exec", "mock_driver", "raw_exec"}

// withDefaults fills what a spec leaves out, the way `nomad agent -dev`
// would describe a small machine.
func (s NodeSpec) withDefaults() (NodeSpec, error) {
	if s.Count == 0 {
		s.Count = 1
	}
	if s.Count < 0 {
		return s, fmt.Errorf("node count must be positive, got %d", s.Count)
	}
	if s.Datacenter == "" {
		s.Datacenter = "dc1"
	}
	if s.NodePool == "" {
		s.NodePool = "default"
	}
	if s.NodePool == "all" {
		return s, fmt.Errorf(`node pool "all" is built in and cannot hold nodes`)
	}
	if s.Cores == 0 {
		s.Cores = 4
	}
	if s.MHz == 0 {
		s.MHz = 2400
	}
	if s.MemoryMiB == 0 {
		s.MemoryMiB = 16 * 1024
	}
	if s.DiskMiB == 0 {
		s.DiskMiB = 100 * 1024
	}
	if s.ReservedCores > s.Cores {
		return s, fmt.Errorf("reserved_cores (%d) exceeds cores (%d)", s.ReservedCores, s.Cores)
	}
	if s.GPUs > 0 {
		if s.GPUVendor == "" {
			s.GPUVendor = "nvidia"
		}
		if s.GPUType == "" {
			s.GPUType = "gpu"
		}
		if s.GPUModel == "" {
			s.GPUModel = "NVIDIA H100 80GB HBM3"
		}
		if s.GPUMemoryMiB == 0 {
			s.GPUMemoryMiB = 81559
		}
	}
	if len(s.Drivers) == 0 {
		s.Drivers = supportedDrivers
	}
	for _, d := range s.Drivers {
		if !contains(supportedDrivers, d) {
			return s, fmt.Errorf("driver %q is not simulated (supported: %s)", d, strings.Join(supportedDrivers, ", "))
		}
	}
	if s.Name == "" {
		s.Name = s.NodePool
	}
	return s, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
