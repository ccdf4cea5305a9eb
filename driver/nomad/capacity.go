package nomad

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/nomad/api"

	"github.com/nomad-tune/tune/experiment"
	"github.com/nomad-tune/tune/planner"
)

const (
	// defaultNodePool is the pool a job without node_pool runs in.
	defaultNodePool = "default"
	// allNodePools selects every pool, as in Nomad's job node_pool.
	allNodePools = "all"
	// nodeInfoWorkers bounds the node reads in flight: a node's attributes
	// and meta, which constraints need, are only in Nodes().Info.
	nodeInfoWorkers = 8
	// fullShare marks a device instance that an allocation holds: Nomad
	// devices are whole.
	fullShare = 1000
)

// Capacity is a snapshot of the cluster for the planner: the ready and
// eligible nodes of the experiment's datacenters and node pool, less what
// their allocations hold. Allocations of the experiment's own jobs are not
// subtracted, since the controller accounts for its trials itself: those
// it starts, and those an earlier tune started that it adopts. Counting
// them here too would count them twice.
func (d *Driver) Capacity(ctx context.Context) (*planner.Capacity, error) {
	var stubs []*api.NodeListStub
	err := d.retry(ctx, "list nodes", func() error {
		var err error
		stubs, _, err = d.client.Nodes().List(d.queryOpts(ctx, map[string]string{"resources": "true"}))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing Nomad nodes: %w", err)
	}
	n := d.exp.Nomad
	var ids []string
	for _, s := range stubs {
		if eligible(s.Status, s.SchedulingEligibility, s.Datacenter, s.NodePool, n) {
			ids = append(ids, s.ID)
		}
	}
	nodes, err := d.readNodes(ctx, ids)
	if err != nil {
		return nil, err
	}
	var allocs []*api.AllocationListStub
	err = d.retry(ctx, "list allocations", func() error {
		q := d.queryOpts(ctx, map[string]string{"resources": "true"})
		// Capacity is shared by every namespace.
		q.Namespace = "*"
		var err error
		allocs, _, err = d.client.Allocations().List(q)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing Nomad allocations: %w", err)
	}
	// Listed after the allocations, so that a job registered between the
	// two reads is known as the experiment's when its allocation is.
	own, err := d.experimentJobs(ctx, d.exp.Name, false)
	if err != nil {
		return nil, fmt.Errorf("listing the jobs of experiment %q: %w", d.exp.Name, err)
	}
	ownJobs := make(map[jobKey]bool, len(own))
	for _, j := range own {
		ownJobs[jobKey{j.Namespace, j.ID}] = true
	}
	skip := func(namespace, jobID string) bool {
		return ownJobs[jobKey{namespace, jobID}] || d.ownJob(namespace, jobID)
	}
	c := capacityOf(d.Target(), n, nodes, allocs, skip)
	d.mu.Lock()
	d.sharesPerCore = c.SharesPerCore()
	d.mu.Unlock()
	return c, nil
}

// jobKey names a job across namespaces.
type jobKey struct{ namespace, id string }

// readNodes reads the full record of each node, a few at a time. A node
// that is gone by then is left out.
func (d *Driver) readNodes(ctx context.Context, ids []string) ([]*api.Node, error) {
	nodes := make([]*api.Node, len(ids))
	errs := make([]error, len(ids))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(nodeInfoWorkers, len(ids)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs[i] = d.retry(ctx, "read node", func() error {
					node, _, err := d.client.Nodes().Info(ids[i], d.queryOpts(ctx, nil))
					if notFound(err) {
						return nil
					}
					nodes[i] = node
					return err
				})
			}
		}()
	}
	for i := range ids {
		next <- i
	}
	close(next)
	wg.Wait()
	out := nodes[:0]
	for i, node := range nodes {
		if errs[i] != nil {
			return nil, fmt.Errorf("reading Nomad node %s: %w", ids[i], errs[i])
		}
		if node != nil {
			out = append(out, node)
		}
	}
	return out, nil
}

// capacityOf translates nodes and the allocations on them into the
// planner's terms. skipJob names the jobs whose allocations are not to be
// counted as in use.
func capacityOf(target string, n experiment.Nomad, nodes []*api.Node, allocs []*api.AllocationListStub, skipJob func(namespace, jobID string) bool) *planner.Capacity {
	c := &planner.Capacity{Target: target, GPUDevice: n.GPUDevice}
	if c.GPUDevice == "" {
		c.GPUDevice = experiment.DefaultGPUDevice
	}
	byID := map[string]*planner.Node{}
	for _, node := range nodes {
		if !eligible(node.Status, node.SchedulingEligibility, node.Datacenter, node.NodePool, n) {
			continue
		}
		pn := plannerNode(node)
		if pn == nil {
			continue
		}
		c.Nodes = append(c.Nodes, pn)
		byID[pn.ID] = pn
	}
	sort.Slice(c.Nodes, func(i, j int) bool {
		if c.Nodes[i].Name != c.Nodes[j].Name {
			return c.Nodes[i].Name < c.Nodes[j].Name
		}
		return c.Nodes[i].ID < c.Nodes[j].ID
	})
	for _, a := range allocs {
		pn := byID[a.NodeID]
		if pn == nil || !holdsResources(a.DesiredStatus, a.ClientStatus) {
			continue
		}
		if skipJob != nil && skipJob(a.Namespace, a.JobID) {
			continue
		}
		use(pn, a.AllocatedResources)
	}
	switch {
	case n.CPUMHzPerCore > 0:
		c.MHzPerCore = int64(n.CPUMHzPerCore)
	case len(c.Nodes) > 0:
		// The slowest core keeps a cpu request satisfiable on every node.
		for _, pn := range c.Nodes {
			if pn.MHzPerCore > 0 && (c.MHzPerCore == 0 || pn.MHzPerCore < c.MHzPerCore) {
				c.MHzPerCore = pn.MHzPerCore
			}
		}
	}
	return c
}

