package nomad

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/nomad/api"

	"github.com/nomad-tune/tune/experiment"
)

// Unfit is Nomad's scheduler's account of a job it could not place whole
// now, from a dry run (Jobs().Plan).
type Unfit struct {
	// Group is the first task group, in job order, that Nomad could not
	// place in full.
	Group string
	// Failed are Nomad's placement metrics of every group it could not
	// place, by group name.
	Failed map[string]*api.AllocationMetric

	reason string
}

// Reason is a one-line account in Nomad's terms, such as "no node has 8
// free nvidia/gpu: devices exhausted on 12 nodes".
func (u *Unfit) Reason() string {
	if u == nil {
		return ""
	}
	return u.reason
}

// Never says no node of the cluster could hold the job even if it were
// empty: for some group, every node Nomad evaluated was filtered out (by
// constraints, missing drivers or devices, the node pool's nodes not
// matching, distinct hosts). Nodes that are only short of free resources
// now may hold it later, and so may datacenters or a pool without a ready
// node (Nomad counts a node that is down like one that does not exist):
// those are not never.
func (u *Unfit) Never() bool {
	if u == nil {
		return false
	}
	for _, m := range u.Failed {
		if m != nil && m.NodesEvaluated > 0 && m.NodesExhausted == 0 && m.NodesFiltered >= m.NodesEvaluated {
			return true
		}
	}
	return false
}

// DryRun asks Nomad's scheduler whether the job would be placed whole on
// the cluster as it is now. Nothing is registered. A nil Unfit means every
// allocation would be placed.
func (d *Driver) DryRun(ctx context.Context, job *api.Job) (*Unfit, error) {
	var resp *api.JobPlanResponse
	err := d.retry(ctx, "plan job", func() error {
		var err error
		resp, _, err = d.client.Jobs().Plan(job, false, d.writeOpts(ctx))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("planning job %s: %w", jobName(job), err)
	}
	return unfitOf(job, resp.FailedTGAllocs), nil
}

func jobName(job *api.Job) string {
	if job != nil && job.ID != nil {
		return *job.ID
	}
	return "(no ID)"
}

// unfitOf explains the placement failures of a plan; nil when there are
// none.
func unfitOf(job *api.Job, failed map[string]*api.AllocationMetric) *Unfit {
	var groups []string
	for name, m := range failed {
		if m != nil {
			groups = append(groups, name)
		}
	}
	if len(groups) == 0 {
		return nil
	}
	// Job order, so the reason names the group a reader meets first.
	order := map[string]int{}
	if job != nil {
		for i, tg := range job.TaskGroups {
			if tg != nil && tg.Name != nil {
				order[*tg.Name] = i + 1
			}
		}
	}
	sort.Slice(groups, func(i, j int) bool {
		oi, oj := order[groups[i]], order[groups[j]]
		if oi != oj && oi != 0 && oj != 0 {
			return oi < oj
		}
		if (oi == 0) != (oj == 0) {
			return oi != 0
		}
		return groups[i] < groups[j]
	})
	first := groups[0]
	reason := metricReason(groupOf(job, first), failed[first])
	if job != nil && len(job.TaskGroups) > 1 {
		reason = fmt.Sprintf("group %q: %s", first, reason)
	}
	if len(groups) > 1 {
		reason += fmt.Sprintf(" (and %d more %s not placed)", len(groups)-1, plural(len(groups)-1, "group", "groups"))
	}
	return &Unfit{Group: first, Failed: failed, reason: reason}
}

func groupOf(job *api.Job, name string) *api.TaskGroup {
	if job == nil {
		return nil
	}
	for _, tg := range job.TaskGroups {
		if tg != nil && tg.Name != nil && *tg.Name == name {
			return tg
		}
	}
	return nil
}

// metricReason explains one group's placement failure in one line, in
// the words `nomad job plan` uses, leading with what most likely matters:
// no node at all, every node filtered out, or the resource the most nodes
// ran out of.
func metricReason(tg *api.TaskGroup, m *api.AllocationMetric) string {
	var b strings.Builder
	switch {
	case m.NodesEvaluated == 0:
		b.WriteString(noNodesReason(m))
	case m.NodesExhausted == 0 && m.NodesFiltered > 0:
		if need := groupNeeds(tg); len(need.devices) > 0 {
			if reasons := filterCounts(m); len(reasons) > 0 && reasons[0].what == missingDevices {
				// Nodes with fewer devices than asked for are filtered,
				// not exhausted; say what was asked for.
				fmt.Fprintf(&b, "no node has %s: ", need.deviceText(""))
			}
		}
		b.WriteString(filteredReason(m))
	case m.NodesExhausted > 0:
		b.WriteString(exhaustedReason(tg, m))
		if m.NodesFiltered > 0 {
			fmt.Fprintf(&b, "; %s", filteredBrief(m))
		}
	default:
		fmt.Fprintf(&b, "not placed on any of %d evaluated %s", m.NodesEvaluated, plural(m.NodesEvaluated, "node", "nodes"))
	}
	if len(m.QuotaExhausted) > 0 {
		fmt.Fprintf(&b, "; quota limit hit: %s", strings.Join(m.QuotaExhausted, ", "))
	}
	if n := m.CoalescedFailures + 1; n > 1 {
		fmt.Fprintf(&b, " (%s not placed)", experiment.Count(n, "allocation"))
	}
	return b.String()
}

func noNodesReason(m *api.AllocationMetric) string {
	var empty []string
	for dc, n := range m.NodesAvailable {
		if n == 0 {
			empty = append(empty, fmt.Sprintf("%q", dc))
		}
	}
	sort.Strings(empty)
	switch {
	case len(empty) > 0:
		return fmt.Sprintf("no nodes are available in %s %s", plural(len(empty), "datacenter", "datacenters"), strings.Join(empty, ", "))
	case m.NodePool != "":
		return fmt.Sprintf("no nodes were eligible for evaluation (node pool %q has %d)", m.NodePool, m.NodesInPool)
	}
	return "no nodes were eligible for evaluation"
}

// filteredReason explains a group that every node was filtered out for.
func filteredReason(m *api.AllocationMetric) string {
	reasons := filterCounts(m)
	nodes := fmt.Sprintf("%d %s", m.NodesFiltered, plural(m.NodesFiltered, "node", "nodes"))
	if m.NodesFiltered == 1 {
		nodes = "the only node"
	} else if m.NodesFiltered == m.NodesEvaluated {
		nodes = "all " + nodes
	}
	if len(reasons) == 1 {
		return fmt.Sprintf("%s filtered %s", reasons[0].what, nodes)
	}
	parts := make([]string, len(reasons))
	for i, r := range reasons {
		parts[i] = fmt.Sprintf("%s (%d)", r.what, r.nodes)
	}
	if len(parts) == 0 {
		return fmt.Sprintf("%s filtered out", nodes)
	}
	return fmt.Sprintf("%s filtered out: %s", nodes, strings.Join(parts, ", "))
}

// filteredBrief is the filter part of a reason that leads with something
// else.
func filteredBrief(m *api.AllocationMetric) string {
	reasons := filterCounts(m)
	text := fmt.Sprintf("%d %s filtered out", m.NodesFiltered, plural(m.NodesFiltered, "node", "nodes"))
	if len(reasons) > 0 {
		text += " by " + reasons[0].what
		if len(reasons) > 1 {
			text += " and others"
		}
	}
	return text
}

type filterCount struct {
	what  string
	nodes int
}

const (
	// missingDevices is Nomad's filter reason for a node without enough
	// healthy instances of a requested device.
	missingDevices = "missing devices"
	// classIneligible is Nomad's filter reason for a node whose computed
	// class an earlier node already failed the checks for: the nodes
	// share that node's reason, which Nomad does not repeat.
	classIneligible = "computed class ineligible"
)

// filterCounts lists what filtered nodes out, most nodes first.
func filterCounts(m *api.AllocationMetric) []filterCount {
	var out []filterCount
	sameClass := 0
	for c, n := range m.ConstraintFiltered {
		what := "constraint " + c
		switch {
		case c == classIneligible:
			sameClass = n
			continue
		case strings.HasPrefix(c, "missing ") || c == "distinct_hosts" || c == "distinct_property":
			// Nomad's own checks read better without the word.
			what = c
		}
		out = append(out, filterCount{what, n})
	}
	for class, n := range m.ClassFiltered {
		out = append(out, filterCount{fmt.Sprintf("node class %q", class), n})
	}
	switch {
	case sameClass == 0:
	case len(out) == 1:
		out[0].nodes += sameClass
	default:
		out = append(out, filterCount{"the checks of nodes of the same class", sameClass})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].nodes != out[j].nodes {
			return out[i].nodes > out[j].nodes
		}
		return out[i].what < out[j].what
	})
	return out
}

