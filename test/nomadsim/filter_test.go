package nomadsim

import (
	"testing"

	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFilterExpressions(t *testing.T) {
	job := mockJob("tune-exp-1", 1, nil)
	job.Meta = map[string]string{"tune.experiment": "quad", "attempt": "2"}
	job.Datacenters = []string{"dc1", "dc2"}
	canonicalize(job)
	job.Status = new("running")
	d := jobDatum(job)

	cases := []struct {
		name string
		expr string
		want bool
	}{
		{"meta equality by index", `Meta["tune.experiment"] == "quad"`, true},
		{"meta equality by dotted selector", `Meta.attempt == "2"`, true},
		{"meta inequality", `Meta["tune.experiment"] != "quad"`, false},
		{"a missing meta key is not equal", `Meta["nope"] == "x"`, false},
		{"a missing meta key is unequal", `Meta["nope"] != "x"`, true},
		{"key membership", `"attempt" in Meta`, true},
		{"key absence", `"nope" not in Meta`, true},
		{"list contains", `Datacenters contains "dc2"`, true},
		{"value in list", `"dc3" in Datacenters`, false},
		{"and", `Status == "running" and Type == "batch"`, true},
		{"or", `Status == "dead" or Name == "tune-exp-1"`, true},
		{"not with parentheses", `not (Status == "dead" or Stop == true)`, true},
		{"number", `Priority == 50`, true},
		{"regexp", `ID matches "^tune-exp-[0-9]+$"`, true},
		{"raw string", "Namespace == `default`", true},
		{"empty", `Meta is not empty`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := parseFilter(tc.expr)
			require.NoError(t, err)
			got, err := f.match(d)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}

	t.Run("syntax errors name what the simulator supports", func(t *testing.T) {
		for _, expr := range []string{`Status = "x"`, `Status ==`, `(Status == "x"`, `Status == running`} {
			_, err := parseFilter(expr)
			require.Error(t, err, expr)
			assert.Contains(t, err.Error(), "supported filter syntax")
		}
	})

	t.Run("an unknown field is an evaluation error naming the fields", func(t *testing.T) {
		f, err := parseFilter(`Colour == "red"`)
		require.NoError(t, err)
		_, err = f.match(d)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "Meta")
	})
}

func TestJobListing(t *testing.T) {
	t.Run("jobs are listed by prefix and by a filter on their meta", func(t *testing.T) {
		_, c := startSim(t, Options{})
		for _, id := range []string{"tune-a-1", "tune-a-2", "tune-b-1", "other"} {
			job := mockJob(id, 1, longRunning)
			job.SetMeta("experiment", id[:min(6, len(id))])
			_, _, err := c.Jobs().Register(job, nil)
			require.NoError(t, err)
		}
		byPrefix, _, err := c.Jobs().PrefixList("tune-")
		require.NoError(t, err)
		assert.Len(t, byPrefix, 3)
		assert.Nil(t, byPrefix[0].Meta, "meta is only listed when asked for")

		filtered, _, err := c.Jobs().ListOptions(&api.JobListOptions{Fields: &api.JobListFields{Meta: true}},
			&api.QueryOptions{Filter: `Meta["experiment"] == "tune-a"`})
		require.NoError(t, err)
		require.Len(t, filtered, 2)
		assert.Equal(t, "tune-a-1", filtered[0].ID)
		assert.Equal(t, "tune-a", filtered[0].Meta["experiment"])
		assert.NotNil(t, filtered[0].JobSummary)

		_, _, err = c.Jobs().List(&api.QueryOptions{Filter: `Meta[experiment] == 1`})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "400")
		assert.Contains(t, err.Error(), "failed to read filter expression")
	})

	t.Run("allocations, evaluations and nodes take filters too", func(t *testing.T) {
		srv, c := startSim(t, Options{Nodes: []NodeSpec{{Count: 2}, {Count: 1, NodePool: "gpu", GPUs: 1}}})
		_, _, err := c.Jobs().Register(mockJob("f", 2, longRunning), nil)
		require.NoError(t, err)
		waitIdle(t, srv)
		allocs, _, err := c.Allocations().List(&api.QueryOptions{Filter: `JobID == "f" and TaskGroup == "main"`})
		require.NoError(t, err)
		assert.Len(t, allocs, 2)
		evals, _, err := c.Evaluations().List(&api.QueryOptions{Filter: `TriggeredBy == "job-register"`})
		require.NoError(t, err)
		assert.Len(t, evals, 1)
		nodes, _, err := c.Nodes().List(&api.QueryOptions{Filter: `NodePool == "gpu"`})
		require.NoError(t, err)
		assert.Len(t, nodes, 1)
	})
}
