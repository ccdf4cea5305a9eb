package controller

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/driver"
	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/results"
)

func TestAChangedAttemptIsRefusedBeforeAnythingIsAdoptedOrStarted(t *testing.T) {
	f := newFixture(t, experimentFile(3, ""))
	d := newFakeDriver(localCapacity(4, 0), func(*planner.Trial, int) script {
		return script{reports: []map[string]any{loss(1)}}
	})
	d.existing = []driver.Existing{
		{TrialID: f.trials[0].ID, Attempt: 0, Running: true},
		{TrialID: f.trials[2].ID, Attempt: 1, Changed: true},
		{TrialID: f.trials[1].ID, Attempt: 0, Running: true, Changed: true},
	}
	_, err := Run(context.Background(), Options{Experiment: f.exp, Trials: f.trials, Driver: d, Store: f.store, Target: "local"})

	var changed *ChangedError
	require.ErrorAs(t, err, &changed)
	want := []string{f.trials[1].ID, f.trials[2].ID}
	if want[0] > want[1] {
		want[0], want[1] = want[1], want[0]
	}
	assert.Equal(t, want, changed.TrialIDs)
	assert.Empty(t, d.adopts, "not even the unchanged attempt is adopted")
	assert.Empty(t, d.starts)
	assert.Empty(t, d.stops)
	assert.Equal(t, map[results.Status]int{results.Pending: 3}, statuses(f.store.Records()))
}

func TestReplaceRunsAChangedTrialAgainAsItsNextAttempt(t *testing.T) {
	cases := []struct {
		name    string
		running bool
		// finished says an earlier run in this results folder recorded
		// the changed attempt's outcome.
		finished  bool
		wantStops int
	}{
		{name: "an attempt that ended while tune was away is not collected"},
		{name: "an attempt whose outcome the results folder holds runs again", finished: true},
		{name: "a running attempt is stopped, then the trial runs again", running: true, wantStops: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, experimentFile(2, ""))
			changedID := f.trials[0].ID
			if tc.finished {
				first := newFakeDriver(localCapacity(4, 0), func(*planner.Trial, int) script {
					return script{reports: []map[string]any{loss(100)}}
				})
				f.run(t, context.Background(), first, nil)
				require.NoError(t, f.store.Close())
				f.open(t)
			}
			d := newFakeDriver(localCapacity(4, 0), func(tr *planner.Trial, attempt int) script {
				// The changed attempt (0) holds until it is stopped.
				return script{hold: attempt == 0 && tr.ID == changedID, reports: []map[string]any{loss(float64(attempt))}}
			})
			d.existing = []driver.Existing{{TrialID: changedID, Attempt: 0, Running: tc.running, Changed: true}}
			if tc.finished {
				d.existing = append(d.existing, driver.Existing{TrialID: f.trials[1].ID, Attempt: 0})
			}
			out, err := Run(context.Background(), Options{Experiment: f.exp, Trials: f.trials, Driver: d, Store: f.store, Target: "local", ReplaceChanged: true})
			require.NoError(t, err)

			assert.Equal(t, StatusFinished, out.Status)
			assert.Contains(t, d.starts, changedID+"#1", "the trial runs again as attempt 1, a new version of its job")
			assert.Len(t, d.stops, tc.wantStops)
			if tc.running {
				assert.Equal(t, []string{changedID + "#0"}, d.adopts, "the running attempt is followed only to be stopped")
			} else {
				assert.Empty(t, d.adopts, "a changed attempt's results are never collected")
			}
			rec := f.store.Records()[0]
			assert.Equal(t, results.Terminated, rec.Status)
			assert.Equal(t, 2, rec.Attempts)
			assert.Equal(t, 1.0, rec.LastResult["loss"], "the result is the new attempt's")
			if tc.finished {
				assert.NotContains(t, d.starts, f.trials[1].ID+"#1", "an unchanged finished trial does not run again")
			}
		})
	}
}

func TestAResultRecordedFromAnotherDefinitionIsNeverKeptAsThisOnes(t *testing.T) {
	f := newFixture(t, experimentFile(2, ""))
	first := newFakeDriver(localCapacity(4, 0), func(*planner.Trial, int) script {
		return script{reports: []map[string]any{loss(100)}}
	})
	first.spec = func(*planner.Trial) string { return "old" }
	f.run(t, context.Background(), first, nil)
	for _, rec := range f.store.Records() {
		require.Equal(t, "old", rec.Spec, "the record says what its attempt ran")
	}
	require.NoError(t, f.store.Close())

	// Trial 0 now runs something else; the target holds none of the old
	// attempts (Nomad collected their jobs).
	changedID := f.trials[0].ID
	spec := func(tr *planner.Trial) string {
		if tr.ID == changedID {
			return "new"
		}
		return "old"
	}
	f.open(t)
	d := newFakeDriver(localCapacity(4, 0), func(*planner.Trial, int) script {
		return script{reports: []map[string]any{loss(1)}}
	})
	d.spec = spec
	_, err := Run(context.Background(), Options{Experiment: f.exp, Trials: f.trials, Driver: d, Store: f.store, Target: "local"})
	var changed *ChangedError
	require.ErrorAs(t, err, &changed)
	assert.Equal(t, []string{changedID}, changed.TrialIDs)
	assert.Empty(t, d.starts)

	out, err := Run(context.Background(), Options{Experiment: f.exp, Trials: f.trials, Driver: d, Store: f.store, Target: "local", ReplaceChanged: true})
	require.NoError(t, err)
	assert.Equal(t, StatusFinished, out.Status)
	assert.Equal(t, []string{changedID + "#1"}, d.starts, "only the changed trial runs again, as its next attempt")
	recs := f.store.Records()
	assert.Equal(t, 1.0, recs[0].LastResult["loss"], "the changed trial's result is the new definition's")
	assert.Equal(t, "new", recs[0].Spec)
	assert.Equal(t, 100.0, recs[1].LastResult["loss"], "the unchanged trial keeps its result")
}
