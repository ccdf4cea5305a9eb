package planner

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/nomad-tune/tune/experiment"
)

// Fit places a trial on the capacity's free resources as one gang: every
// allocation of every group, or none. It changes nothing; Commit the
// assignment to reserve it. A trial that does not fit gets an Unfit
// instead, because a partly placed gang holds resources while waiting for
// the rest, which is how clusters deadlock.
func (c *Capacity) Fit(shape *experiment.Shape, placement experiment.Placement) (*Assignment, *Unfit) {
	if u := c.refused(shape); u != nil {
		return nil, u
	}
	f := newFitter(c, prepare(c, shape), placement, false)
	return f.fit(true)
}

// FitsEmpty says whether the trial could ever run on this target: it fits
// the trial on the nodes as if nothing ran on them. A non-nil Unfit means
// the trial would wait forever. Its own account of the nodes comes first;
// the target's refusal only adds what that account cannot see.
func (c *Capacity) FitsEmpty(shape *experiment.Shape, placement experiment.Placement) *Unfit {
	f := newFitter(c, prepare(c, shape), placement, true)
	if _, u := f.fit(true); u != nil {
		u.Refused = c.refused(shape) != nil
		return u
	}
	return c.refused(shape)
}

// trialPlan is a shape translated for one capacity: amounts in the
// capacity's units and the nodes and device groups each request may use.
// Only the nodes' free amounts change between fits, so a plan is reused
// for every trial of the same shape on the same capacity or its clones.
type trialPlan struct {
	groups []groupPlan
	// spc is the capacity's SharesPerCore, for gaps in CPUs.
	spc int64
	// order lists the allocations largest first, since the biggest are
	// the hardest to place once the small ones have fragmented the nodes.
	order []allocRef
	// eligible counts the nodes at least one group may use.
	eligible      int
	allocs        int
	distinctHosts bool
	// refused is set when the shape asks for something the target can
	// never grant, such as a fraction of a GPU on Nomad.
	refused *Unfit
}

type allocRef struct{ group, index int }

// groupPlan is one group of the shape; its amounts are one allocation's.
type groupPlan struct {
	name  string
	count int
	// cpu is the shares of the fractional `cpu` requests; whole cores add
	// cores × the node's MHzPerCore on top.
	cpu   int64
	cores int
	mem   int64
	needs []devNeed
	// filter is, per node, the first constraint it fails ("" when it
	// passes); nil when the group has no constraints.
	filter        []string
	eligible      []int
	distinctProps []experiment.Constraint
}

// devNeed is one task's request for devices.
type devNeed struct {
	task string
	// label names the device in reports: the GPU device for `gpu`, else
	// the device block's name.
	label string
	gpu   bool
	// count instances, each wholly free; or, when share > 0, share
	// thousandths of one instance.
	count       int
	share       int
	amount      float64
	constraints []experiment.Constraint
	// groups are, per node, the device groups that can serve it.
	groups [][]int
}

func (gp *groupPlan) filterText(node int) string {
	if gp.filter == nil {
		return ""
	}
	return gp.filter[node]
}

// labelText names the device with its constraints, so a report says which
// devices were missing, not just that GPUs were.
func (d *devNeed) labelText() string {
	if len(d.constraints) == 0 {
		return d.label
	}
	texts := make([]string, len(d.constraints))
	for i, c := range d.constraints {
		texts[i] = constraintText(c)
	}
	return d.label + " with " + strings.Join(texts, ", ")
}

