package local

import (
	"bytes"
	"errors"
	"math"
	"runtime"
	"slices"
	"strconv"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/planner"
)

// fakeMachine is a probe for a machine with 8 CPUs, 4 GiB of memory (read
// from a meminfo file, as on Linux) and the given GPUs.
func fakeMachine(t *testing.T, gpus []GPU, gpuErr error) probe {
	meminfo := writeFile(t, "MemTotal:        4194304 kB\nMemFree:         1000000 kB\n")
	return probe{
		numCPU:    func() int { return 8 },
		memoryMiB: func(hclog.Logger) (int64, error) { return readMemTotal(meminfo) },
		gpus:      func(hclog.Logger) ([]GPU, error) { return gpus, gpuErr },
		hostname:  func() (string, error) { return "box", nil },
	}
}

var (
	a100a = GPU{Index: 0, UUID: "GPU-a", Model: "NVIDIA A100-SXM4-80GB", MemoryMiB: 81920}
	a100b = GPU{Index: 1, UUID: "GPU-b", Model: "NVIDIA A100-SXM4-80GB", MemoryMiB: 81920}
	h100  = GPU{Index: 2, UUID: "GPU-c", Model: "NVIDIA H100 80GB HBM3", MemoryMiB: 81559}
)

// group is what a test expects of a GPU device group.
type group struct {
	name   string
	memory string
	ids    []string
}

func groupsOf(node *planner.Node) []group {
	var out []group
	for _, g := range node.Devices {
		var ids []string
		for _, inst := range g.Instances {
			ids = append(ids, inst.ID)
		}
		out = append(out, group{name: g.Name, memory: g.Attributes["memory"], ids: ids})
	}
	return out
}

