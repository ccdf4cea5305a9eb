package planner

import "strings"

// Amounts are quantities of a target's resources in units that mean the
// same on every target, so that what trials held can be set against what
// the target has: the measure of utilisation.
type Amounts struct {
	// CPU is in cores: CPU shares over the target's shares per core
	// (SharesPerCore), as Totals counts them.
	CPU float64 `json:"cpu,omitempty"`
	// MemoryMiB is in MiB.
	MemoryMiB float64 `json:"memory_mib,omitempty"`
	// Devices are whole devices by "vendor/type" ("nvidia/gpu"); a
	// fractional local GPU grant counts its fraction.
	Devices map[string]float64 `json:"devices,omitempty"`
}

// Total is every node's schedulable CPU and memory and its healthy
// devices: what the target could give trials if nothing else ran.
func (c *Capacity) Total() Amounts {
	totals := c.Totals()
	t := Amounts{CPU: totals.CPUCores, MemoryMiB: float64(totals.MemoryMiB)}
	for _, n := range c.Nodes {
		for _, g := range n.Devices {
			for _, inst := range g.Instances {
				if inst.Healthy {
					t.addDevice(g.Vendor+"/"+g.Type, 1)
				}
			}
		}
	}
	return t
}

// Held is what an assignment grants, in the units of Total.
func (c *Capacity) Held(a *Assignment) Amounts {
	var h Amounts
	if a == nil {
		return h
	}
	var shares int64
	for _, al := range a.Allocs {
		shares += al.CPUShares
		h.MemoryMiB += float64(al.MemoryMiB)
		for _, g := range al.Devices {
			h.addDevice(deviceKind(g.Device), float64(g.Share)/1000)
		}
	}
	h.CPU = float64(shares) / float64(c.SharesPerCore())
	return h
}

func (a *Amounts) addDevice(kind string, n float64) {
	if a.Devices == nil {
		a.Devices = map[string]float64{}
	}
	a.Devices[kind] += n
}

// deviceKind is "vendor/type" of a device group's "vendor/type/name".
func deviceKind(id string) string {
	parts := strings.SplitN(id, "/", 3)
	if len(parts) < 2 {
		return id
	}
	return parts[0] + "/" + parts[1]
}
