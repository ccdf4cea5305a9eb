package jobs_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/jobs"
	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/trialenv"
)

func allocs(group string, nodes ...string) []planner.AllocAssignment {
	out := make([]planner.AllocAssignment, len(nodes))
	for i, n := range nodes {
		out[i] = planner.AllocAssignment{Group: group, Index: i, NodeID: n}
	}
	return out
}

func pin(nodes string, op string) *api.Constraint {
	return &api.Constraint{LTarget: "${node.unique.id}", Operand: op, RTarget: nodes}
}

func TestPinHoldsEachGroupToTheNodesOfItsAllocations(t *testing.T) {
	cases := []struct {
		name  string
		file  string
		trial int
		pin   []planner.AllocAssignment
		// want is each task group's pin, in job order.
		want []*api.Constraint
	}{
		{name: "a one-allocation trial is pinned to its node", file: "single_cpu.hcl", trial: 1,
			pin: allocs("main", "n1"), want: []*api.Constraint{pin("n1", "=")}},
		{name: "a group whose allocations share a node is pinned to it", file: "strict_spread.hcl",
			pin: allocs("worker", "n2", "n2", "n2"), want: []*api.Constraint{pin("n2", "=")}},
		{name: "a group on several nodes may use any of them, in rank order", file: "strict_spread.hcl",
			pin: allocs("worker", "n3", "n1", "n2"), want: []*api.Constraint{pin("n3,n1,n2", "set_contains_any")}},
		{name: "a strict_pack trial's one group is pinned to the node of every allocation", file: "strict_pack.hcl",
			pin: append(allocs("worker", "n4", "n4"), allocs("ps", "n4")...), want: []*api.Constraint{pin("n4", "=")}},
		{name: "every group of a gang gets its own pin", file: "gang.hcl",
			pin:  append(append(allocs("worker", "n1", "n2", "n1"), allocs("ps", "n3", "n3")...), allocs("evaluator", "n2")...),
			want: []*api.Constraint{pin("n1,n2", "set_contains_any"), pin("n3", "="), pin("n2", "=")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, trials := load(t, filepath.Join("testdata", tc.file))
			job, diags := jobs.Compile(e, trials[tc.trial], jobs.Options{MHzPerCore: 2400})
			require.False(t, diags.HasErrors(), diags.Error())
			before := string(jobJSON(t, job))

			pinned := jobs.Pin(job, &planner.Assignment{Allocs: tc.pin})

			require.NotNil(t, pinned)
			require.Len(t, pinned.TaskGroups, len(tc.want))
			for i, tg := range pinned.TaskGroups {
				want := append(slices.Clone(job.TaskGroups[i].Constraints), tc.want[i])
				assert.Equal(t, want, tg.Constraints, "group %s keeps its own constraints and gets the pin", *tg.Name)
			}
			assert.Equal(t, before, string(jobJSON(t, job)), "the job pinned is left as it was")
			spec, diags := jobs.Spec(e, trials[tc.trial])
			require.False(t, diags.HasErrors(), diags.Error())
			assert.Equal(t, spec, pinned.Meta[trialenv.MetaSpec], "the pin is not part of what the trial runs")
		})
	}
}

func TestPinLeavesAJobItCannotPinWhole(t *testing.T) {
	e, trials := load(t, filepath.Join("testdata", "gang.hcl"))
	job, diags := jobs.Compile(e, trials[0], jobs.Options{MHzPerCore: 2400})
	require.False(t, diags.HasErrors(), diags.Error())
	whole := append(append(allocs("worker", "n1", "n2", "n1"), allocs("ps", "n3", "n3")...), allocs("evaluator", "n2")...)
	require.NotNil(t, jobs.Pin(job, &planner.Assignment{Allocs: whole}), "the whole assignment pins")

	cases := []struct {
		name string
		a    *planner.Assignment
	}{
		{name: "no assignment (a trial queued in Nomad holds nothing)", a: nil},
		{name: "an empty assignment", a: &planner.Assignment{}},
		{name: "a group the assignment does not place", a: &planner.Assignment{Allocs: whole[:5]}},
		{name: "a group the job does not have", a: &planner.Assignment{Allocs: append(allocs("other", "n1"), whole...)}},
		{name: "an allocation without a node", a: &planner.Assignment{Allocs: append(allocs("worker", ""), whole[1:]...)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Nil(t, jobs.Pin(job, tc.a))
		})
	}
}
