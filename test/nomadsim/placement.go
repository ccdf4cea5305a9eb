package nomadsim

import (
	"math"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/nomad/api"
)

const (
	// binPackingMaxFitScore normalises Nomad's bin-packing fitness.
	binPackingMaxFitScore = 18.0
	// Batch placements look at two feasible nodes and take the better
	// ("power of two choices"); a low-scoring node may be skipped three
	// times, as Nomad's LimitIterator does.
	batchLimit        = 2
	maxSkip           = 3
	skipScoreThresh   = 0.0
	spreadLimitFloor  = 100
	maxRetainedScores = 5

	filterMissingDrivers = "missing drivers"
	filterMissingDevices = "missing devices"
	filterClassInelig    = "computed class ineligible"
	// filterMissingHostVolumes is Nomad's reason for nodes without a
	// requested host volume.
	filterMissingHostVolumes = "missing compatible host volumes"
)

// planCtx is one evaluation's view of the cluster: the ready nodes of the
// job's datacenters and node pool in shuffled order, and what this plan
// has placed and stopped so far, which later placements in the same plan
// see, as in Nomad's ProposedAllocs.
type planCtx struct {
	st    *state
	job   *api.Job
	key   jobKey
	batch bool

	nodes []*simNode
	byDC  map[string]int

	delta   map[*simNode]*nodeDelta
	stopped map[string]bool

	// Computed-class feasibility caches for this evaluation: 1 eligible,
	// -1 ineligible.
	jobElig map[string]int8
	tgElig  map[string]map[string]int8

	// escaped is set when a constraint looked at unique node attributes,
	// so class eligibility says nothing about the evaluation.
	escaped bool

	// spreadUse caches, per spread attribute and task group, how many of
	// the group's allocations each attribute value holds; placements and
	// stops invalidate it.
	spreadUse map[string]map[string]int
}

// nodeDelta is what the plan changes on one node.
type nodeDelta struct {
	cpu, mem, disk int64
	cores          map[uint16]int // +1 taken by the plan, -1 freed by it
	devices        map[string]int
	proposed       []proposal
}

type proposal struct{ jobID, tg string }

func (st *state) newPlanCtx(job *api.Job, k jobKey, batch bool) *planCtx {
	p := &planCtx{
		st: st, job: job, key: k, batch: batch,
		byDC:    map[string]int{},
		delta:   map[*simNode]*nodeDelta{},
		stopped: map[string]bool{},
		jobElig: map[string]int8{},
		tgElig:  map[string]map[string]int8{},
	}
	if job == nil {
		return p
	}
	pool := *job.NodePool
	// The node list is scratch space reused by every plan: plans run one
	// at a time under the state lock.
	p.nodes = st.planNodes[:0]
	defer func() { st.planNodes = p.nodes }()
	for _, n := range st.nodes {
		if !n.ready() {
			continue
		}
		if pool != "all" && n.node.NodePool != pool {
			continue
		}
		if !dcMatches(job.Datacenters, n.node.Datacenter) {
			continue
		}
		p.nodes = append(p.nodes, n)
		p.byDC[n.node.Datacenter]++
	}
	// Shuffle as Nomad's ShuffleNodes does, so placements spread over
	// equal nodes instead of piling onto the first.
	for i := len(p.nodes) - 1; i > 0; i-- {
		j := st.ids.intn(i + 1)
		p.nodes[i], p.nodes[j] = p.nodes[j], p.nodes[i]
	}
	return p
}

// dcMatches applies the job's datacenter globs ("*", "dc*").
func dcMatches(patterns []string, dc string) bool {
	for _, p := range patterns {
		if ok, err := path.Match(p, dc); err == nil && ok {
			return true
		}
	}
	return false
}

func (p *planCtx) deltaFor(n *simNode) *nodeDelta {
	d := p.delta[n]
	if d == nil {
		d = &nodeDelta{cores: map[uint16]int{}, devices: map[string]int{}}
		p.delta[n] = d
	}
	return d
}

