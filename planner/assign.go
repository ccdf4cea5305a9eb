package planner

// Assignment is where every allocation of one trial goes and what it is
// granted. It is the unit of Commit and Release, so a trial's capacity is
// taken and given back whole, never in part.
type Assignment struct {
	// Allocs are in shape order: group by group, by index.
	Allocs []AllocAssignment `json:"allocs"`
}

// AllocAssignment is one allocation of a trial group placed on one node.
// It keeps the amounts it took, so Release gives back exactly those even
// when node sizes differ (a `cores` request costs each node its own MHz).
type AllocAssignment struct {
	Group string `json:"group"`
	// Index is the allocation's index within its group, from 0.
	Index     int           `json:"index"`
	NodeID    string        `json:"node_id"`
	CPUShares int64         `json:"cpu_shares"`
	Cores     int           `json:"cores,omitempty"`
	MemoryMiB int64         `json:"memory_mib"`
	Devices   []DeviceGrant `json:"devices,omitempty"`

	// node is where NodeID was found in the capacity the assignment was
	// made on; Commit checks it before searching, which keeps committing
	// on a clone cheap.
	node int
}

// DeviceGrant is one device instance (or a share of one) given to a task.
type DeviceGrant struct {
	Task string `json:"task"`
	// Device is the device group's ID, "vendor/type/name".
	Device     string `json:"device"`
	InstanceID string `json:"instance_id"`
	// Share is in thousandths of the instance: 1000 for a whole device.
	Share int `json:"share"`
	// GPU marks grants made for the task's `gpu` request: the ones the
	// local driver lists in CUDA_VISIBLE_DEVICES.
	GPU bool `json:"gpu,omitempty"`

	group, inst int
}

// GPUIDs are the instance IDs of the GPUs granted to task, in grant
// order: what CUDA_VISIBLE_DEVICES lists (empty when it has none).
func (a *AllocAssignment) GPUIDs(task string) []string {
	var ids []string
	for _, g := range a.Devices {
		if g.GPU && g.Task == task {
			ids = append(ids, g.InstanceID)
		}
	}
	return ids
}

// Commit reserves what the assignment grants. Nodes or devices that are no
// longer in the capacity (a fresh snapshot after a node left) are skipped:
// there is nothing left on them to reserve.
func (c *Capacity) Commit(a *Assignment) { c.account(a, 1) }

// Release frees what Commit reserved, exactly. Amounts never go below
// zero, so releasing against a newer snapshot that no longer counts the
// trial cannot make capacity appear from nowhere.
func (c *Capacity) Release(a *Assignment) { c.account(a, -1) }

func (c *Capacity) account(a *Assignment, sign int) {
	if a == nil {
		return
	}
	for i := range a.Allocs {
		al := &a.Allocs[i]
		n, ni := c.node(al.NodeID, al.node)
		if n == nil {
			continue
		}
		al.node = ni
		n.Used.CPUShares = max(n.Used.CPUShares+int64(sign)*al.CPUShares, 0)
		n.Used.Cores = max(n.Used.Cores+sign*al.Cores, 0)
		n.Used.MemoryMiB = max(n.Used.MemoryMiB+int64(sign)*al.MemoryMiB, 0)
		for j := range al.Devices {
			if inst := n.instance(&al.Devices[j]); inst != nil {
				inst.Share = max(inst.Share+sign*al.Devices[j].Share, 0)
			}
		}
	}
}

func (c *Capacity) node(id string, hint int) (*Node, int) {
	if hint >= 0 && hint < len(c.Nodes) && c.Nodes[hint].ID == id {
		return c.Nodes[hint], hint
	}
	for i, n := range c.Nodes {
		if n.ID == id {
			return n, i
		}
	}
	return nil, -1
}

func (n *Node) instance(g *DeviceGrant) *DeviceInstance {
	if g.group < len(n.Devices) && n.Devices[g.group].ID() == g.Device {
		grp := n.Devices[g.group]
		if g.inst < len(grp.Instances) && grp.Instances[g.inst].ID == g.InstanceID {
			return grp.Instances[g.inst]
		}
	}
	for gi, grp := range n.Devices {
		if grp.ID() != g.Device {
			continue
		}
		for ii, inst := range grp.Instances {
			if inst.ID == g.InstanceID {
				g.group, g.inst = gi, ii
				return inst
			}
		}
	}
	return nil
}
