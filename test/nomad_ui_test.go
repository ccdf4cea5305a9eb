//go:build unix

package test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/jobs"
	"github.com/nomad-tune/tune/test/nomadsim"
)

func TestNomadUIShowsEachTrialsMetricsAndTheExperimentsSummaryUntilPurged(t *testing.T) {
	w := newNomadWorkspace(t)
	w.needs(t, clusterNeeds{drivers: []string{"mock_driver"}})
	w.write(t, "exp.hcl", reportingExperiment(w.name, 3, "100ms"))
	r := w.apply(t)
	require.Equal(t, 0, r.code, "%s%s", r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "Nomad UI: "+strings.TrimSuffix(w.addr, "/")+jobs.JobsListPath(w.name))
	assert.Contains(t, r.stdout, "Summary:  "+strings.TrimSuffix(w.addr, "/")+jobs.SummaryVariablePath(w.name, ""))

	c := w.client(t)
	stubs := w.jobsOf(t)
	require.Len(t, stubs, 3)
	best := 2.0
	for _, s := range stubs {
		// The job's only group is "trial": the Variables tab shows its
		// Variable.
		v, _, err := c.Variables().Peek("nomad/jobs/"+s.ID+"/trial", &api.QueryOptions{Namespace: s.Namespace})
		require.NoError(t, err)
		require.NotNil(t, v, "job %s has no Variable", s.ID)
		assert.Equal(t, "TERMINATED", v.Items["status"], "%s", s.ID)
		assert.Equal(t, w.name, v.Items["experiment"])
		assert.Equal(t, v.Items["latest_loss"], v.Items["best_loss"], "one report: the latest is the best")
		loss, err := strconv.ParseFloat(v.Items["best_loss"], 64)
		require.NoError(t, err, "%v", v.Items)
		best = min(best, loss)
	}
	sum, _, err := c.Variables().Peek(jobs.SummaryPath(w.name), nil)
	require.NoError(t, err)
	require.NotNil(t, sum, "no summary Variable")
	assert.Equal(t, "3", sum.Items["terminated"])
	assert.Equal(t, "3 of 3 trials finished", sum.Items["progress"])
	assert.Equal(t, strconv.FormatFloat(best, 'g', -1, 64), sum.Items["best_loss"])
	assert.Contains(t, sum.Items["best_params"], `"x":`)

	st := w.tune(t, "status", w.name)
	require.Equal(t, 0, st.code, st.stderr)
	assert.Contains(t, st.stdout, "Summary:  ")

	r = w.tune(t, "stop", "-purge", w.name)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, fmt.Sprintf("Deleted %d Nomad Variables", len(stubs)+1))
	for _, path := range []string{"nomad/jobs/" + stubs[0].ID + "/trial", jobs.SummaryPath(w.name)} {
		v, _, err := c.Variables().Peek(path, nil)
		require.NoError(t, err)
		assert.Nil(t, v, "%s outlives tune stop -purge", path)
	}
}

func TestNomadWithoutPermissionToWriteVariablesApplyWarnsOnceAndRunsTheExperiment(t *testing.T) {
	srv, err := nomadsim.Start(nomadsim.Options{DenyVariableWrites: true, Nodes: []nomadsim.NodeSpec{{Count: 1, Cores: 8, MHz: 2400, MemoryMiB: 8192}}})
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	w := newWorkspace(t)
	w.write(t, "exp.hcl", reportingExperiment("novars", 3, "100ms"))
	// Without the lease, which needs Variables too.
	r := tune(t, w.dir, "apply", "exp.hcl", "-results", w.results, "-progress", "plain", "-lock=false", "-address", srv.URL())
	require.Equal(t, 0, r.code, "%s%s", r.stdout, r.stderr)
	assert.Equal(t, 1, strings.Count(r.stderr, "may not write Variables"), r.stderr)
	assert.Contains(t, r.stdout, "Number of trials: 3 (3 TERMINATED)")
}