// stop records that the plan stops an allocation, which frees what it
// holds for later placements of the same plan.
func (p *planCtx) stop(r *allocRecord) {
	if p.stopped[r.alloc.ID] {
		return
	}
	p.stopped[r.alloc.ID] = true
	p.spreadUse = nil
	if !r.holding {
		return
	}
	d := p.deltaFor(r.node)
	d.cpu -= r.res.cpu
	d.mem -= r.res.mem
	d.disk -= r.res.disk
	for _, c := range r.res.cores {
		d.cores[c]--
	}
	for _, id := range r.res.devices {
		d.devices[id]--
	}
}

// unstop reverses stop, for a replacement that could not be placed.
func (p *planCtx) unstop(r *allocRecord) {
	if !p.stopped[r.alloc.ID] {
		return
	}
	delete(p.stopped, r.alloc.ID)
	p.spreadUse = nil
	if !r.holding {
		return
	}
	d := p.deltaFor(r.node)
	d.cpu += r.res.cpu
	d.mem += r.res.mem
	d.disk += r.res.disk
	for _, c := range r.res.cores {
		d.cores[c]++
	}
	for _, id := range r.res.devices {
		d.devices[id]++
	}
}

// take records a placement in the plan.
func (p *planCtx) take(o *option, tg string) {
	d := p.deltaFor(o.node)
	d.cpu += o.res.cpu
	d.mem += o.res.mem
	d.disk += o.res.disk
	for _, c := range o.res.cores {
		d.cores[c]++
	}
	for _, id := range o.res.devices {
		d.devices[id]++
	}
	d.proposed = append(d.proposed, proposal{jobID: p.key.id, tg: tg})
	p.spreadUse = nil
}

func (p *planCtx) coreUsed(n *simNode, d *nodeDelta, c uint16) bool {
	used := 0
	if n.used.cores[c] {
		used = 1
	}
	if d != nil {
		used += d.cores[c]
	}
	return used > 0
}

func (p *planCtx) deviceUsed(n *simNode, d *nodeDelta, id string) bool {
	used := 0
	if n.used.devices[id] {
		used = 1
	}
	if d != nil {
		used += d.devices[id]
	}
	return used > 0
}

// collisions counts the job's live allocations on a node, of one task
// group or (tg "") of any, for anti-affinity and distinct_hosts.
func (p *planCtx) collisions(n *simNode, tg string) int {
	count := 0
	for _, r := range n.allocs {
		a := r.alloc
		if a.JobID != p.key.id || a.Namespace != p.key.ns || serverTerminal(a) || p.stopped[a.ID] {
			continue
		}
		if tg == "" || a.TaskGroup == tg {
			count++
		}
	}
	if d := p.delta[n]; d != nil {
		for _, pr := range d.proposed {
			if pr.jobID == p.key.id && (tg == "" || pr.tg == tg) {
				count++
			}
		}
	}
	return count
}

// option is a node a task group fits on, with what it would be granted
// and how it scored.
type option struct {
	node     *simNode
	res      allocRes
	tasks    map[string]*api.AllocatedTaskResources
	scores   map[string]float64
	appended []float64
	final    float64
}

// selectOpts are the per-placement inputs: nodes to penalise (where a
// failed allocation ran before).
type selectOpts struct {
	penalty map[string]bool
}

// tgConstraints are the task group's constraints together with its tasks'
// constraints, as Nomad's TaskGroupConstraints merges them.
func tgConstraints(tg *api.TaskGroup) []*api.Constraint {
	out := append([]*api.Constraint(nil), tg.Constraints...)
	for _, t := range tg.Tasks {
		out = append(out, t.Constraints...)
	}
	return out
}

func tgDrivers(tg *api.TaskGroup) []string {
	var out []string
	for _, t := range tg.Tasks {
		if !contains(out, t.Driver) {
			out = append(out, t.Driver)
		}
	}
	return out
}

func newMetric(p *planCtx) *api.AllocationMetric {
	return &api.AllocationMetric{
		NodesInPool:    len(p.nodes),
		NodePool:       *p.job.NodePool,
		NodesAvailable: cloneMap(p.byDC),
	}
}