// exhaustedReason names the dimension the most nodes ran out of, with what
// the group asks of it.
func exhaustedReason(tg *api.TaskGroup, m *api.AllocationMetric) string {
	dim, count := "", 0
	for d, n := range m.DimensionExhausted {
		if n > count || n == count && d < dim {
			dim, count = d, n
		}
	}
	if dim == "" {
		return fmt.Sprintf("resources exhausted on %d %s", m.NodesExhausted, plural(m.NodesExhausted, "node", "nodes"))
	}
	on := fmt.Sprintf("on %d %s", count, plural(count, "node", "nodes"))
	need := groupNeeds(tg)
	switch {
	case dim == "cpu" && need.cpu > 0:
		return fmt.Sprintf("no node has %d MHz of free cpu: cpu exhausted %s", need.cpu, on)
	case dim == "memory" && need.memory > 0:
		return fmt.Sprintf("no node has %d MiB of free memory: memory exhausted %s", need.memory, on)
	case dim == "cores" && need.cores > 0:
		return fmt.Sprintf("no node has %d free reservable cores: cores exhausted %s", need.cores, on)
	case strings.HasPrefix(dim, "devices"):
		if len(need.devices) > 0 {
			return fmt.Sprintf("no node has %s: devices exhausted %s", need.deviceText("free "), on)
		}
		return fmt.Sprintf("%s %s", dim, on)
	}
	return fmt.Sprintf("dimension %q exhausted %s", dim, on)
}

// needs is what one allocation of a group asks for, added over its tasks.
type needs struct {
	cpu, memory, cores int
	devices            map[string]uint64
}

func groupNeeds(tg *api.TaskGroup) needs {
	n := needs{devices: map[string]uint64{}}
	if tg == nil {
		return n
	}
	for _, t := range tg.Tasks {
		if t == nil || t.Resources == nil {
			continue
		}
		r := t.Resources
		if r.CPU != nil {
			n.cpu += *r.CPU
		}
		if r.MemoryMB != nil {
			n.memory += *r.MemoryMB
		}
		if r.Cores != nil {
			n.cores += *r.Cores
		}
		for _, dev := range r.Devices {
			if dev != nil {
				count := uint64(1)
				if dev.Count != nil {
					count = *dev.Count
				}
				n.devices[dev.Name] += count
			}
		}
	}
	return n
}

func (n needs) deviceText(adjective string) string {
	names := make([]string, 0, len(n.devices))
	for name := range n.devices {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = fmt.Sprintf("%d %s%s", n.devices[name], adjective, name)
	}
	return strings.Join(parts, " and ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