func prepare(c *Capacity, shape *experiment.Shape) *trialPlan {
	spc := float64(c.SharesPerCore())
	gpu := c.gpuDevice()
	tp := &trialPlan{groups: make([]groupPlan, len(shape.Groups)), spc: int64(spc)}
	eligible := make([]bool, len(c.Nodes))
	for gi := range shape.Groups {
		g := &shape.Groups[gi]
		gp := &tp.groups[gi]
		gp.name, gp.count = g.Name, max(g.Count, 0)
		tp.allocs += gp.count
		for _, t := range g.Tasks {
			gp.cpu += int64(math.Round(t.CPU * spc))
			gp.cores += t.Cores
			gp.mem += int64(t.MemoryMiB)
			if t.GPU > 0 {
				need := devNeed{task: t.Task, label: gpu, gpu: true, amount: t.GPU}
				switch {
				case t.GPU == math.Trunc(t.GPU):
					need.count = int(t.GPU)
				case !c.FractionalGPUs:
					tp.refuse(c, g.Name, fmt.Sprintf("fractional GPUs (gpu = %s) cannot be placed: Nomad devices are whole", experiment.FormatNumber(t.GPU)))
				case t.GPU < 1:
					need.share = max(int(math.Round(t.GPU*1000)), 1)
				default:
					tp.refuse(c, g.Name, fmt.Sprintf("gpu = %s cannot be placed: a trial takes whole GPUs or shares one (gpu < 1)", experiment.FormatNumber(t.GPU)))
				}
				gp.needs = append(gp.needs, need)
			}
			for _, d := range t.Devices {
				if d.Count > 0 {
					gp.needs = append(gp.needs, devNeed{task: t.Task, label: d.Name, count: d.Count, amount: float64(d.Count), constraints: d.Constraints})
				}
			}
		}
		var filters []experiment.Constraint
		for _, con := range g.Constraints {
			switch operator(con) {
			case opDistinctHosts:
				if v := strings.TrimSpace(con.Value); v == "" || v == "true" {
					tp.distinctHosts = true
				}
			case opDistinctProperty:
				gp.distinctProps = append(gp.distinctProps, con)
			default:
				filters = append(filters, con)
			}
		}
		if len(filters) > 0 {
			gp.filter = make([]string, len(c.Nodes))
		}
		for ni, n := range c.Nodes {
			if len(filters) > 0 {
				gp.filter[ni] = nodeFailure(n, filters)
				if gp.filter[ni] != "" {
					continue
				}
			}
			gp.eligible = append(gp.eligible, ni)
			if gp.count > 0 {
				eligible[ni] = true
			}
		}
		for i := range gp.needs {
			need := &gp.needs[i]
			name := need.label
			need.groups = make([][]int, len(c.Nodes))
			for _, ni := range gp.eligible {
				for di, dg := range c.Nodes[ni].Devices {
					if dg.Matches(name) && deviceMeets(dg, need.constraints) {
						need.groups[ni] = append(need.groups[ni], di)
					}
				}
			}
		}
	}
	for _, ok := range eligible {
		if ok {
			tp.eligible++
		}
	}
	groups := make([]int, len(tp.groups))
	for i := range groups {
		groups[i] = i
	}
	sort.SliceStable(groups, func(i, j int) bool {
		return tp.groups[groups[i]].larger(&tp.groups[groups[j]], spc)
	})
	for _, gi := range groups {
		for k := 0; k < tp.groups[gi].count; k++ {
			tp.order = append(tp.order, allocRef{gi, k})
		}
	}
	return tp
}

func (tp *trialPlan) refuse(c *Capacity, group, reason string) {
	if tp.refused == nil {
		tp.refused = &Unfit{Group: group, NodesEvaluated: len(c.Nodes), reason: reason}
	}
}

// larger orders allocations by what is scarcest: devices, then whole
// cores, then CPU, then memory.
func (gp *groupPlan) larger(o *groupPlan, spc float64) bool {
	a, b := gp.deviceAmount(), o.deviceAmount()
	if a != b {
		return a > b
	}
	if gp.cores != o.cores {
		return gp.cores > o.cores
	}
	ca, cb := float64(gp.cpu)+float64(gp.cores)*spc, float64(o.cpu)+float64(o.cores)*spc
	if ca != cb {
		return ca > cb
	}
	return gp.mem > o.mem
}

func (gp *groupPlan) deviceAmount() float64 {
	total := 0.0
	for _, n := range gp.needs {
		total += n.amount
	}
	return total
}

// fitter places one trial. It never writes to the capacity: what the
// trial has taken so far is kept in deltas beside it, so a failed fit
// leaves nothing behind and needs no undo.
type fitter struct {
	c         *Capacity
	tp        *trialPlan
	placement experiment.Placement
	// empty fits as if no node ran anything (FitsEmpty).
	empty bool
	// oneEach: every allocation on its own node (strict_spread or
	// distinct_hosts).
	oneEach bool

	nodes   []nodeDelta
	shares  []shareDelta
	scratch []shareDelta
	allocs  []AllocAssignment
}

// nodeDelta is what the trial being fitted has taken on one node.
type nodeDelta struct {
	node   int
	cpu    int64
	cores  int
	mem    int64
	allocs int
}

// shareDelta is a device share the trial being fitted has taken (shares)
// or the allocation being tried would take (scratch).
type shareDelta struct {
	node, group, inst, share int
	need                     *devNeed
}

func newFitter(c *Capacity, tp *trialPlan, placement experiment.Placement, empty bool) *fitter {
	f := &fitter{}
	f.reset(c, tp, placement, empty)
	return f
}