func filterNode(m *api.AllocationMetric, n *simNode, reason string) {
	m.NodesFiltered++
	if c := n.node.NodeClass; c != "" {
		if m.ClassFiltered == nil {
			m.ClassFiltered = map[string]int{}
		}
		m.ClassFiltered[c]++
	}
	if reason != "" {
		if m.ConstraintFiltered == nil {
			m.ConstraintFiltered = map[string]int{}
		}
		m.ConstraintFiltered[reason]++
	}
}

func exhaustNode(m *api.AllocationMetric, n *simNode, dim string) {
	m.NodesExhausted++
	if c := n.node.NodeClass; c != "" {
		if m.ClassExhausted == nil {
			m.ClassExhausted = map[string]int{}
		}
		m.ClassExhausted[c]++
	}
	if dim != "" {
		if m.DimensionExhausted == nil {
			m.DimensionExhausted = map[string]int{}
		}
		m.DimensionExhausted[dim]++
	}
}

// selectNode picks the node for one allocation of tg as Nomad's generic
// stack does: shuffled nodes through feasibility checks, bin-packing and
// scoring, the best of the first few that fit. It returns nil and the
// metric that says why when nothing fits.
func (p *planCtx) selectNode(tg *api.TaskGroup, opts selectOpts) (*option, *api.AllocationMetric) {
	start := time.Now()
	m := newMetric(p)
	limit := batchLimit
	if !p.batch && len(p.nodes) > 0 {
		limit = max(limit, int(math.Ceil(math.Log2(float64(len(p.nodes))))))
	}
	if hasAffinities(p.job, tg) || len(p.job.Spreads) > 0 || len(tg.Spreads) > 0 {
		limit = max(*tg.Count, spreadLimitFloor)
	}

	idx := 0
	var ranked []*option
	source := func() *option {
		for idx < len(p.nodes) {
			n := p.nodes[idx]
			idx++
			m.NodesEvaluated++
			if o := p.rank(n, tg, opts, m); o != nil {
				ranked = append(ranked, o)
				return o
			}
		}
		return nil
	}
	var skipped []*option
	skippedIdx := 0
	nextOption := func() *option {
		o := source()
		if o == nil && skippedIdx < len(skipped) {
			o = skipped[skippedIdx]
			skippedIdx++
		}
		return o
	}
	seen := 0
	limitNext := func() *option {
		if seen == limit {
			return nil
		}
		o := nextOption()
		if o == nil {
			return nil
		}
		for o != nil && o.final <= skipScoreThresh && len(skipped) < maxSkip {
			skipped = append(skipped, o)
			o = source()
		}
		seen++
		if o == nil {
			return nextOption()
		}
		return o
	}
	var best *option
	for o := limitNext(); o != nil; o = limitNext() {
		if best == nil || o.final > best.final {
			best = o
		}
	}
	m.AllocationTime = time.Since(start)
	m.ScoreMetaData = topScores(ranked)
	return best, m
}

func topScores(ranked []*option) []*api.NodeScoreMeta {
	sorted := append([]*option(nil), ranked...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].final > sorted[j].final })
	if len(sorted) > maxRetainedScores {
		sorted = sorted[:maxRetainedScores]
	}
	var out []*api.NodeScoreMeta
	for _, o := range sorted {
		out = append(out, &api.NodeScoreMeta{NodeID: o.node.node.ID, Scores: o.scores, NormScore: o.final})
	}
	return out
}

