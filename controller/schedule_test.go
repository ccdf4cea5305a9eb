package controller

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/results"
)

const ashaBlock = `scheduler "asha" {
    max_t            = 4
    reduction_factor = 2
  }`

func TestASchedulerStopsATrialAndItsResourcesGoToTheNextTrial(t *testing.T) {
	f := newFixture(t, experimentFile(3, ashaBlock))
	// One trial at a time: trial 2 can start only once trial 1 is stopped.
	d := newFakeDriver(localCapacity(1, 0), func(tr *planner.Trial, _ int) script {
		switch tr.Index {
		case 0:
			return script{hold: true, reports: []map[string]any{loss(1), loss(0.9), loss(0.8), loss(0.7)}}
		case 1:
			return script{hold: true, reports: []map[string]any{loss(5)}}
		}
		return script{reports: []map[string]any{loss(0.5)}}
	})
	out := f.run(t, context.Background(), d, nil)
	assert.Equal(t, StatusFinished, out.Status)
	ids := []string{f.trials[0].ID, f.trials[1].ID, f.trials[2].ID}
	pruned := "asha: at rung training_iteration = 1, loss 5 is above the cut-off 1 of 1 trial"
	assert.Equal(t, []string{
		ids[0] + ": reached max_t: training_iteration 4 >= 4",
		ids[1] + ": " + pruned,
	}, d.stops)
	assert.Equal(t, []string{ids[0] + "#0", ids[1] + "#0", ids[2] + "#0"}, d.starts)
	recs := f.store.Records()
	assert.Equal(t, map[results.Status]int{results.Terminated: 3}, statuses(recs))
	assert.Equal(t, pruned, recs[1].StopReason)
	assert.Equal(t, 1, recs[1].Iterations)
	assert.Empty(t, recs[2].StopReason, "a trial that ends by itself has no stop reason")
}

func TestAResumedRunRebuildsTheRungsFromTheResultsFolder(t *testing.T) {
	f := newFixture(t, experimentFile(3, ashaBlock))
	ctx, cancel := context.WithCancel(context.Background())
	d := newFakeDriver(localCapacity(1, 0), func(tr *planner.Trial, _ int) script {
		if tr.Index == 1 {
			cancel()
			return script{hold: true}
		}
		return script{reports: []map[string]any{loss(1)}}
	})
	out := f.run(t, ctx, d, nil)
	require.Equal(t, StatusStopped, out.Status)
	require.Equal(t, results.Terminated, f.store.Records()[0].Status)
	require.NoError(t, f.store.Close())

	f.open(t)
	again := newFakeDriver(localCapacity(1, 0), func(tr *planner.Trial, _ int) script {
		if tr.Index == 1 {
			return script{hold: true, reports: []map[string]any{loss(5)}}
		}
		return script{reports: []map[string]any{loss(0.5)}}
	})
	out = f.run(t, context.Background(), again, nil)
	assert.Equal(t, StatusFinished, out.Status)
	// Judged against trial 0's report of the first run: without it,
	// trial 1 would be the first at its rung and go on.
	assert.Equal(t, []string{f.trials[1].ID + ": asha: at rung training_iteration = 1, loss 5 is above the cut-off 1 of 1 trial"}, again.stops)
	assert.Equal(t, map[results.Status]int{results.Terminated: 3}, statuses(f.store.Records()))
}

func TestAResultsFolderWithABrokenReportIsRefusedOnResume(t *testing.T) {
	f := newFixture(t, experimentFile(2, ashaBlock))
	d := newFakeDriver(localCapacity(1, 0), func(tr *planner.Trial, _ int) script {
		return script{reports: []map[string]any{loss(1)}}
	})
	require.Equal(t, StatusFinished, f.run(t, context.Background(), d, nil).Status)
	require.NoError(t, f.store.Close())
	path := results.TrialDir(f.root, f.exp.Name, f.trials[0].ID) + "/" + results.ResultFile
	require.NoError(t, os.WriteFile(path, []byte("{\"loss\": 1}\nnot json\n"), 0o644))

	f.open(t)
	_, err := Run(context.Background(), Options{Experiment: f.exp, Trials: f.trials, Driver: d, Store: f.store, Target: "local"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), path+":2: not a report written by tune")
}