// eligible says whether the scheduler may place the experiment's jobs on a
// node: ready, eligible (a draining node is not), and in the experiment's
// datacenters and node pool.
func eligible(status, eligibility, dc, pool string, n experiment.Nomad) bool {
	if status != api.NodeStatusReady || eligibility != api.NodeSchedulingEligible {
		return false
	}
	want := n.NodePool
	if want == "" {
		want = defaultNodePool
	}
	if want != allNodePools && pool != want {
		return false
	}
	if len(n.Datacenters) == 0 {
		// Nomad's default for a job without datacenters is "*".
		return true
	}
	for _, pattern := range n.Datacenters {
		if globMatch(pattern, dc) {
			return true
		}
	}
	return false
}

// globMatch matches s against a pattern in which '*' stands for any run
// of characters, the only wildcard Nomad's datacenter globs have.
func globMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

// plannerNode is a node in the planner's terms: what the scheduler may
// give out, that is the node's resources less what its client reserves.
// A node without NodeResources (a client too old to report them) cannot
// be planned for and is left out.
func plannerNode(node *api.Node) *planner.Node {
	res := node.NodeResources
	if res == nil {
		return nil
	}
	var reservedCPU, reservedMem int64
	if r := node.ReservedResources; r != nil {
		reservedCPU = int64(r.Cpu.CpuShares)
		reservedMem = int64(r.Memory.MemoryMB)
	}
	pn := &planner.Node{
		ID:         node.ID,
		Name:       node.Name,
		Datacenter: node.Datacenter,
		NodePool:   node.NodePool,
		Class:      node.NodeClass,
		Attributes: node.Attributes,
		Meta:       node.Meta,
		CPUShares:  max(res.Cpu.CpuShares-reservedCPU, 0),
		Cores:      len(res.Cpu.ReservableCpuCores),
		MemoryMiB:  max(res.Memory.MemoryMB-reservedMem, 0),
	}
	if res.Cpu.TotalCpuCores > 0 {
		pn.MHzPerCore = res.Cpu.CpuShares / int64(res.Cpu.TotalCpuCores)
	}
	for _, dev := range res.Devices {
		if dev == nil {
			continue
		}
		g := &planner.DeviceGroup{Vendor: dev.Vendor, Type: dev.Type, Name: dev.Name, Attributes: map[string]string{}}
		for k, a := range dev.Attributes {
			if a != nil {
				// The text form keeps the unit ("81559 MiB"), which the
				// planner's constraints compare as Nomad does.
				g.Attributes[k] = a.String()
			}
		}
		for _, inst := range dev.Instances {
			if inst != nil {
				g.Instances = append(g.Instances, &planner.DeviceInstance{ID: inst.ID, Healthy: inst.Healthy})
			}
		}
		pn.Devices = append(pn.Devices, g)
	}
	sort.SliceStable(pn.Devices, func(i, j int) bool { return pn.Devices[i].ID() < pn.Devices[j].ID() })
	return pn
}

// holdsResources says whether an allocation holds its node's resources:
// it is meant to run and its client has not let it go.
func holdsResources(desired, client string) bool {
	return desired == api.AllocDesiredStatusRun &&
		(client == api.AllocClientStatusPending || client == api.AllocClientStatusRunning)
}

// use adds what an allocation holds to its node's usage.
func use(pn *planner.Node, res *api.AllocatedResources) {
	if res == nil {
		return
	}
	for _, t := range res.Tasks {
		if t == nil {
			continue
		}
		// For a task with reserved cores Nomad's CpuShares already count
		// those cores' MHz, as the planner's fit expects.
		pn.Used.CPUShares += t.Cpu.CpuShares
		pn.Used.Cores += len(t.Cpu.ReservedCores)
		pn.Used.MemoryMiB += t.Memory.MemoryMB
		for _, dev := range t.Devices {
			if dev != nil {
				holdDevices(pn, dev)
			}
		}
	}
}

func holdDevices(pn *planner.Node, dev *api.AllocatedDeviceResource) {
	for _, g := range pn.Devices {
		if g.Vendor != dev.Vendor || g.Type != dev.Type || g.Name != dev.Name {
			continue
		}
		for _, id := range dev.DeviceIDs {
			for _, inst := range g.Instances {
				if inst.ID == id {
					inst.Share = fullShare
				}
			}
		}
	}
}
