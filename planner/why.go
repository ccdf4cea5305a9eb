package planner

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/nomad-tune/tune/experiment"
)

// Unfit says why a trial cannot be placed, in the terms of Nomad's
// placement failure metrics, for the first group that could not be placed.
type Unfit struct {
	Group string
	// NodesEvaluated is the number of nodes of the target.
	NodesEvaluated int
	// NodesFiltered were ruled out before resources were looked at; each
	// is counted once, under the first constraint it failed (placement
	// rules such as strict_spread count as constraints).
	NodesFiltered      int
	ConstraintFiltered map[string]int
	// NodesExhausted qualified but lacked room; each is counted once,
	// under the first dimension ("cpu", "cores", "memory",
	// "devices: nvidia/gpu") it ran out of.
	NodesExhausted     int
	DimensionExhausted map[string]int
	// Dimension is the resource that explains the failure best, one of the
	// DimensionExhausted keys; empty when it is not a lack of resources.
	Dimension string
	// Gap is what the trial lacks when it is a lack of resources (the
	// Dimension's amounts); nil when rules or constraints kept it out.
	Gap *Gap
	// Refused says the target's own scheduler said no node can ever hold
	// the trial (see Capacity.Refused): no autoscaler adding nodes of
	// the kinds it has changes that.
	Refused bool

	reason string
}

// Reason is a one-line account for a person, such as
// "no node has 8 free nvidia/gpu (largest: 4)".
func (u *Unfit) Reason() string {
	if u == nil {
		return ""
	}
	return u.reason
}

func (f *fitter) baseUnfit(group int) *Unfit {
	return &Unfit{
		Group:              f.tp.groups[group].name,
		NodesEvaluated:     len(f.c.Nodes),
		ConstraintFiltered: map[string]int{},
		DimensionExhausted: map[string]int{},
	}
}

// unfit explains why allocation number placed (in placement order), of
// group gi, found no node.
func (f *fitter) unfit(detail bool, gi, placed int) *Unfit {
	if !detail {
		return &Unfit{}
	}
	gp := &f.tp.groups[gi]
	u := f.baseUnfit(gi)
	for ni := range f.c.Nodes {
		if text := gp.filterText(ni); text != "" {
			u.NodesFiltered++
			u.ConstraintFiltered[text]++
		}
	}
	if len(gp.eligible) == 0 {
		u.reason = filteredReason(u)
		return u
	}
	var cands []int
	ruledOut := map[string]int{}
	for _, ni := range gp.eligible {
		if text := f.excluded(gp, ni); text != "" {
			u.NodesFiltered++
			u.ConstraintFiltered[text]++
			ruledOut[text]++
			continue
		}
		cands = append(cands, ni)
	}
	after := ""
	if placed > 0 {
		after = fmt.Sprintf(" after placing %d of %d allocations", placed, f.tp.allocs)
	}
	if len(cands) == 0 {
		u.reason = fmt.Sprintf("no node is left for group %q under %s%s", gp.name, strings.Join(sortedKeys(ruledOut), ", "), after)
		return u
	}
	// Nodes the trial's own placement rules kept out may be the ones with
	// room; saying so points at the rule rather than the cluster.
	for _, text := range sortedKeys(ruledOut) {
		after += fmt.Sprintf(", with %d %s ruled out by %s", ruledOut[text], plural(ruledOut[text], "node", "nodes"), text)
	}
	for _, ni := range cands {
		if gap, _ := f.try(gp, ni); gap.Dimension != "" {
			u.NodesExhausted++
			u.DimensionExhausted[gap.Dimension]++
		}
	}
	f.scratch = f.scratch[:0]
	u.setGap(f.exhaustedGap(u, gp, cands), after)
	return u
}

// filteredReason explains a group that no node qualifies for.
func filteredReason(u *Unfit) string {
	if u.NodesEvaluated == 0 {
		return "the target has no nodes"
	}
	keys := sortedKeys(u.ConstraintFiltered)
	if len(keys) == 1 {
		if u.NodesEvaluated == 1 {
			return fmt.Sprintf("constraint %s filtered the only node", keys[0])
		}
		return fmt.Sprintf("constraint %s filtered all %d nodes", keys[0], u.NodesEvaluated)
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s (%d)", k, u.ConstraintFiltered[k])
	}
	return fmt.Sprintf("constraints filtered all %s: %s", experiment.Count(u.NodesEvaluated, "node"), strings.Join(parts, ", "))
}

// sortedKeys orders a count map by count, then by key, so reports are
// stable and lead with what matters most.
func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}