// feasible runs the checks that depend only on the node's fixed
// properties, caching results per computed class as Nomad does unless a
// constraint looks at unique attributes.
func (p *planCtx) feasible(n *simNode, tg *api.TaskGroup, m *api.AllocationMetric) bool {
	jobEscaped := false
	for _, c := range p.job.Constraints {
		if escapes(c) {
			jobEscaped = true
		}
	}
	if jobEscaped {
		p.escaped = true
	} else {
		if p.jobElig[n.class] < 0 {
			filterNode(m, n, filterClassInelig)
			return false
		}
	}
	for _, c := range p.job.Constraints {
		if !nodeMeets(c, n.node) {
			filterNode(m, n, constraintString(c))
			if !jobEscaped {
				p.jobElig[n.class] = -1
			}
			return false
		}
	}
	if !jobEscaped {
		p.jobElig[n.class] = 1
	}

	cons := tgConstraints(tg)
	tgEscaped := false
	for _, c := range cons {
		if escapes(c) {
			tgEscaped = true
		}
	}
	if tgEscaped {
		p.escaped = true
	}
	cache := p.tgElig[*tg.Name]
	if cache == nil {
		cache = map[string]int8{}
		p.tgElig[*tg.Name] = cache
	}
	if !tgEscaped {
		switch cache[n.class] {
		case -1:
			filterNode(m, n, filterClassInelig)
			return false
		case 1:
			return true
		}
	}
	fail := func(reason string) bool {
		filterNode(m, n, reason)
		if !tgEscaped {
			cache[n.class] = -1
		}
		return false
	}
	for _, d := range tgDrivers(tg) {
		if !n.hasDriver(d) {
			return fail(filterMissingDrivers)
		}
	}
	for _, c := range cons {
		if !nodeMeets(c, n.node) {
			return fail(constraintString(c))
		}
	}
	// Simulated nodes have no host volumes and no CSI plugins.
	for _, name := range sortedKeys(tg.Volumes) {
		v := tg.Volumes[name]
		switch v.Type {
		case "csi":
			return fail("missing CSI volume(s) " + v.Source)
		default:
			return fail(filterMissingHostVolumes)
		}
	}
	if !hasDevices(n, tg) {
		return fail(filterMissingDevices)
	}
	if !tgEscaped {
		cache[n.class] = 1
	}
	return true
}

// hasDevices is Nomad's DeviceChecker: the node has enough healthy
// matching devices in total, in use or not.
func hasDevices(n *simNode, tg *api.TaskGroup) bool {
	var reqs []*api.RequestedDevice
	for _, t := range tg.Tasks {
		if t.Resources != nil {
			reqs = append(reqs, t.Resources.Devices...)
		}
	}
	if len(reqs) == 0 {
		return true
	}
	available := map[*deviceGroup]uint64{}
	for _, g := range n.devices {
		var healthy uint64
		for _, h := range g.healthy {
			if h {
				healthy++
			}
		}
		if healthy > 0 {
			available[g] = healthy
		}
	}
	for _, req := range reqs {
		want := deviceCount(req)
		for _, g := range n.devices {
			if want == 0 {
				break
			}
			if available[g] == 0 || !deviceMatches(g, req) {
				continue
			}
			take := min(want, available[g])
			available[g] -= take
			want -= take
		}
		if want > 0 {
			return false
		}
	}
	return true
}

func deviceCount(req *api.RequestedDevice) uint64 {
	if req.Count == nil {
		return 1
	}
	return *req.Count
}

// rank checks one node and, when the task group fits, scores it.
func (p *planCtx) rank(n *simNode, tg *api.TaskGroup, opts selectOpts, m *api.AllocationMetric) *option {
	if !p.feasible(n, tg, m) {
		return nil
	}
	if distinctHosts(p.job.Constraints) && p.collisions(n, "") > 0 {
		filterNode(m, n, opDistinctHosts)
		return nil
	}
	if distinctHosts(tg.Constraints) && p.collisions(n, *tg.Name) > 0 {
		filterNode(m, n, opDistinctHosts)
		return nil
	}
	if reason := p.distinctProperty(n, tg); reason != "" {
		filterNode(m, n, reason)
		return nil
	}

	o, dim := p.fit(n, tg)
	if o == nil {
		exhaustNode(m, n, dim)
		return nil
	}
	p.score(o, tg, opts)
	return o
}

func distinctHosts(cons []*api.Constraint) bool {
	for _, c := range cons {
		if c.Operand == opDistinctHosts && (c.RTarget == "" || strings.EqualFold(c.RTarget, "true")) {
			return true
		}
	}
	return false
}