func (f *fitter) reset(c *Capacity, tp *trialPlan, placement experiment.Placement, empty bool) {
	f.c, f.tp, f.placement, f.empty = c, tp, placement, empty
	f.oneEach = placement == experiment.PlacementStrictSpread || tp.distinctHosts
	f.clear()
}

func (f *fitter) clear() {
	f.nodes, f.shares, f.scratch, f.allocs = f.nodes[:0], f.shares[:0], f.scratch[:0], f.allocs[:0]
}

func (f *fitter) rule() string {
	if f.placement == experiment.PlacementStrictSpread {
		return string(experiment.PlacementStrictSpread)
	}
	return opDistinctHosts
}

// fit places the trial. With detail false a failure returns an Unfit
// without its metrics, for callers that only need to know it failed.
func (f *fitter) fit(detail bool) (*Assignment, *Unfit) {
	tp := f.tp
	if tp.refused != nil {
		return nil, tp.refused
	}
	for gi := range tp.groups {
		if gp := &tp.groups[gi]; gp.count > 0 && len(gp.eligible) == 0 {
			return nil, f.unfit(detail, gi, 0)
		}
	}
	if f.placement == experiment.PlacementStrictPack && tp.allocs > 1 {
		return f.fitOneNode(detail)
	}
	if f.oneEach && tp.allocs > tp.eligible {
		if !detail {
			return nil, &Unfit{}
		}
		u := f.baseUnfit(tp.order[0].group)
		u.reason = fmt.Sprintf("needs %d nodes for %s but only %d %s eligible", tp.allocs, f.rule(), tp.eligible, plural(tp.eligible, "is", "are"))
		return nil, u
	}
	for placed, ref := range tp.order {
		gp := &tp.groups[ref.group]
		best, bestAllocs, bestScore := -1, 0, 0.0
		for _, ni := range gp.eligible {
			if f.excluded(gp, ni) != "" {
				continue
			}
			gap, score := f.try(gp, ni)
			if gap.Dimension != "" {
				continue
			}
			allocs := 0
			if d := f.delta(ni); d != nil {
				allocs = d.allocs
			}
			var better bool
			switch {
			case best < 0:
				better = true
			case f.placement == experiment.PlacementSpread:
				better = allocs < bestAllocs || (allocs == bestAllocs && score > bestScore)
			default:
				better = score < bestScore
			}
			if better {
				best, bestAllocs, bestScore = ni, allocs, score
			}
		}
		if best < 0 {
			return nil, f.unfit(detail, ref.group, placed)
		}
		f.try(gp, best)
		f.take(gp, ref, best)
	}
	return f.assignment(), nil
}

// fitOneNode is strict_pack: the node that is fullest after taking every
// allocation wins.
func (f *fitter) fitOneNode(detail bool) (*Assignment, *Unfit) {
	tp := f.tp
	if f.oneEach {
		if !detail {
			return nil, &Unfit{}
		}
		u := f.baseUnfit(tp.order[0].group)
		u.reason = fmt.Sprintf("strict_pack puts all %d allocations on one node, which distinct_hosts forbids", tp.allocs)
		return nil, u
	}
	cands := f.commonNodes()
	best, bestScore := -1, 0.0
	type failure struct{ group, placed int }
	fail := failure{group: tp.order[0].group, placed: -1}
	exhausted := map[string]int{}
	for _, ni := range cands {
		f.clear()
		score, gap := 0.0, Gap{}
		for placed, ref := range tp.order {
			gp := &tp.groups[ref.group]
			gap, score = f.try(gp, ni)
			if gap.Dimension != "" {
				exhausted[gap.Dimension]++
				if placed > fail.placed {
					fail = failure{ref.group, placed}
				}
				break
			}
			f.take(gp, ref, ni)
		}
		if gap.Dimension == "" && (best < 0 || score < bestScore) {
			best, bestScore = ni, score
		}
	}
	f.clear()
	if best >= 0 {
		for _, ref := range tp.order {
			gp := &tp.groups[ref.group]
			f.try(gp, best)
			f.take(gp, ref, best)
		}
		return f.assignment(), nil
	}
	if !detail {
		return nil, &Unfit{}
	}
	u := f.baseUnfit(fail.group)
	for ni := range f.c.Nodes {
		if !f.inAll(ni) {
			u.NodesFiltered++
			for gi := range tp.groups {
				if text := tp.groups[gi].filterText(ni); text != "" && tp.groups[gi].count > 0 {
					u.ConstraintFiltered[text]++
					break
				}
			}
		}
	}
	if len(cands) == 0 {
		u.reason = "strict_pack needs one node that every group may use, and there is none"
		return nil, u
	}
	u.NodesExhausted = len(cands)
	u.DimensionExhausted = exhausted
	u.setGap(f.packGap(u, cands), "")
	return nil, u
}