// exhaustedGap finds the dimension no candidate node has enough of,
// scarcest first, with the most any node has.
func (f *fitter) exhaustedGap(u *Unfit, gp *groupPlan, cands []int) Gap {
	for i := range gp.needs {
		need := &gp.needs[i]
		anyDevice := false
		largest := 0
		for _, ni := range cands {
			for _, gi := range need.groups[ni] {
				if need.share > 0 {
					for ii, inst := range f.c.Nodes[ni].Devices[gi].Instances {
						if inst.Healthy {
							anyDevice = true
							largest = max(largest, 1000-f.share(ni, gi, ii))
						}
					}
					continue
				}
				for _, inst := range f.c.Nodes[ni].Devices[gi].Instances {
					anyDevice = anyDevice || inst.Healthy
				}
				largest = max(largest, f.freeInstances(ni, gi))
			}
		}
		gap := Gap{Dimension: "devices: " + need.label, Device: need.labelText(), Missing: !anyDevice}
		if need.share > 0 {
			if largest >= need.share {
				continue
			}
			gap.Shared, gap.Needed, gap.Free = true, need.amount, float64(largest)/1000
		} else {
			if largest >= need.count {
				continue
			}
			gap.Needed, gap.Free = float64(need.count), float64(largest)
		}
		return gap
	}
	spc := float64(f.tp.spc)
	var largestCores int
	var largestCPU, largestMem int64
	coresFit, cpuFit, memFit := false, false, false
	for _, ni := range cands {
		cpu, cores, mem := f.free(ni)
		largestCores, largestCPU, largestMem = max(largestCores, cores), max(largestCPU, cpu), max(largestMem, mem)
		coresFit = coresFit || cores >= gp.cores
		cpuFit = cpuFit || cpu >= gp.cpu+int64(gp.cores)*f.c.Nodes[ni].MHzPerCore
		memFit = memFit || mem >= gp.mem
	}
	switch {
	case !coresFit:
		return Gap{Dimension: "cores", Needed: float64(gp.cores), Free: float64(max(largestCores, 0))}
	case !cpuFit:
		return Gap{Dimension: "cpu", Needed: float64(gp.cpu)/spc + float64(gp.cores), Free: float64(largestCPU) / spc}
	case !memFit:
		return Gap{Dimension: "memory", Needed: float64(gp.mem), Free: float64(max(largestMem, 0))}
	}
	keys := sortedKeys(u.DimensionExhausted)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s on %d %s", k, u.DimensionExhausted[k], plural(u.DimensionExhausted[k], "node", "nodes"))
	}
	gap := Gap{together: true, request: f.allocSummary(gp), short: strings.Join(parts, ", ")}
	if len(keys) > 0 {
		gap.Dimension = keys[0]
	}
	return gap
}

// packGap explains strict_pack: the whole trial's needs against the most
// any one node has.
func (f *fitter) packGap(u *Unfit, cands []int) Gap {
	spc := f.tp.spc
	tp := f.tp
	type devTotal struct {
		label  string
		gpu    bool
		amount float64
		groups map[int][]int
	}
	var devs []*devTotal
	var cores int
	var cpu, mem int64
	for gi := range tp.groups {
		gp := &tp.groups[gi]
		cores += gp.count * gp.cores
		cpu += int64(gp.count) * gp.cpu
		mem += int64(gp.count) * gp.mem
		for i := range gp.needs {
			need := &gp.needs[i]
			var d *devTotal
			for _, x := range devs {
				if x.label == need.labelText() {
					d = x
				}
			}
			if d == nil {
				d = &devTotal{label: need.labelText(), gpu: need.gpu && len(need.constraints) == 0, groups: map[int][]int{}}
				devs = append(devs, d)
			}
			d.amount += float64(gp.count) * need.amount
			for _, ni := range cands {
				for _, g := range need.groups[ni] {
					if !containsInt(d.groups[ni], g) {
						d.groups[ni] = append(d.groups[ni], g)
					}
				}
			}
		}
	}
	f.clear()
	for _, d := range devs {
		largest := 0.0
		for _, ni := range cands {
			free := 0.0
			for _, gi := range d.groups[ni] {
				for ii, inst := range f.c.Nodes[ni].Devices[gi].Instances {
					if inst.Healthy {
						free += float64(max(1000-f.share(ni, gi, ii), 0)) / 1000
					}
				}
			}
			largest = max(largest, free)
		}
		if d.amount > largest {
			return Gap{Dimension: deviceDimension(d.label), Device: d.label, gpus: d.gpu, Needed: d.amount, Free: largest, OnOneNode: true}
		}
	}
	var largestCores int
	var largestCPU, largestMem int64
	cpuFit := false
	for _, ni := range cands {
		c, k, m := f.free(ni)
		largestCores, largestCPU, largestMem = max(largestCores, k), max(largestCPU, c), max(largestMem, m)
		cpuFit = cpuFit || c >= cpu+int64(cores)*f.c.Nodes[ni].MHzPerCore
	}
	switch {
	case cores > largestCores:
		return Gap{Dimension: "cores", Needed: float64(cores), Free: float64(largestCores), OnOneNode: true}
	case !cpuFit:
		return Gap{Dimension: "cpu", Needed: float64(cpu)/float64(spc) + float64(cores), Free: float64(largestCPU) / float64(spc), OnOneNode: true}
	case mem > largestMem:
		return Gap{Dimension: "memory", Needed: float64(mem), Free: float64(largestMem), OnOneNode: true}
	}
	gap := Gap{together: true, allocs: tp.allocs, OnOneNode: true}
	if keys := sortedKeys(u.DimensionExhausted); len(keys) > 0 {
		gap.Dimension = keys[0]
	}
	return gap
}

func containsInt(list []int, x int) bool {
	for _, v := range list {
		if v == x {
			return true
		}
	}
	return false
}

// allocSummary is one allocation's request in a user's units.
func (f *fitter) allocSummary(gp *groupPlan) string {
	spc := float64(f.c.SharesPerCore())
	parts := []string{}
	if gp.cores > 0 {
		parts = append(parts, fmt.Sprintf("cores %d", gp.cores))
	}
	if gp.cpu > 0 || gp.cores == 0 {
		parts = append(parts, "cpu "+experiment.FormatNumber(float64(gp.cpu)/spc))
	}
	parts = append(parts, fmt.Sprintf("memory %d MiB", gp.mem))
	for _, n := range gp.needs {
		parts = append(parts, fmt.Sprintf("%s %s", n.labelText(), experiment.FormatNumber(n.amount)))
	}
	return strings.Join(parts, ", ")
}

func formatCores(shares, spc int64) string {
	return experiment.FormatNumber(math.Round(float64(max(shares, 0))/float64(spc)*100) / 100)
}

// pluralFloat is plural for amounts that may be fractions: "1 CPU", "0.5
// CPUs", "2 CPUs".
func pluralFloat(n float64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