// distinctProperty applies distinct_property constraints of the job and
// the group: at most RTarget (default 1) of the job's allocations (or the
// group's) per value of the property.
func (p *planCtx) distinctProperty(n *simNode, tg *api.TaskGroup) string {
	check := func(c *api.Constraint, group string) string {
		if c.Operand != opDistinctProperty {
			return ""
		}
		val, ok := resolveNodeTarget(c.LTarget, n.node)
		if !ok {
			return "missing property " + c.LTarget
		}
		limit := 1
		if c.RTarget != "" {
			if v, err := strconv.Atoi(c.RTarget); err == nil && v > 0 {
				limit = v
			}
		}
		used := 0
		for _, other := range p.st.nodes {
			if v, ok := resolveNodeTarget(c.LTarget, other.node); !ok || v != val {
				continue
			}
			used += p.collisions(other, group)
		}
		if used >= limit {
			return "distinct_property: " + c.LTarget + "=" + val + " used by " + strconv.Itoa(used) + " allocs"
		}
		return ""
	}
	for _, c := range p.job.Constraints {
		if r := check(c, ""); r != "" {
			return r
		}
	}
	for _, c := range tg.Constraints {
		if r := check(c, *tg.Name); r != "" {
			return r
		}
	}
	return ""
}

// fit bin-packs the task group onto the node: devices and cores task by
// task, then CPU, memory and disk for the whole group. The dimension that
// ran out is named as Nomad names it.
func (p *planCtx) fit(n *simNode, tg *api.TaskGroup) (*option, string) {
	d := p.delta[n]
	o := &option{node: n, tasks: map[string]*api.AllocatedTaskResources{}, scores: map[string]float64{}}
	takenCores := map[uint16]bool{}
	takenDevices := map[string]bool{}
	for _, t := range tg.Tasks {
		res := t.Resources
		tr := &api.AllocatedTaskResources{}
		if res != nil && res.MemoryMB != nil {
			tr.Memory.MemoryMB = int64(*res.MemoryMB)
			if res.MemoryMaxMB != nil && *res.MemoryMaxMB > 0 {
				tr.Memory.MemoryMaxMB = int64(*res.MemoryMaxMB)
			}
		}
		if res != nil && res.CPU != nil {
			tr.Cpu.CpuShares = int64(*res.CPU)
		}
		if res != nil {
			for _, req := range res.Devices {
				offer := p.deviceOffer(n, d, req, takenDevices)
				if offer == nil {
					return nil, "devices: no devices match request"
				}
				for _, id := range offer.DeviceIDs {
					takenDevices[id] = true
				}
				tr.Devices = append(tr.Devices, offer)
			}
		}
		if res != nil && res.Cores != nil && *res.Cores > 0 {
			want := *res.Cores
			var cores []uint16
			for _, c := range n.cores {
				if !takenCores[c] && !p.coreUsed(n, d, c) {
					cores = append(cores, c)
					if len(cores) == want {
						break
					}
				}
			}
			if len(cores) < want {
				return nil, "cores"
			}
			for _, c := range cores {
				takenCores[c] = true
			}
			tr.Cpu.ReservedCores = cores
			tr.Cpu.CpuShares = int64(want) * n.mhzPerCore
		}
		o.tasks[t.Name] = tr
		o.res.cpu += tr.Cpu.CpuShares
		o.res.mem += tr.Memory.MemoryMB
		o.res.cores = append(o.res.cores, tr.Cpu.ReservedCores...)
		for _, dev := range tr.Devices {
			o.res.devices = append(o.res.devices, dev.DeviceIDs...)
		}
	}
	if tg.EphemeralDisk != nil && tg.EphemeralDisk.SizeMB != nil {
		o.res.disk = int64(*tg.EphemeralDisk.SizeMB)
	}
	var dcpu, dmem, ddisk int64
	if d != nil {
		dcpu, dmem, ddisk = d.cpu, d.mem, d.disk
	}
	switch {
	case n.used.cpu+dcpu+o.res.cpu > n.cpuShares:
		return nil, "cpu"
	case n.used.mem+dmem+o.res.mem > n.memoryMB:
		return nil, "memory"
	case n.used.disk+ddisk+o.res.disk > n.diskMB:
		return nil, "disk"
	}
	sort.Slice(o.res.cores, func(i, j int) bool { return o.res.cores[i] < o.res.cores[j] })
	return o, ""
}

