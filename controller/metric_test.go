package controller

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/planner"
)

func TestReportsWithoutTheMetricAreWarnedOfOncePerTrialAndANaNIsNeverBest(t *testing.T) {
	f := newFixture(t, experimentFile(5, ""))
	d := newFakeDriver(localCapacity(8, 0), func(tr *planner.Trial, _ int) script {
		switch tr.Index {
		case 0:
			return script{reports: []map[string]any{{"val_loss": 1.0, "epoch": 1.0}, {"val_loss": 0.5, "epoch": 2.0}}}
		case 1:
			return script{reports: []map[string]any{{"loss": "0.5"}}}
		case 2:
			return script{reports: []map[string]any{loss(0.01), loss(math.NaN())}}
		case 3:
			// Reports the metric later: warned of at its first report.
			return script{reports: []map[string]any{{"epoch": 1.0}, loss(0.3)}}
		}
		return script{reports: []map[string]any{loss(0.2)}}
	})
	var warnings []string
	rep := &funcReporter{changed: func(c Change, _ *Snapshot) {
		if c.Kind == Warning {
			warnings = append(warnings, c.Message)
		}
	}}
	out := f.run(t, context.Background(), d, rep)
	assert.ElementsMatch(t, []string{
		`trial ` + f.trials[0].ID + ` reported epoch, val_loss; metric = "loss" needs a number in every report (see its result.json)`,
		`trial ` + f.trials[1].ID + ` reported loss as "0.5", not a number; metric = "loss" needs a number in every report (see its result.json)`,
		`trial ` + f.trials[3].ID + ` reported epoch; metric = "loss" needs a number in every report (see its result.json)`,
	}, warnings)
	require.NotNil(t, out.Best)
	assert.Equal(t, f.trials[4].ID, out.Best.ID, "trial 2 diverged to NaN after 0.01: it is not the best")
	assert.Equal(t, f.trials[4].ID, out.Summary.BestTrial)
}
