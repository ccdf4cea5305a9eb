package controller

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/results"
)

const tpeFile = `experiment "tpe" {
  metric                = "loss"
  mode                  = "min"
  num_samples           = 14
  max_concurrent_trials = 1
  seed                  = 4
  search "tpe" {
    startup_trials = 4
  }
  space {
    x = uniform(0, 1)
  }
  task "train" {
    command = "true"
  }
}
`

// bowl reports (x - 0.8)² as the trial's loss; trials at or past index
// holdFrom keep running until stopped.
func bowl(holdFrom int) func(tr *planner.Trial, _ int) script {
	return func(tr *planner.Trial, _ int) script {
		x, _ := tr.Values[0].AsBigFloat().Float64()
		if tr.Index >= holdFrom {
			return script{hold: true}
		}
		return script{reports: []map[string]any{loss((x - 0.8) * (x - 0.8))}}
	}
}

func paramsByID(records []*results.TrialRecord) map[string]any {
	out := map[string]any{}
	for _, r := range records {
		out[r.ID] = r.Params["x"]
	}
	return out
}

func TestTPETrialsGetTheirValuesAsTheyStartAndOneAtATimeIsReproducible(t *testing.T) {
	run := func() (*fixture, *Outcome) {
		f := newFixture(t, tpeFile)
		out := f.run(t, context.Background(), newFakeDriver(localCapacity(2, 0), bowl(1000)), nil)
		require.Equal(t, StatusFinished, out.Status)
		return f, out
	}
	a, outA := run()
	b, _ := run()
	assert.Equal(t, paramsByID(a.store.Records()), paramsByID(b.store.Records()), "the same file and seed give the same trials")

	planned, _ := planner.Trials(a.exp)
	moved := 0
	for i, rec := range a.store.Records() {
		assert.Equal(t, planned[i].ID, rec.ID, "trial IDs do not depend on suggested values")
		random := planned[i].Params(&a.exp.Space)["x"]
		if i < 4 {
			assert.Equal(t, random, rec.Params["x"], "startup trial %d has random search's value", i)
		} else if random != rec.Params["x"] {
			moved++
		}
	}
	assert.Equal(t, 10, moved, "every trial after the startup ones is suggested")
	best, _ := outA.Best.Params["x"].(float64)
	assert.InDelta(t, 0.8, best, 0.1, "the best trial is near the optimum")
}

func TestAResumedTPERunRebuildsItsSearcherFromTheResultsFolder(t *testing.T) {
	straight := newFixture(t, tpeFile)
	require.Equal(t, StatusFinished, straight.run(t, context.Background(), newFakeDriver(localCapacity(2, 0), bowl(1000)), nil).Status)

	// Killed while trial 7 runs: trials 0-6 are done, 7 was suggested and
	// started.
	f := newFixture(t, tpeFile)
	ctx, cancel := context.WithCancel(context.Background())
	rep := &funcReporter{changed: func(c Change, _ *Snapshot) {
		if c.Kind == TrialStarted && c.Trial.Index == 7 {
			cancel()
		}
	}}
	require.Equal(t, StatusStopped, f.run(t, ctx, newFakeDriver(localCapacity(2, 0), bowl(7)), rep).Status)
	started := f.store.Records()[7].Params["x"]
	require.NotNil(t, started)
	require.NoError(t, f.store.Close())

	// A new process plans the trials afresh and opens the same folder.
	trials, diags := planner.Trials(f.exp)
	require.False(t, diags.HasErrors())
	f.trials = trials
	f.open(t)
	d := newFakeDriver(localCapacity(2, 0), bowl(1000))
	require.Equal(t, StatusFinished, f.run(t, context.Background(), d, nil).Status)

	assert.Len(t, d.starts, 7, "trials 7-13 run; none of the finished ones again")
	assert.Equal(t, started, f.store.Records()[7].Params["x"], "the trial started before keeps its value")
	assert.Equal(t, paramsByID(straight.store.Records()), paramsByID(f.store.Records()), "the resumed run suggests what the straight run did")
}