// commonNodes are the nodes every group of the trial may use.
func (f *fitter) commonNodes() []int {
	var out []int
	for ni := range f.c.Nodes {
		if f.inAll(ni) {
			out = append(out, ni)
		}
	}
	return out
}

func (f *fitter) inAll(ni int) bool {
	for gi := range f.tp.groups {
		if gp := &f.tp.groups[gi]; gp.count > 0 && gp.filterText(ni) != "" {
			return false
		}
	}
	return true
}

func (f *fitter) delta(node int) *nodeDelta {
	for i := range f.nodes {
		if f.nodes[i].node == node {
			return &f.nodes[i]
		}
	}
	return nil
}

// free is what the node has left for this trial.
func (f *fitter) free(node int) (cpu int64, cores int, mem int64) {
	n := f.c.Nodes[node]
	cpu, cores, mem = n.CPUShares, n.Cores, n.MemoryMiB
	if !f.empty {
		cpu, cores, mem = cpu-n.Used.CPUShares, cores-n.Used.Cores, mem-n.Used.MemoryMiB
	}
	if d := f.delta(node); d != nil {
		cpu, cores, mem = cpu-d.cpu, cores-d.cores, mem-d.mem
	}
	return cpu, cores, mem
}

// share is how much of an instance is taken, counting this trial.
func (f *fitter) share(node, group, inst int) int {
	s := 0
	if !f.empty {
		s = f.c.Nodes[node].Devices[group].Instances[inst].Share
	}
	for _, list := range [2][]shareDelta{f.shares, f.scratch} {
		for _, d := range list {
			if d.node == node && d.group == group && d.inst == inst {
				s += d.share
			}
		}
	}
	return s
}

func (f *fitter) freeInstances(node, group int) int {
	count := 0
	for ii, inst := range f.c.Nodes[node].Devices[group].Instances {
		if inst.Healthy && f.share(node, group, ii) == 0 {
			count++
		}
	}
	return count
}

// excluded names the placement rule that keeps this allocation off the
// node, or is "" when none does.
func (f *fitter) excluded(gp *groupPlan, node int) string {
	d := f.delta(node)
	if f.oneEach && d != nil && d.allocs > 0 {
		return f.rule()
	}
	for _, con := range gp.distinctProps {
		value, ok := nodeTarget(f.c.Nodes[node], con.Attribute)
		if !ok {
			return constraintText(con)
		}
		limit, err := strconv.Atoi(strings.TrimSpace(con.Value))
		if err != nil || limit < 1 {
			limit = 1
		}
		used := 0
		for _, other := range f.nodes {
			if v, ok := nodeTarget(f.c.Nodes[other.node], con.Attribute); ok && v == value {
				used += other.allocs
			}
		}
		if used >= limit {
			return constraintText(con)
		}
	}
	return ""
}

// try checks whether one allocation of gp fits on the node, leaving the
// device shares it would take in f.scratch. It returns the gap of the
// first dimension that ran out, or an empty gap and how much of the node
// would be left free (a sum of fractions: lower is fuller).
func (f *fitter) try(gp *groupPlan, node int) (Gap, float64) {
	n := f.c.Nodes[node]
	cpu, cores, mem := f.free(node)
	if gp.cores > cores {
		return Gap{Dimension: "cores", Needed: float64(gp.cores), Free: float64(max(cores, 0))}, 0
	}
	needCPU := gp.cpu + int64(gp.cores)*n.MHzPerCore
	if needCPU > cpu {
		spc := float64(f.tp.spc)
		return Gap{Dimension: "cpu", Needed: float64(needCPU) / spc, Free: float64(max(cpu, 0)) / spc}, 0
	}
	if gp.mem > mem {
		return Gap{Dimension: "memory", Needed: float64(gp.mem), Free: float64(max(mem, 0))}, 0
	}
	f.scratch = f.scratch[:0]
	for i := range gp.needs {
		if need := &gp.needs[i]; !f.takeDevice(node, need) {
			return f.deviceGap(need, node), 0
		}
	}
	score := fraction(cpu-needCPU, n.CPUShares) + fraction(mem-gp.mem, n.MemoryMiB)
	for i := range gp.needs {
		freeShare, total := 0, 0
		for _, gi := range gp.needs[i].groups[node] {
			for ii, inst := range n.Devices[gi].Instances {
				if inst.Healthy {
					total += 1000
					freeShare += max(1000-f.share(node, gi, ii), 0)
				}
			}
		}
		score += fraction(int64(freeShare), int64(total))
	}
	return Gap{}, score
}

