package controller

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/clock"
	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/results"
)

func openEndedFile(search, stop string) string {
	return fmt.Sprintf(`experiment "open" {
  metric      = "loss"
  mode        = "min"
  num_samples = -1
  space {
    x = uniform(0, 1)
  }
  %s
  stop {
    %s
  }
  task "train" {
    command = "true"
  }
}
`, search, stop)
}

// sameAsPlanned asserts that each record holds the trial the planner
// gives its index: an open-ended run draws trial i as a counted one does.
func sameAsPlanned(t *testing.T, f *fixture, recs []*results.TrialRecord) {
	t.Helper()
	planned, diags := planner.TrialRange(f.exp, 0, len(recs))
	require.False(t, diags.HasErrors(), diags.Error())
	for i, rec := range recs {
		assert.Equal(t, i, rec.Index)
		assert.Equal(t, planned[i].ID, rec.ID)
		assert.Equal(t, planned[i].Params(&f.exp.Space), rec.Params, "trial %d", i)
	}
}

func TestAnOpenEndedRunStartsTrialsUntilTheTimeBudgetIsSpent(t *testing.T) {
	f := newFixture(t, openEndedFile("", `time_budget = "1h"
    trial_timeout = "7m"`))
	require.Len(t, f.trials, 1, "the plan holds one pass over the (empty) grid")
	d := newFakeDriver(localCapacity(1, 0), func(*planner.Trial, int) script { return script{hold: true} })
	d.started = make(chan string, 100)
	// One trial at a time, each stopped by its 7-minute timeout: trials
	// 0 to 7 end by minute 56, trial 8 starts then and the budget stops
	// it at minute 60. Each step is taken once the trial it ends started.
	clk := clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	done := make(chan *Outcome, 1)
	go func() {
		out, err := Run(context.Background(), Options{Experiment: f.exp, Trials: f.trials, Driver: d, Store: f.store, Target: "local", Clock: clk})
		assert.NoError(t, err)
		done <- out
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := range 9 {
		select {
		case <-d.started:
		case <-ctx.Done():
			t.Fatalf("trial %d did not start", i)
		}
		step := 7 * time.Minute
		if i == 8 {
			step = 4 * time.Minute
		}
		require.NoError(t, clk.WaitUntil(ctx, func(pending []time.Duration) bool { return slices.Contains(pending, step) }))
		clk.Advance(step)
	}
	var out *Outcome
	select {
	case out = <-done:
	case <-ctx.Done():
		t.Fatal("the run did not end when the budget was spent")
	}
	require.NotNil(t, out)
	assert.Equal(t, StatusStopped, out.Status)
	assert.False(t, out.Interrupted, "a spent budget is an end")
	assert.Contains(t, out.Message, "time budget")
	assert.Len(t, d.starts, 9)
	recs := f.store.Records()
	require.Len(t, recs, 17, "after the plan's one trial, trials are generated eight at a time, when none is left to start")
	sameAsPlanned(t, f, recs)
	for _, r := range recs[:8] {
		assert.Equal(t, results.Terminated, r.Status)
		assert.Equal(t, "trial_timeout 7m0s", r.StopReason)
	}
	assert.Equal(t, "time_budget", recs[8].StopReason)
	for _, r := range recs[9:] {
		assert.Equal(t, results.Pending, r.Status)
	}
}

func TestAnOpenEndedRunEndsAtItsTrialCap(t *testing.T) {
	tests := []struct {
		name   string
		search string
	}{
		{name: "random search draws trial i as the planner does", search: ""},
		{name: "TPE suggests each trial once as it starts", search: "search \"tpe\" {\n startup_trials = 5\n }\n max_concurrent_trials = 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, openEndedFile(tc.search, "max_trials = 21"))
			d := newFakeDriver(localCapacity(2, 0), func(tr *planner.Trial, _ int) script {
				x := tr.Values[0].AsBigFloat()
				v, _ := x.Float64()
				return script{reports: []map[string]any{loss((v - 0.3) * (v - 0.3))}}
			})
			out := f.run(t, context.Background(), d, nil)
			assert.Equal(t, StatusFinished, out.Status)
			recs := f.store.Records()
			require.Len(t, recs, 21)
			assert.Equal(t, map[results.Status]int{results.Terminated: 21}, statuses(recs))
			assert.Len(t, d.starts, 21, "each trial starts once")
			seen := map[any]bool{}
			for _, r := range recs {
				assert.False(t, seen[r.Params["x"]], "x = %v is suggested twice", r.Params["x"])
				seen[r.Params["x"]] = true
			}
			if tc.search == "" {
				sameAsPlanned(t, f, recs)
			}
		})
	}
}

func TestAnOpenEndedRunResumesTheTrialsItGenerated(t *testing.T) {
	f := newFixture(t, openEndedFile("", "max_trials = 20"))
	ctx, cancel := context.WithCancel(context.Background())
	d := newFakeDriver(localCapacity(1, 0), func(tr *planner.Trial, _ int) script {
		if tr.Index == 11 {
			cancel()
			return script{hold: true}
		}
		return script{reports: []map[string]any{loss(float64(tr.Index))}}
	})
	out := f.run(t, ctx, d, nil)
	assert.Equal(t, StatusStopped, out.Status)
	require.NoError(t, f.store.Close())

	// What a resumed apply does: the folder says how many trials the
	// last run generated, and the planner gives the same ones again.
	known, err := results.KnownTrials(f.root, f.exp.Name)
	require.NoError(t, err)
	assert.Equal(t, 17, known, "the summary counts the plan's trial and both batches")
	f.trials, _ = planner.TrialRange(f.exp, 0, known)
	f.open(t)
	require.True(t, f.store.Resumed())
	again := newFakeDriver(localCapacity(1, 0), func(tr *planner.Trial, _ int) script {
		return script{reports: []map[string]any{loss(float64(tr.Index))}}
	})
	out = f.run(t, context.Background(), again, nil)
	assert.Equal(t, StatusFinished, out.Status)
	var want []string
	recs := f.store.Records()
	for _, r := range recs[11:] {
		want = append(want, r.ID+"#0")
	}
	assert.Equal(t, want, again.starts, "the interrupted trial and those never started run, no other")
	require.Len(t, recs, 20)
	assert.Equal(t, map[results.Status]int{results.Terminated: 20}, statuses(recs))
	sameAsPlanned(t, f, recs)
	require.NotNil(t, out.Best)
	assert.Equal(t, recs[0].ID, out.Best.ID, "results of the first run are kept")
}

func TestAnOpenEndedGridRepeatsItsPointsUntilTheCap(t *testing.T) {
	f := newFixture(t, `experiment "open" {
  metric      = "loss"
  mode        = "min"
  num_samples = -1
  space {
    lr = grid([1, 2, 3])
    x  = uniform(0, 1)
  }
  stop {
    max_trials = 7
  }
  task "train" {
    command = "true"
  }
}
`)
	require.Len(t, f.trials, 3, "the plan holds one pass over the grid")
	d := newFakeDriver(localCapacity(2, 0), func(*planner.Trial, int) script {
		return script{reports: []map[string]any{loss(1)}}
	})
	out := f.run(t, context.Background(), d, nil)
	assert.Equal(t, StatusFinished, out.Status)
	recs := f.store.Records()
	require.Len(t, recs, 7)
	sameAsPlanned(t, f, recs)
	var lrs []any
	for _, r := range recs {
		lrs = append(lrs, r.Params["lr"])
	}
	assert.Equal(t, []any{int64(1), int64(2), int64(3), int64(1), int64(2), int64(3), int64(1)}, lrs)
}
