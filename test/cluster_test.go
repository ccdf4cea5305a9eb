//go:build unix

package test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/require"
)

// The Nomad tests run on whatever cluster NOMAD_ADDR names, a one-node
// `nomad agent -dev` as much as the simulator's four GPU nodes. A test
// that needs more than a cluster has says so with needs, which reads the
// cluster and skips the test, with the reason, when it falls short.

// clusterNeeds is what a test needs of the cluster.
type clusterNeeds struct {
	// nodes is how many ready, eligible nodes.
	nodes int
	// gpuNodes nodes with at least gpusPerNode healthy NVIDIA GPUs each.
	gpuNodes    int
	gpusPerNode int
	// drivers must be healthy on the nodes the test uses.
	drivers []string
}

// clusterNode is one ready, eligible node as the tests see it.
type clusterNode struct {
	name    string
	gpus    int
	drivers map[string]bool
}

var (
	clientsMu sync.Mutex
	clients   = map[string]*api.Client{}
)

// clusterClient is one API client per cluster address for the whole
// package: a client holds its connections open, and a client per call
// would soon pass Nomad's limit of connections per address.
func clusterClient(t *testing.T, addr string) *api.Client {
	t.Helper()
	clientsMu.Lock()
	defer clientsMu.Unlock()
	if c := clients[addr]; c != nil {
		return c
	}
	cfg := api.DefaultConfig()
	cfg.Address = addr
	c, err := api.NewClient(cfg)
	require.NoError(t, err)
	clients[addr] = c
	return c
}

// clusterNodes reads the cluster's ready, eligible nodes.
func clusterNodes(t *testing.T, c *api.Client) []clusterNode {
	t.Helper()
	stubs, _, err := c.Nodes().List(&api.QueryOptions{Params: map[string]string{"resources": "true"}})
	require.NoError(t, err)
	var out []clusterNode
	for _, s := range stubs {
		if s.Status != api.NodeStatusReady || s.SchedulingEligibility != api.NodeSchedulingEligible {
			continue
		}
		n := clusterNode{name: s.Name, drivers: map[string]bool{}}
		for name, d := range s.Drivers {
			n.drivers[name] = d.Detected && d.Healthy
		}
		if s.NodeResources != nil {
			for _, d := range s.NodeResources.Devices {
				if d.Vendor != "nvidia" || d.Type != "gpu" {
					continue
				}
				for _, inst := range d.Instances {
					if inst.Healthy {
						n.gpus++
					}
				}
			}
		}
		out = append(out, n)
	}
	return out
}

// needs skips the test unless the cluster has what it needs.
func (w *nomadWorkspace) needs(t *testing.T, need clusterNeeds) {
	t.Helper()
	if reason := shortOf(clusterNodes(t, w.client(t)), need); reason != "" {
		t.Skipf("the cluster at %s %s", w.addr, reason)
	}
}

// shortOf says how the nodes fall short of need, "" when they do not.
func shortOf(nodes []clusterNode, need clusterNeeds) string {
	usable := 0
	gpuNodes := 0
	var missing []string
	for _, n := range nodes {
		ok := true
		for _, d := range need.drivers {
			if !n.drivers[d] {
				ok = false
			}
		}
		if !ok {
			continue
		}
		usable++
		if need.gpusPerNode > 0 && n.gpus >= need.gpusPerNode {
			gpuNodes++
		}
	}
	if usable < max(need.nodes, 1) {
		if len(need.drivers) > 0 {
			missing = append(missing, fmt.Sprintf("has %d ready nodes with the %s %s; the test needs %d",
				usable, strings.Join(need.drivers, " and "), plural(len(need.drivers), "driver", "drivers"), max(need.nodes, 1)))
		} else {
			missing = append(missing, fmt.Sprintf("has %d ready nodes; the test needs %d", usable, need.nodes))
		}
	}
	if gpuNodes < need.gpuNodes {
		missing = append(missing, fmt.Sprintf("has %d nodes with %d healthy NVIDIA %s; the test needs %d",
			gpuNodes, need.gpusPerNode, plural(need.gpusPerNode, "GPU", "GPUs"), need.gpuNodes))
	}
	return strings.Join(missing, ", and ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func TestShortOfSaysWhatTheClusterLacks(t *testing.T) {
	dev := []clusterNode{{name: "dev", drivers: map[string]bool{"raw_exec": true, "mock_driver": true}}}
	gpus := []clusterNode{
		{name: "a", gpus: 2, drivers: map[string]bool{"mock_driver": true}},
		{name: "b", gpus: 2, drivers: map[string]bool{"mock_driver": true}},
		{name: "c", gpus: 1, drivers: map[string]bool{"mock_driver": true}},
	}
	cases := []struct {
		name  string
		nodes []clusterNode
		need  clusterNeeds
		want  string
	}{
		{name: "a dev agent runs a raw_exec test", nodes: dev, need: clusterNeeds{drivers: []string{"raw_exec"}}},
		{name: "a dev agent has one node", nodes: dev, need: clusterNeeds{nodes: 4}, want: "has 1 ready nodes; the test needs 4"},
		{name: "a dev agent has no GPUs", nodes: dev, need: clusterNeeds{gpuNodes: 1, gpusPerNode: 2},
			want: "has 0 nodes with 2 healthy NVIDIA GPUs; the test needs 1"},
		{name: "nodes without the driver do not count", nodes: gpus, need: clusterNeeds{nodes: 1, drivers: []string{"raw_exec"}},
			want: "has 0 ready nodes with the raw_exec driver; the test needs 1"},
		{name: "a node with too few GPUs does not count", nodes: gpus, need: clusterNeeds{gpuNodes: 3, gpusPerNode: 2},
			want: "has 2 nodes with 2 healthy NVIDIA GPUs; the test needs 3"},
		{name: "enough GPU nodes", nodes: gpus, need: clusterNeeds{nodes: 3, gpuNodes: 2, gpusPerNode: 2, drivers: []string{"mock_driver"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := shortOf(tc.nodes, tc.need)
			if tc.want == "" {
				require.Empty(t, got)
				return
			}
			require.Contains(t, got, tc.want)
		})
	}
}
