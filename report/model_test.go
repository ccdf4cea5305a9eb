package report

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/results"
)

var update = flag.Bool("update", false, "rewrite the golden model files in testdata")

// fixtures are the experiments the structure and page tests read.
var fixtures = []struct {
	name string
	f    fixture
}{
	{"a finished experiment with stopped and errored trials", fixture{name: "demo", trials: 24, finished: 24, errored: 7, stopped: 4, iterations: 8, atOnce: 3, nomad: true}},
	{"an experiment with no finished trial", fixture{name: "waiting", trials: 5, atOnce: 2, status: "stopped"}},
	{"an experiment whose every trial errored", fixture{name: "broken", trials: 4, finished: 4, errored: 1, iterations: 3, atOnce: 2}},
}

// buildFixture writes a fixture and builds its model, with the process
// id that wrote the summary cleared: it differs from run to run.
func buildFixture(t testing.TB, f fixture) (string, *Model) {
	t.Helper()
	root := t.TempDir()
	f.write(t, root)
	m, err := Build(root, f.name, fixtureStart.Add(2*time.Hour))
	require.NoError(t, err)
	m.Summary.PID = 0
	return root, m
}

func TestTheModelKeepsItsStructure(t *testing.T) {
	for _, tt := range fixtures {
		t.Run(tt.name, func(t *testing.T) {
			_, m := buildFixture(t, tt.f)
			got, err := json.MarshalIndent(m, "", "  ")
			require.NoError(t, err)
			golden := filepath.Join("testdata", tt.f.name+".model.json")
			if *update {
				require.NoError(t, os.WriteFile(golden, append(got, '\n'), 0o666))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test ./report -update to write it")
			assert.JSONEq(t, string(want), string(got))
		})
	}
}

func TestTheModelSaysWhatThePageShows(t *testing.T) {
	t.Run("the best trial is the one results picks, and best so far only improves", func(t *testing.T) {
		_, m := buildFixture(t, fixtures[0].f)
		var records []*results.TrialRecord
		for _, tr := range m.Trials {
			records = append(records, tr.TrialRecord)
		}
		require.NotEmpty(t, m.Best)
		assert.Equal(t, results.Best(records, "loss", "min").ID, m.Best)
		require.NotEmpty(t, m.BestSoFar)
		for i := 1; i < len(m.BestSoFar); i++ {
			assert.LessOrEqual(t, m.BestSoFar[i].Value, m.BestSoFar[i-1].Value)
			assert.Equal(t, i+1, m.BestSoFar[i].Finished)
		}
		assert.Equal(t, m.Best, m.BestSoFar[len(m.BestSoFar)-1].Trial)
	})
	t.Run("stopped trials are marked and errored ones carry their stderr", func(t *testing.T) {
		_, m := buildFixture(t, fixtures[0].f)
		stopped, errored := 0, 0
		for _, tr := range m.Trials {
			if tr.Stopped {
				stopped++
				assert.Len(t, tr.Curve, 2, tr.ID)
			}
			if tr.Status == results.Error {
				errored++
				require.NotEmpty(t, tr.ErrorTail, tr.ID)
				assert.Contains(t, tr.ErrorTail[len(tr.ErrorTail)-1], "ValueError: lr")
			}
			assert.Equal(t, "tune-demo-"+tr.ID, tr.JobID)
		}
		assert.Equal(t, 6, stopped, "every fourth trial stops")
		assert.Equal(t, 3, errored)
	})
	t.Run("the schedule never runs more trials than fit at once", func(t *testing.T) {
		_, m := buildFixture(t, fixtures[0].f)
		require.NotEmpty(t, m.Schedule)
		peak := 0
		for _, s := range m.Schedule {
			peak = max(peak, s.Running)
			assert.InDelta(t, float64(s.Running), s.Used.CPU, 1e-9, "each trial holds one CPU")
		}
		assert.Equal(t, 3, peak)
		assert.Equal(t, 0, m.Schedule[len(m.Schedule)-1].Running)
	})
	t.Run("log distributions get log axes and text parameters are not numbers", func(t *testing.T) {
		_, m := buildFixture(t, fixtures[0].f)
		assert.Equal(t, []Param{{Name: "layers", Numeric: true}, {Name: "lr", Log: true, Numeric: true}, {Name: "opt"}}, m.Params)
	})
	t.Run("an experiment with no finished trial has no best and an empty schedule", func(t *testing.T) {
		_, m := buildFixture(t, fixtures[1].f)
		assert.Empty(t, m.Best)
		assert.Empty(t, m.BestSoFar)
		assert.Empty(t, m.Schedule)
		assert.Len(t, m.Trials, 5)
	})
}

func TestTheScheduleRunsEachAttemptFromItsHistory(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return start.Add(time.Duration(s) * time.Second) }
	plan := &Plan{Trials: map[string]TrialPlan{"a": {Resources: Resources{CPU: 1}}, "b": {Resources: Resources{CPU: 2}}, "c": {Resources: Resources{CPU: 4}}}}
	records := []*results.TrialRecord{
		// Retried: its first attempt ran from 2 to 4, its second is still
		// running since 6, not yet in its history.
		{ID: "a", Status: results.Running, StartedAt: at(5), History: []results.AttemptTimes{{AdmittedAt: at(0), RunningAt: at(2), EndedAt: at(4)}}},
		// Admitted at 1, ran from 3 to 8.
		{ID: "b", Status: results.Terminated, StartedAt: at(1), FinishedAt: at(8), History: []results.AttemptTimes{{AdmittedAt: at(1), RunningAt: at(3), EndedAt: at(8)}}},
		// Recorded before histories: from its start to its end.
		{ID: "c", Status: results.Terminated, StartedAt: at(7), FinishedAt: at(9)},
	}
	got := schedule(records, plan, start, at(10))
	want := []Step{
		{Seconds: 2, Running: 1, Used: Resources{CPU: 1}},
		{Seconds: 3, Running: 2, Used: Resources{CPU: 3}},
		{Seconds: 4, Running: 1, Used: Resources{CPU: 2}},
		{Seconds: 5, Running: 2, Used: Resources{CPU: 3}},
		{Seconds: 7, Running: 3, Used: Resources{CPU: 7}},
		{Seconds: 8, Running: 2, Used: Resources{CPU: 5}},
		{Seconds: 9, Running: 1, Used: Resources{CPU: 1}},
		{Seconds: 10, Running: 0, Used: Resources{}},
	}
	assert.Equal(t, want, got)
}