// deviceOffer finds free instances for one device request, preferring the
// group that best meets the request's affinities.
func (p *planCtx) deviceOffer(n *simNode, d *nodeDelta, req *api.RequestedDevice, taken map[string]bool) *api.AllocatedDeviceResource {
	want := int(deviceCount(req))
	var best *api.AllocatedDeviceResource
	bestScore := 0.0
	for _, g := range n.devices {
		if !deviceMatches(g, req) {
			continue
		}
		var ids []string
		for i, id := range g.ids {
			if !g.healthy[i] || taken[id] || p.deviceUsed(n, d, id) {
				continue
			}
			ids = append(ids, id)
			if len(ids) == want {
				break
			}
		}
		if len(ids) < want {
			continue
		}
		score := 0.0
		if len(req.Affinities) > 0 {
			total := 0.0
			for _, a := range req.Affinities {
				w := float64(weight(a.Weight))
				total += math.Abs(w)
				if deviceMeets(a.Operand, a.LTarget, a.RTarget, g) {
					score += w
				}
			}
			if total > 0 {
				score /= total
			}
		}
		if best != nil && score < bestScore {
			continue
		}
		bestScore = score
		best = &api.AllocatedDeviceResource{Vendor: g.vendor, Type: g.typ, Name: g.name, DeviceIDs: ids}
	}
	return best
}

func weight(w *int8) int8 {
	if w == nil {
		return 50
	}
	return *w
}

func hasAffinities(job *api.Job, tg *api.TaskGroup) bool {
	if len(job.Affinities) > 0 || len(tg.Affinities) > 0 {
		return true
	}
	for _, t := range tg.Tasks {
		if len(t.Affinities) > 0 {
			return true
		}
	}
	return false
}

// score adds Nomad's scores for a fitting node: bin-packing, job
// anti-affinity, the rescheduling penalty, node affinities and spread;
// the final score is their mean.
func (p *planCtx) score(o *option, tg *api.TaskGroup, opts selectOpts) {
	n := o.node
	d := p.delta[n]
	var dcpu, dmem int64
	if d != nil {
		dcpu, dmem = d.cpu, d.mem
	}
	freeCPU := 1 - float64(n.used.cpu+dcpu+o.res.cpu)/float64(max(n.cpuShares, 1))
	freeMem := 1 - float64(n.used.mem+dmem+o.res.mem)/float64(max(n.memoryMB, 1))
	fitness := 20.0 - (math.Pow(10, freeCPU) + math.Pow(10, freeMem))
	fitness = math.Max(0, math.Min(binPackingMaxFitScore, fitness))
	o.add("binpack", fitness/binPackingMaxFitScore, true)

	if c := p.collisions(n, *tg.Name); c > 0 {
		o.add("job-anti-affinity", -float64(c+1)/float64(max(*tg.Count, 1)), true)
	} else {
		o.add("job-anti-affinity", 0, false)
	}
	if opts.penalty[n.node.ID] {
		o.add("node-reschedule-penalty", -1, true)
	} else {
		o.add("node-reschedule-penalty", 0, false)
	}
	if hasAffinities(p.job, tg) {
		var affs []*api.Affinity
		affs = append(affs, p.job.Affinities...)
		affs = append(affs, tg.Affinities...)
		for _, t := range tg.Tasks {
			affs = append(affs, t.Affinities...)
		}
		total, sum := 0.0, 0.0
		for _, a := range affs {
			w := float64(weight(a.Weight))
			total += math.Abs(w)
			l, lok := resolveNodeTarget(a.LTarget, n.node)
			r, rok := resolveNodeTarget(a.RTarget, n.node)
			if checkNodeConstraint(a.Operand, l, r, lok, rok) {
				sum += w
			}
		}
		if total > 0 && sum != 0 {
			o.add("node-affinity", sum/total, true)
		}
	}
	if s := p.spreadScore(n, tg); s != 0 {
		o.add("allocation-spread", s, true)
	}
	sum := 0.0
	for _, s := range o.appended {
		sum += s
	}
	o.final = sum / float64(len(o.appended))
	o.scores["normalized-score"] = o.final
}

