package nomadsim

import (
	"testing"

	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClusterSpecs(t *testing.T) {
	t.Run("the compact form describes a count of identical nodes", func(t *testing.T) {
		spec, err := ParseNodeSpec("200x{cpu=32,mhz=2400,memory=256GiB,gpus=8,gpu_model=NVIDIA H100 80GB HBM3,gpu_memory=80GiB,pool=gpu,dc=dc1,meta.rack=r1}")
		require.NoError(t, err)
		assert.Equal(t, 200, spec.Count)
		assert.Equal(t, 32, spec.Cores)
		assert.Equal(t, 2400, spec.MHz)
		assert.Equal(t, Size(256*1024), spec.MemoryMiB)
		assert.Equal(t, 8, spec.GPUs)
		assert.Equal(t, "NVIDIA H100 80GB HBM3", spec.GPUModel)
		assert.Equal(t, Size(80*1024), spec.GPUMemoryMiB)
		assert.Equal(t, "gpu", spec.NodePool)
		assert.Equal(t, map[string]string{"rack": "r1"}, spec.Meta)

		one, err := ParseNodeSpec("{cpu=16,mhz=2.6GHz,memory=64G}")
		require.NoError(t, err)
		assert.Equal(t, 1, one.Count)
		assert.Equal(t, 2600, one.MHz)
		assert.Equal(t, Size(64*1024), one.MemoryMiB)
	})

	t.Run("mistakes in the compact form are named", func(t *testing.T) {
		for text, want := range map[string]string{
			"200{cpu=1}":         "followed by x",
			"2x{colour=red}":     `unknown key "colour"`,
			"2x{memory=lots}":    "invalid size",
			"2x{cpu=1":           "want [COUNTx]{key=value,...}",
			"2x{drivers=docker}": "",
		} {
			spec, err := ParseNodeSpec(text)
			if want == "" {
				require.NoError(t, err)
				_, err = spec.withDefaults()
				require.Error(t, err)
				assert.Contains(t, err.Error(), "not simulated")
				continue
			}
			require.Error(t, err, text)
			assert.Contains(t, err.Error(), want)
		}
	})

	t.Run("a JSON cluster takes sizes as numbers or strings", func(t *testing.T) {
		specs, err := ParseClusterJSON([]byte(`{"nodes": [{"count": 2, "cores": 8, "memory": "32GiB"}, {"count": 1, "cores": 4, "memory": 2048}]}`))
		require.NoError(t, err)
		require.Len(t, specs, 2)
		assert.Equal(t, Size(32*1024), specs[0].MemoryMiB)
		assert.Equal(t, Size(2048), specs[1].MemoryMiB)
		_, err = ParseClusterJSON([]byte(`{"nodez": []}`))
		assert.Error(t, err)
	})

	t.Run("nodes look to the api client as Nomad's do", func(t *testing.T) {
		srv, c := startSim(t, Options{Nodes: []NodeSpec{{Count: 1, Cores: 32, MHz: 2400, MemoryMiB: 256 * 1024, GPUs: 8, NodePool: "gpu", ReservedMHz: 2400, ReservedMemoryMiB: 1024}}})
		nodes, _, err := c.Nodes().List(nil)
		require.NoError(t, err)
		require.Len(t, nodes, 1)
		assert.Nil(t, nodes[0].NodeResources, "resources are listed only when asked for")
		withRes, _, err := c.Nodes().List(&api.QueryOptions{Params: map[string]string{"resources": "true"}})
		require.NoError(t, err)
		res := withRes[0].NodeResources
		require.NotNil(t, res)
		assert.Equal(t, int64(76800), res.Cpu.CpuShares)
		assert.Equal(t, uint16(32), res.Cpu.TotalCpuCores)
		assert.Len(t, res.Cpu.ReservableCpuCores, 32)
		assert.Equal(t, int64(256*1024), res.Memory.MemoryMB)
		assert.Equal(t, uint64(2400), withRes[0].ReservedResources.Cpu.CpuShares)

		node, _, err := c.Nodes().Info(nodes[0].ID, nil)
		require.NoError(t, err)
		assert.Equal(t, "ready", node.Status)
		assert.Equal(t, "eligible", node.SchedulingEligibility)
		assert.Equal(t, "gpu", node.NodePool)
		assert.Equal(t, srv.Addr(), node.HTTPAddr)
		assert.Equal(t, "linux", node.Attributes["kernel.name"])
		assert.Equal(t, node.Name, node.Attributes["unique.hostname"])
		assert.True(t, node.Drivers["mock_driver"].Healthy)
		assert.True(t, node.Drivers["raw_exec"].Detected)
		require.Len(t, node.NodeResources.Devices, 1)
		gpu := node.NodeResources.Devices[0]
		assert.Equal(t, "nvidia", gpu.Vendor)
		assert.Equal(t, "gpu", gpu.Type)
		assert.Equal(t, "NVIDIA H100 80GB HBM3", gpu.Name)
		assert.Len(t, gpu.Instances, 8)
		assert.Equal(t, int64(81559), *gpu.Attributes["memory"].IntVal)
		assert.Equal(t, "MiB", gpu.Attributes["memory"].Unit)
	})

	t.Run("the agent answers as a dev agent does", func(t *testing.T) {
		_, c := startSim(t, Options{})
		self, err := c.Agent().Self()
		require.NoError(t, err)
		assert.Equal(t, "global", self.Config["Region"])
		assert.Equal(t, "true", self.Stats["nomad"]["leader"])
		leader, err := c.Status().Leader()
		require.NoError(t, err)
		assert.NotEmpty(t, leader)
		regions, err := c.Regions().List()
		require.NoError(t, err)
		assert.Equal(t, []string{"global"}, regions)
	})
}