func TestDetectCapacity(t *testing.T) {
	tests := []struct {
		name       string
		opts       CapacityOptions
		gpus       []GPU
		gpuErr     error
		wantShares int64
		wantCores  int
		wantMemory int64
		wantGroups []group
	}{
		{
			name:       "with nothing declared the detected CPUs, memory and GPUs are offered",
			gpus:       []GPU{a100a, a100b, h100},
			wantShares: 8000,
			wantCores:  8,
			wantMemory: 4096,
			wantGroups: []group{
				{name: a100a.Model, memory: "81920 MiB", ids: []string{"0", "1"}},
				{name: h100.Model, memory: "81559 MiB", ids: []string{"2"}},
			},
		},
		{
			name:       "declared CPUs, memory and GPUs win over what is detected",
			opts:       CapacityOptions{CPUs: 2.5, GPUs: 1, MemoryMiB: 1024},
			gpus:       []GPU{a100a, a100b, h100},
			wantShares: 2500,
			wantCores:  2,
			wantMemory: 1024,
			wantGroups: []group{{name: a100a.Model, memory: "81920 MiB", ids: []string{"0"}}},
		},
		{
			name:       "declared GPUs take the first GPUs by index whatever order NVML listed them in",
			opts:       CapacityOptions{GPUs: 2},
			gpus:       []GPU{h100, a100b, a100a},
			wantShares: 8000,
			wantCores:  8,
			wantMemory: 4096,
			wantGroups: []group{{name: a100a.Model, memory: "81920 MiB", ids: []string{"0", "1"}}},
		},
		{
			name:       "declared GPUs on a machine without GPUs are numbered from 0",
			opts:       CapacityOptions{GPUs: 3},
			wantShares: 8000,
			wantCores:  8,
			wantMemory: 4096,
			wantGroups: []group{{name: DeclaredModel, ids: []string{"0", "1", "2"}}},
		},
		{
			name:       "declared GPUs beyond the detected ones fill the indices the real ones leave free",
			opts:       CapacityOptions{GPUs: 3},
			gpus:       []GPU{a100b},
			wantShares: 8000,
			wantCores:  8,
			wantMemory: 4096,
			wantGroups: []group{
				{name: DeclaredModel, ids: []string{"0", "2"}},
				{name: a100b.Model, memory: "81920 MiB", ids: []string{"1"}},
			},
		},
		{
			name:       "fractional CPUs are counted in milli-CPUs and whole cores round down",
			opts:       CapacityOptions{CPUs: 0.5},
			wantShares: 500,
			wantCores:  0,
			wantMemory: 4096,
		},
		{
			name:       "CPUs that float arithmetic cannot represent exactly still give whole milli-CPUs",
			opts:       CapacityOptions{CPUs: 0.29},
			wantShares: 290,
			wantCores:  0,
			wantMemory: 4096,
		},
		{
			name:       "a failure to list GPUs leaves the node without GPUs rather than failing",
			gpuErr:     errors.New("NVML: counting GPUs: ERROR_UNKNOWN"),
			wantShares: 8000,
			wantCores:  8,
			wantMemory: 4096,
		},
		{
			name:       "a failure to list GPUs still leaves the declared ones",
			opts:       CapacityOptions{GPUs: 2},
			gpuErr:     errors.New("NVML: counting GPUs: ERROR_UNKNOWN"),
			wantShares: 8000,
			wantCores:  8,
			wantMemory: 4096,
			wantGroups: []group{{name: DeclaredModel, ids: []string{"0", "1"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := detectCapacity(tt.opts, fakeMachine(t, tt.gpus, tt.gpuErr))
			require.NoError(t, err)
			require.Len(t, c.Nodes, 1)
			n := c.Nodes[0]
			assert.Equal(t, tt.wantShares, n.CPUShares, "CPU shares")
			assert.Equal(t, tt.wantCores, n.Cores, "cores")
			assert.Equal(t, strconv.Itoa(tt.wantCores), n.Attributes["cpu.numcores"])
			assert.Equal(t, tt.wantMemory, n.MemoryMiB, "memory")
			assert.Equal(t, tt.wantGroups, groupsOf(n))
		})
	}
}

func TestDetectCapacityDescribesThisMachineAsOneLocalNode(t *testing.T) {
	c, err := detectCapacity(CapacityOptions{GPUs: 1}, fakeMachine(t, []GPU{a100a}, nil))
	require.NoError(t, err)

	assert.Equal(t, "local", c.Target)
	assert.True(t, c.FractionalGPUs)
	assert.Equal(t, int64(1000), c.MHzPerCore)
	assert.Equal(t, "nvidia/gpu", c.GPUDevice)

	require.Len(t, c.Nodes, 1)
	n := c.Nodes[0]
	assert.Equal(t, "local", n.ID)
	assert.Equal(t, "box", n.Name)
	assert.Equal(t, "local", n.Datacenter)
	assert.Equal(t, "default", n.NodePool)
	assert.Equal(t, int64(1000), n.MHzPerCore)
	assert.Equal(t, planner.Usage{}, n.Used)
	assert.Equal(t, map[string]string{
		"kernel.name":     runtime.GOOS,
		"cpu.arch":        runtime.GOARCH,
		"unique.hostname": "box",
		"cpu.numcores":    "8",
	}, n.Attributes)

	require.Len(t, n.Devices, 1)
	g := n.Devices[0]
	assert.Equal(t, "nvidia", g.Vendor)
	assert.Equal(t, "gpu", g.Type)
	assert.True(t, g.Matches(c.GPUDevice), "the GPU group must serve the capacity's GPU device")
	assert.Equal(t, map[string]string{"memory": "81920 MiB", "index": "0"}, g.Attributes)
	assert.Equal(t, []*planner.DeviceInstance{{ID: "0", Healthy: true}}, g.Instances)
}

func TestDetectCapacityFlagErrors(t *testing.T) {
	tests := []struct {
		name string
		opts CapacityOptions
		want []string
	}{
		{
			name: "negative CPUs are an error naming -local-cpus",
			opts: CapacityOptions{CPUs: -1},
			want: []string{"-local-cpus must not be negative"},
		},
		{
			name: "negative GPUs are an error naming -local-gpus",
			opts: CapacityOptions{GPUs: -2},
			want: []string{"-local-gpus must not be negative"},
		},
		{
			name: "negative memory is an error naming -local-memory",
			opts: CapacityOptions{MemoryMiB: -512},
			want: []string{"-local-memory must not be negative"},
		},
		{
			name: "every bad flag is reported at once",
			opts: CapacityOptions{CPUs: -0.5, GPUs: -1, MemoryMiB: -1},
			want: []string{"-local-cpus", "-local-gpus", "-local-memory"},
		},
		{
			name: "CPUs that are not a number are an error",
			opts: CapacityOptions{CPUs: math.NaN()},
			want: []string{"-local-cpus must be a number"},
		},
		{
			name: "infinite CPUs are an error",
			opts: CapacityOptions{CPUs: math.Inf(1)},
			want: []string{"-local-cpus must be a number"},
		},
		{
			name: "CPUs that round to no milli-CPU are an error",
			opts: CapacityOptions{CPUs: 0.0001},
			want: []string{"-local-cpus must be at least 0.001"},
		},
		{
			name: "CPUs too many to count in milli-CPUs are an error",
			opts: CapacityOptions{CPUs: 1e300},
			want: []string{"-local-cpus", "too large"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := DetectCapacity(tt.opts)
			require.Error(t, err)
			assert.Nil(t, c)
			for _, w := range tt.want {
				assert.ErrorContains(t, err, w)
			}
		})
	}
}

func TestDetectCapacityMemory(t *testing.T) {
	failing := func(hclog.Logger) (int64, error) { return 0, errors.New("no /proc here") }

	t.Run("declared memory is used without reading the machine's", func(t *testing.T) {
		p := fakeMachine(t, nil, nil)
		p.memoryMiB = failing
		c, err := detectCapacity(CapacityOptions{MemoryMiB: 2048}, p)
		require.NoError(t, err)
		assert.Equal(t, int64(2048), c.Nodes[0].MemoryMiB)
	})

	t.Run("memory that cannot be detected is an error that points at -local-memory", func(t *testing.T) {
		p := fakeMachine(t, nil, nil)
		p.memoryMiB = failing
		_, err := detectCapacity(CapacityOptions{}, p)
		require.ErrorContains(t, err, "no /proc here")
		assert.ErrorContains(t, err, "-local-memory")
	})
}

func TestDetectCapacityOnThisMachine(t *testing.T) {
	t.Run("detected CPUs are runtime.NumCPU", func(t *testing.T) {
		c, err := DetectCapacity(CapacityOptions{})
		require.NoError(t, err)
		n := c.Nodes[0]
		assert.Equal(t, int64(runtime.NumCPU())*1000, n.CPUShares)
		assert.Equal(t, runtime.NumCPU(), n.Cores)
		if runtime.GOOS == "linux" {
			want, err := readMemTotal("/proc/meminfo")
			require.NoError(t, err)
			assert.Equal(t, want, n.MemoryMiB)
		}
	})

	t.Run("declared CPUs, memory and GPUs win over this machine's", func(t *testing.T) {
		c, err := DetectCapacity(CapacityOptions{CPUs: 3, GPUs: 2, MemoryMiB: 512})
		require.NoError(t, err)
		n := c.Nodes[0]
		assert.Equal(t, int64(3000), n.CPUShares)
		assert.Equal(t, 3, n.Cores)
		assert.Equal(t, int64(512), n.MemoryMiB)
		assert.Equal(t, []string{"0", "1"}, instanceIDs(n))
	})

	for _, declared := range []int{1, 4, 8} {
		t.Run("declared GPUs appear with distinct IDs: "+strconv.Itoa(declared), func(t *testing.T) {
			c, err := DetectCapacity(CapacityOptions{GPUs: declared})
			require.NoError(t, err)
			ids := instanceIDs(c.Nodes[0])
			want := make([]string, declared)
			for i := range want {
				want[i] = strconv.Itoa(i)
			}
			assert.Equal(t, want, ids)
		})
	}
}

// instanceIDs are a node's GPU instance IDs in index order.
func instanceIDs(n *planner.Node) []string {
	var ids []string
	for _, g := range n.Devices {
		for _, inst := range g.Instances {
			ids = append(ids, inst.ID)
		}
	}
	slices.SortFunc(ids, func(a, b string) int {
		x, _ := strconv.Atoi(a)
		y, _ := strconv.Atoi(b)
		return x - y
	})
	return ids
}

func TestDeclaringMoreGPUsThanDetectedWarns(t *testing.T) {
	var out bytes.Buffer
	log := hclog.New(&hclog.LoggerOptions{Output: &out, Level: hclog.Warn})
	_, err := detectCapacity(CapacityOptions{GPUs: 2, Logger: log}, fakeMachine(t, []GPU{a100a}, nil))
	require.NoError(t, err)
	assert.Contains(t, out.String(), "-local-gpus declares more GPUs than NVML sees")
}

func TestGPUsOnThisMachine(t *testing.T) {
	gpus, err := DetectGPUs(nil)
	require.NoError(t, err, "a machine without GPUs or NVML must not be an error")

	_, err = GPUMemoryUsed(-1)
	assert.Error(t, err, "a negative GPU index")

	used, err := GPUMemoryUsed(0)
	if len(gpus) == 0 {
		assert.ErrorContains(t, err, "NVML", "without GPUs there is nothing to measure")
	} else {
		require.NoError(t, err)
		assert.GreaterOrEqual(t, used, 0.0)
		assert.LessOrEqual(t, used, 1.0)
	}
}
