package jobs

import (
	"slices"
	"strings"

	"github.com/hashicorp/nomad/api"

	"github.com/nomad-tune/tune/planner"
)

// NodeIDTarget is the node attribute a pin constrains: the node's ID,
// which no other node shares and which stays the same for the node's life.
const NodeIDTarget = "${node.unique.id}"

// Constraint operators of a pin. Nomad compares a single-valued attribute
// with "=" by equality, and with set_contains_any by splitting both sides
// at commas and looking for a common element (scheduler/feasible's
// checkSetContainsAny), which for one node ID is "the ID is in the list".
const (
	pinOneNode   = "="
	pinSomeNodes = "set_contains_any"
)

// Pin returns a copy of job whose task groups may only be placed on the
// nodes the assignment chose for them: a constraint on NodeIDTarget per
// group, "=" when every allocation of the group is on one node, and
// set_contains_any over the nodes otherwise. job is left as it was, and
// the copy shares everything else with it (it must not be changed either).
//
// Every allocation of a task group carries the same constraints, so a
// group whose allocations were placed on several nodes is held to those
// nodes, and Nomad chooses which allocation goes where among them: with
// strict_spread (distinct_hosts) each of the nodes gets one, as the
// assignment has it; with pack or spread the allocations of a group are
// alike, so any node with room for one of them takes one, and Nomad
// places the whole group wherever the assignment could, unless another
// group of the same trial takes a shared node's room first. The driver
// plans a pinned job that Nomad would not place again without its pin.
//
// The pin is left out of the spec (Spec): it is where one attempt was
// placed, not what the trial runs, so a job pinned elsewhere is still the
// trial's. A job with a single task group (a strict_pack trial's merged
// group among them) is pinned to every node of the assignment. Pin returns
// nil when the assignment does not say where every group goes (no
// assignment, a group it does not name, an allocation without a node):
// the job is then submitted as it is.
func Pin(job *api.Job, a *planner.Assignment) *api.Job {
	if job == nil || a == nil || len(a.Allocs) == 0 || len(job.TaskGroups) == 0 {
		return nil
	}
	nodes := make([][]string, len(job.TaskGroups))
	for _, al := range a.Allocs {
		if al.NodeID == "" {
			return nil
		}
		gi := 0
		if len(job.TaskGroups) > 1 {
			gi = slices.IndexFunc(job.TaskGroups, func(tg *api.TaskGroup) bool {
				return tg.Name != nil && *tg.Name == al.Group
			})
			if gi < 0 {
				return nil
			}
		}
		if !slices.Contains(nodes[gi], al.NodeID) {
			nodes[gi] = append(nodes[gi], al.NodeID)
		}
	}
	for _, ids := range nodes {
		if len(ids) == 0 {
			return nil
		}
	}
	pinned := *job
	pinned.TaskGroups = make([]*api.TaskGroup, len(job.TaskGroups))
	for i, tg := range job.TaskGroups {
		g := *tg
		g.Constraints = append(slices.Clip(tg.Constraints), pinConstraint(nodes[i]))
		pinned.TaskGroups[i] = &g
	}
	return &pinned
}

// pinConstraint holds a task group to the nodes with the given IDs.
func pinConstraint(nodeIDs []string) *api.Constraint {
	if len(nodeIDs) == 1 {
		return &api.Constraint{LTarget: NodeIDTarget, Operand: pinOneNode, RTarget: nodeIDs[0]}
	}
	return &api.Constraint{LTarget: NodeIDTarget, Operand: pinSomeNodes, RTarget: strings.Join(nodeIDs, ",")}
}
