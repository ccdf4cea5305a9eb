package report

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/experiment"
	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/results"
)

// fixtureStart is when every fixture experiment began.
var fixtureStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fixture describes an experiment to write through results.Store, the
// writer tune apply uses, so the report reads what apply would leave.
type fixture struct {
	name string
	// trials is how many trials the experiment has; finished how many of
	// them ran to the end (the rest never started).
	trials, finished int
	// errored makes every errored-th finished trial fail (0: none).
	errored int
	// stopped makes every stopped-th finished trial stop early (0: none).
	stopped int
	// iterations is how many reports a trial that is not stopped makes.
	iterations int
	// atOnce is how many trials run side by side.
	atOnce int
	nomad  bool
	status string
}

// write writes the fixture's results folder under root and its plan.json.
func (f fixture) write(t testing.TB, root string) {
	t.Helper()
	infos := make([]results.TrialInfo, f.trials)
	for i := range infos {
		infos[i] = results.TrialInfo{ID: fmt.Sprintf("%05d-%06x", i, i*7919%0xffffff), Index: i, Params: map[string]any{
			"lr":     math.Pow(10, -4+3*float64(i%97)/96),
			"layers": float64(2 + i%3),
			"opt":    []string{"adam", "sgd"}[i%2],
		}}
	}
	s, err := results.Open(root, results.Info{Name: f.name, File: f.name + ".hcl", Metric: "loss", Mode: "min", Target: "local", Seed: 1}, infos)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	slot := make([]time.Time, max(f.atOnce, 1))
	for i := range slot {
		slot[i] = fixtureStart
	}
	for i, rec := range s.Records()[:f.finished] {
		lane := i % len(slot)
		begin := slot[lane]
		rec.Status, rec.Attempts, rec.StartedAt = results.Running, 1, begin
		_, stderr, err := s.BeginAttempt(rec, 0, begin)
		require.NoError(t, err)
		lr := rec.Params["lr"].(float64)
		floor := math.Abs(math.Log10(lr)+2.5) + 0.1*float64(i%5)
		n := f.iterations
		if f.stopped > 0 && i%f.stopped == f.stopped-1 {
			n = max(1, n/4)
			rec.StopReason = fmt.Sprintf("asha: at rung training_iteration = %d, loss is above the cut-off", n)
		}
		failed := f.errored > 0 && i%f.errored == f.errored-1
		if failed {
			n = 0
		}
		at := begin
		for it := 1; it <= n; it++ {
			at = begin.Add(time.Duration(it) * time.Second)
			_, err := s.Report(rec, map[string]any{"loss": floor + 4/float64(it), "acc": 1 - 1/float64(it+1)}, at)
			require.NoError(t, err)
		}
		rec.Iterations = n
		rec.Status = results.Terminated
		if failed {
			at = begin.Add(2 * time.Second)
			stderr.WriteLine("Traceback (most recent call last):")
			stderr.WriteLine(`  File "train.py", line 12, in <module>`)
			stderr.WriteLine(fmt.Sprintf("ValueError: lr %g is too small", lr))
			rec.Status, rec.Failures, rec.ExitCode = results.Error, 1, 1
			rec.Error = "train exited with status 1: ValueError: lr is too small"
		}
		rec.FinishedAt = at
		slot[lane] = at
		require.NoError(t, s.EndAttempt(rec))
	}
	status := f.status
	if status == "" {
		status = "finished"
	}
	require.NoError(t, s.WriteSummary(results.Summary{Status: status, StartedAt: fixtureStart, UpdatedAt: fixtureStart.Add(time.Hour)}))

	e := &experiment.Experiment{Name: f.name, MaxConcurrentTrials: f.atOnce, Space: experiment.Space{Params: []*experiment.Param{
		{Name: "lr", Dist: &experiment.Distribution{Kind: experiment.KindLogUniform, Lo: 1e-4, Hi: 0.1}},
		{Name: "layers", Dist: &experiment.Distribution{Kind: experiment.KindGrid}},
		{Name: "opt", Dist: &experiment.Distribution{Kind: experiment.KindChoice}},
	}}}
	p := &planner.Plan{AtOnce: f.atOnce, MaxConcurrentTrials: f.atOnce, Capacity: planner.Totals{CPUCores: float64(2 * f.atOnce), MemoryMiB: int64(1024 * f.atOnce), GPUs: 1}}
	for _, in := range infos {
		p.Trials = append(p.Trials, planner.PlannedTrial{ID: in.ID, Index: in.Index, Resources: &experiment.Shape{Groups: []experiment.GroupShape{{
			Count: 1, Tasks: []experiment.TaskResources{{CPU: 1, MemoryMiB: 512, GPU: float64(in.Index%2) / 2}},
		}}}})
	}
	why := fmt.Sprintf("%d trials — max_concurrent_trials", f.atOnce)
	require.NoError(t, WritePlan(root, f.name, NewPlan(e, p, why, f.nomad)))
}
