package results

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestMissingMetricNamesTheFinishedTrialsWithoutANumberForIt(t *testing.T) {
	rec := func(id string, status Status, iterations int, stop string, last map[string]any) *TrialRecord {
		return &TrialRecord{ID: id, Status: status, Iterations: iterations, StopReason: stop, LastResult: last}
	}
	records := []*TrialRecord{
		rec("reported", Terminated, 1, "", map[string]any{"loss": 0.5}),
		rec("nan counts as reported", Terminated, 1, "", map[string]any{"loss": math.NaN()}),
		rec("another name", Terminated, 3, "", map[string]any{"val_loss": 0.5, FieldTrainingIteration: 3.0}),
		rec("a string", Terminated, 1, "", map[string]any{"loss": "0.5"}),
		rec("nothing reported", Terminated, 0, "", nil),
		rec("cut off before reporting", Terminated, 0, "time_budget", nil),
		rec("cut off after reporting something else", Terminated, 2, "trial_timeout 1m0s", map[string]any{"acc": 1.0}),
		rec("errored", Error, 1, "", map[string]any{"acc": 1.0}),
		rec("running", Running, 1, "", map[string]any{"acc": 1.0}),
	}
	var got []string
	for _, r := range MissingMetric(records, "loss") {
		got = append(got, r.ID)
	}
	assert.Equal(t, []string{"another name", "a string", "nothing reported", "cut off after reporting something else"}, got)
	assert.Nil(t, MissingMetric(records, ""), "no metric, nothing missing")
}

func TestReportedKeysLeaveOutWhatTuneAdds(t *testing.T) {
	row := map[string]any{"val_loss": 1.0, "epoch": 2.0, FieldTrainingIteration: 1.0, FieldTrialID: "x", FieldDate: "d"}
	assert.Equal(t, []string{"epoch", "val_loss"}, ReportedKeys(row))
	assert.Empty(t, ReportedKeys(nil))
}

func TestWhatWasReportedSaysWhatCameInsteadOfTheMetric(t *testing.T) {
	many := map[string]any{}
	for _, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} {
		many[k] = 1.0
	}
	tests := []struct {
		name string
		row  map[string]any
		want string
	}{
		{"another name", map[string]any{"val_loss": 1.0, "epoch": 1.0, FieldTrialID: "x"}, "reported epoch, val_loss"},
		{"a string", map[string]any{"loss": "0.5"}, `reported loss as "0.5", not a number`},
		{"null", map[string]any{"loss": nil}, `reported loss as null, not a number`},
		{"nothing", map[string]any{FieldTrainingIteration: 1.0}, "reported nothing"},
		{"many keys", many, "reported a, b, c, d, e, f, g, h and 2 more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, WhatWasReported(tt.row, "loss"))
		})
	}
}