func (o *option) add(name string, v float64, counts bool) {
	o.scores[name] = v
	if counts {
		o.appended = append(o.appended, v)
	}
}

// spreadScore is Nomad's spread boost: with no targets, favour values of
// the attribute that hold the fewest of this group's allocations; with
// targets, favour values below their desired share, weighted by the
// spread's share of all spread weights. A node without the attribute, or
// with a value no target names, is penalised.
func (p *planCtx) spreadScore(n *simNode, tg *api.TaskGroup) float64 {
	spreads := append(append([]*api.Spread(nil), p.job.Spreads...), tg.Spreads...)
	if len(spreads) == 0 {
		return 0
	}
	sumWeights := 0.0
	for _, s := range spreads {
		sumWeights += float64(weight(s.Weight))
	}
	total := 0.0
	for _, s := range spreads {
		use := p.spreadUsage(s.Attribute, *tg.Name)
		val, ok := resolveNodeTarget(s.Attribute, n.node)
		if !ok {
			total--
			continue
		}
		if len(s.SpreadTarget) == 0 {
			total += evenSpreadBoost(use, val)
			continue
		}
		desired, found := 0.0, false
		percent := 0
		for _, t := range s.SpreadTarget {
			percent += int(t.Percent)
			if t.Value == val {
				desired, found = float64(t.Percent)/100*float64(*tg.Count), true
			}
		}
		if !found {
			// Values no target names share what the targets leave over.
			if percent >= 100 {
				total--
				continue
			}
			desired = float64(100-percent) / 100 * float64(*tg.Count)
		}
		if desired == 0 {
			continue
		}
		used := float64(use[val] + 1)
		total += (desired - used) / desired * float64(weight(s.Weight)) / math.Max(sumWeights, 1)
	}
	return total
}

func (p *planCtx) spreadUsage(attribute, tg string) map[string]int {
	if p.spreadUse == nil {
		p.spreadUse = map[string]map[string]int{}
	}
	key := attribute + "\x00" + tg
	if use, ok := p.spreadUse[key]; ok {
		return use
	}
	use := map[string]int{}
	for _, other := range p.st.nodes {
		if v, ok := resolveNodeTarget(attribute, other.node); ok {
			if c := p.collisions(other, tg); c > 0 {
				use[v] += c
			}
		}
	}
	p.spreadUse[key] = use
	return use
}

func evenSpreadBoost(use map[string]int, val string) float64 {
	if len(use) == 0 {
		return 0
	}
	cur := use[val]
	minC, maxC := 0, 0
	for _, c := range use {
		if minC == 0 || c < minC {
			minC = c
		}
		if maxC == 0 || c > maxC {
			maxC = c
		}
	}
	switch {
	case cur != minC:
		if minC == 0 {
			return -1
		}
		return float64(minC-cur) / float64(minC)
	case minC == maxC:
		return -1
	}
	return float64(maxC-cur) / float64(minC)
}

// exhaustResources fills ResourcesExhausted as Nomad's ExhaustResources:
// the group's CPU and memory asks, when those dimensions ran out.
func exhaustResources(m *api.AllocationMetric, tg *api.TaskGroup) {
	if m.DimensionExhausted == nil {
		return
	}
	if m.ResourcesExhausted == nil {
		m.ResourcesExhausted = map[string]*api.Resources{}
	}
	for _, t := range tg.Tasks {
		r := m.ResourcesExhausted[t.Name]
		if r == nil {
			r = &api.Resources{CPU: new(0), MemoryMB: new(0)}
			m.ResourcesExhausted[t.Name] = r
		}
		if m.DimensionExhausted["memory"] > 0 && t.Resources != nil && t.Resources.MemoryMB != nil {
			r.MemoryMB = new(*r.MemoryMB + *t.Resources.MemoryMB)
		}
		if m.DimensionExhausted["cpu"] > 0 && t.Resources != nil && t.Resources.CPU != nil {
			r.CPU = new(*r.CPU + *t.Resources.CPU)
		}
	}
}
