//go:build unix

package test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scaledExperiment reports x × var.scale: another scale is another
// definition of the same trials (same IDs, other jobs).
func scaledExperiment(name string) string {
	return `variable "scale" {
  type    = number
  default = 1
}
` + strings.Replace(reportingExperiment(name, 3, "200ms"), "${trial.x}}", "${trial.x * var.scale}}", 1)
}

func TestNomadAChangedExperimentNeverTakesTheOldJobsResults(t *testing.T) {
	w := newNomadWorkspace(t)
	w.needs(t, clusterNeeds{drivers: []string{"mock_driver"}})
	w.write(t, "exp.hcl", scaledExperiment(w.name))
	r := w.apply(t)
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	var ids []string
	for id := range w.trialFiles(t, w.name) {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	require.Len(t, ids, 3)

	r = w.tune(t, "plan", "exp.hcl")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "+ 0 new")
	assert.Contains(t, r.stdout, "= 3 unchanged (3 done, 0 running)")
	assert.Contains(t, r.stdout, "~ 0 changed")

	r = w.tune(t, "plan", "exp.hcl", "-var", "scale=2", "-json")
	require.Equal(t, 0, r.code, r.stderr)
	p := planOf(t, r)
	require.NotNil(t, p.Jobs, "a plan on a cluster compares with its jobs")
	assert.Equal(t, ids, p.Jobs.Changed)
	assert.Equal(t, 0, p.Jobs.New)
	assert.Equal(t, 0, p.Jobs.Unchanged)

	// A new results folder does not make the old jobs this definition's.
	other := filepath.Join(w.dir, "other-results")
	r = w.apply(t, "-var", "scale=2", "-results", other)
	assert.Equal(t, 1, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	for _, id := range ids {
		assert.Contains(t, r.stderr, id)
	}
	assert.Contains(t, r.stderr, "tune apply -replace exp.hcl")
	assert.Contains(t, r.stderr, "another name")
	_, err := os.Stat(other)
	assert.True(t, os.IsNotExist(err), "a refused apply writes no results")
	assert.Equal(t, map[uint64]int{0: 3}, w.jobVersions(t), "a refused apply registers nothing")

	r = w.apply(t, "-var", "scale=2", "-results", other, "-replace")
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	ow := &workspace{dir: w.dir, results: other}
	recs := ow.trialFiles(t, w.name)
	require.Len(t, recs, 3)
	for id, rec := range recs {
		assert.Equal(t, "TERMINATED", rec.Status, id)
		x, ok := rec.Params["x"].(float64)
		require.True(t, ok)
		assert.InDelta(t, 2*x, rec.LastResult["loss"], 1e-9, "trial %s reports the new definition's result", id)
	}
	assert.Equal(t, map[uint64]int{1: 3}, w.jobVersions(t), "each trial ran again as a new version of its job")

	r = w.tune(t, "plan", "exp.hcl", "-var", "scale=2")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "= 3 unchanged (3 done, 0 running)")
}

// jobVersions counts the experiment's jobs by their current version.
func (w *nomadWorkspace) jobVersions(t *testing.T) map[uint64]int {
	t.Helper()
	out := map[uint64]int{}
	for _, j := range w.jobsOf(t) {
		job, _, err := w.client(t).Jobs().Info(j.ID, nil)
		require.NoError(t, err)
		out[*job.Version]++
	}
	return out
}

func TestNomadAChangedExperimentNeverKeepsTheResultsOfJobsNomadNoLongerHolds(t *testing.T) {
	w := newNomadWorkspace(t)
	w.needs(t, clusterNeeds{drivers: []string{"mock_driver"}})
	w.write(t, "exp.hcl", scaledExperiment(w.name))
	r := w.apply(t)
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	// Nomad collects dead batch jobs after a few hours; tune stop -purge
	// does the same at once.
	r = w.tune(t, "stop", "-purge", w.name)
	require.Equal(t, 0, r.code, r.stderr)
	require.Empty(t, w.jobsOf(t))

	r = w.apply(t, "-var", "scale=2")
	assert.Equal(t, 1, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	assert.Contains(t, r.stderr, "tune apply -replace exp.hcl")
	assert.Empty(t, w.jobsOf(t), "a refused apply registers nothing")

	r = w.apply(t, "-var", "scale=2", "-replace")
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	recs := w.trialFiles(t, w.name)
	require.Len(t, recs, 3)
	for id, rec := range recs {
		x, ok := rec.Params["x"].(float64)
		require.True(t, ok)
		assert.InDelta(t, 2*x, rec.LastResult["loss"], 1e-9, "trial %s reports the new definition's result", id)
	}

	r = w.apply(t, "-var", "scale=2")
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "3 of 3 trials are already done", "the same definition keeps its results")
}
