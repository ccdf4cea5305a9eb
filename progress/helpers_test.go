package progress

import (
	"time"

	"github.com/nomad-tune/tune/controller"
	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/results"
)

// snapshot is an experiment "quadratic" minimising loss over x and lr,
// elapsed seconds in, on a 2-CPU local target.
func snapshot(elapsed time.Duration) *controller.Snapshot {
	return &controller.Snapshot{
		Experiment: "quadratic",
		Metric:     "loss",
		Mode:       "min",
		ParamNames: []string{"x", "lr"},
		Target:     "local",
		Elapsed:    elapsed,
		Total:      24,
		Pending:    24,
		Capacity:   planner.Totals{Nodes: 1, CPUCores: 2, MemoryMiB: 23962},
	}
}

// trial is a trial view with x and lr, and loss when iterations > 0.
func trial(id string, status results.Status, x, lr float64, iterations int, loss float64, runtime time.Duration) controller.TrialView {
	t := controller.TrialView{
		ID: id, Status: status, Params: map[string]any{"x": x, "lr": lr},
		Iterations: iterations, Runtime: runtime,
	}
	if iterations > 0 {
		t.Last = map[string]any{"loss": loss, "training_iteration": float64(iterations), "time_total_s": runtime.Seconds()}
	}
	return t
}

func change(kind controller.ChangeKind, t controller.TrialView, message string) controller.Change {
	return controller.Change{Kind: kind, Trial: t, Message: message}
}