// deviceGap is what one node lacks of a device request that failed there:
// free instances for a whole request, the freest instance's free part for
// a shared one.
func (f *fitter) deviceGap(need *devNeed, node int) Gap {
	gap := Gap{Dimension: "devices: " + need.label, Device: need.labelText(), Needed: need.amount, Shared: need.share > 0, Missing: true}
	for _, gi := range need.groups[node] {
		for ii, inst := range f.c.Nodes[node].Devices[gi].Instances {
			if inst.Healthy {
				gap.Missing = false
				if gap.Shared {
					gap.Free = max(gap.Free, float64(1000-f.share(node, gi, ii))/1000)
				}
			}
		}
		if !gap.Shared {
			gap.Free = max(gap.Free, float64(f.freeInstances(node, gi)))
		}
	}
	return gap
}

func fraction(part, whole int64) float64 {
	if whole <= 0 {
		return 0
	}
	return float64(part) / float64(whole)
}

// takeDevice finds instances for one request on the node. Whole requests
// come from one device group, as in Nomad, the one with the fewest free
// instances that suffice; a fractional request takes the fullest instance
// it still fits on, so shared GPUs fill up before fresh ones are touched.
func (f *fitter) takeDevice(node int, need *devNeed) bool {
	n := f.c.Nodes[node]
	if need.share > 0 {
		bestG, bestI, bestShare := -1, -1, -1
		for _, gi := range need.groups[node] {
			for ii, inst := range n.Devices[gi].Instances {
				s := f.share(node, gi, ii)
				if inst.Healthy && s+need.share <= 1000 && s > bestShare {
					bestG, bestI, bestShare = gi, ii, s
				}
			}
		}
		if bestG < 0 {
			return false
		}
		f.scratch = append(f.scratch, shareDelta{node, bestG, bestI, need.share, need})
		return true
	}
	bestG, bestFree := -1, 0
	for _, gi := range need.groups[node] {
		if free := f.freeInstances(node, gi); free >= need.count && (bestG < 0 || free < bestFree) {
			bestG, bestFree = gi, free
		}
	}
	if bestG < 0 {
		return false
	}
	taken := 0
	for ii, inst := range n.Devices[bestG].Instances {
		if taken == need.count {
			break
		}
		if inst.Healthy && f.share(node, bestG, ii) == 0 {
			f.scratch = append(f.scratch, shareDelta{node, bestG, ii, 1000, need})
			taken++
		}
	}
	return true
}

// take records the allocation just tried on the node as placed.
func (f *fitter) take(gp *groupPlan, ref allocRef, node int) {
	n := f.c.Nodes[node]
	d := f.delta(node)
	if d == nil {
		f.nodes = append(f.nodes, nodeDelta{node: node})
		d = &f.nodes[len(f.nodes)-1]
	}
	cpu := gp.cpu + int64(gp.cores)*n.MHzPerCore
	d.cpu += cpu
	d.cores += gp.cores
	d.mem += gp.mem
	d.allocs++
	al := AllocAssignment{Group: gp.name, Index: ref.index, NodeID: n.ID, CPUShares: cpu, Cores: gp.cores, MemoryMiB: gp.mem, node: node}
	if len(f.scratch) > 0 {
		al.Devices = make([]DeviceGrant, len(f.scratch))
		for i, s := range f.scratch {
			dg := n.Devices[s.group]
			al.Devices[i] = DeviceGrant{Task: s.need.task, Device: dg.ID(), InstanceID: dg.Instances[s.inst].ID, Share: s.share, GPU: s.need.gpu, group: s.group, inst: s.inst}
		}
		f.shares = append(f.shares, f.scratch...)
		f.scratch = f.scratch[:0]
	}
	f.allocs = append(f.allocs, al)
}

// assignment returns the placed allocations in shape order, which is how
// a user reads a trial, not the largest-first order they were placed in.
func (f *fitter) assignment() *Assignment {
	index := make(map[string]int, len(f.tp.groups))
	for gi := range f.tp.groups {
		if _, ok := index[f.tp.groups[gi].name]; !ok {
			index[f.tp.groups[gi].name] = gi
		}
	}
	allocs := append([]AllocAssignment(nil), f.allocs...)
	sort.SliceStable(allocs, func(i, j int) bool {
		gi, gj := index[allocs[i].Group], index[allocs[j].Group]
		if gi != gj {
			return gi < gj
		}
		return allocs[i].Index < allocs[j].Index
	})
	return &Assignment{Allocs: allocs}
}
