package results

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runNonFinite records one trial whose reports hold NaN and infinities,
// resumes the folder, and returns the store and the trial's folder.
func runNonFinite(t *testing.T) (root, dir string) {
	t.Helper()
	root = t.TempDir()
	s, err := Open(root, testInfo(), testTrials(2))
	require.NoError(t, err)
	recs := s.Records()
	rec := recs[0]
	rec.Status, rec.Attempts = Running, 1
	_, _, err = s.BeginAttempt(rec, 0, t0)
	require.NoError(t, err)
	_, err = s.Report(rec, map[string]any{"loss": 0.5, "acc": math.Inf(1), "grad": map[string]any{"norm": 1.0}}, t0.Add(1))
	require.NoError(t, err)
	_, err = s.Report(rec, map[string]any{"loss": math.NaN(), "acc": math.Inf(-1), "grad": map[string]any{"norm": math.NaN()}}, t0.Add(2))
	require.NoError(t, err)
	rec.Status = Terminated
	require.NoError(t, s.EndAttempt(rec))
	runTrial(t, s, recs[1], 0, Terminated, 0.7)
	require.NoError(t, s.WriteSummary(Summary{Status: "finished"}))
	require.NoError(t, s.Close())
	return root, TrialDir(root, "quadratic", rec.ID)
}

func TestNonFiniteReportsAreWrittenAsPythonWritesThem(t *testing.T) {
	root, dir := runNonFinite(t)

	lines := readLines(t, filepath.Join(dir, ResultFile))
	require.Len(t, lines, 2)
	assert.Contains(t, lines[0], `"acc":Infinity`)
	assert.Contains(t, lines[1], `"loss":NaN`)
	assert.Contains(t, lines[1], `"acc":-Infinity`)
	assert.Contains(t, lines[1], `"grad":{"norm":NaN}`)

	rows := readCSV(t, filepath.Join(dir, ProgressFile))
	require.Len(t, rows, 3)
	cell := func(row []string, col string) string {
		for i, c := range rows[0] {
			if c == col {
				return row[i]
			}
		}
		t.Fatalf("no column %q in %v", col, rows[0])
		return ""
	}
	assert.Equal(t, "inf", cell(rows[1], "acc"))
	assert.Equal(t, "nan", cell(rows[2], "loss"))
	assert.Equal(t, "-inf", cell(rows[2], "acc"))
	assert.Equal(t, "nan", cell(rows[2], "grad/norm"))

	// The record reads back with its NaN, after a resume as in tune results.
	s, err := Open(root, testInfo(), testTrials(2))
	require.NoError(t, err)
	defer s.Close()
	got := s.Records()[0]
	assert.True(t, math.IsNaN(got.LastResult["loss"].(float64)))
	assert.Equal(t, math.Inf(-1), got.LastResult["acc"])

	sum, recs, err := Load(root, "quadratic")
	require.NoError(t, err)
	assert.Equal(t, "00001-abc001", sum.BestTrial, "a NaN is never the best")
	assert.True(t, math.IsNaN(recs[0].LastResult["loss"].(float64)))
}

// python is Python 3 when this machine has it; CI installs it.
const python = "/usr/bin/python3"

func TestPythonsJSONModuleReadsNonFiniteValuesBackAsFloats(t *testing.T) {
	if _, err := os.Stat(python); err != nil {
		t.Skip("no " + python + " on this machine")
	}
	root, dir := runNonFinite(t)
	script := `
import csv, json, math, sys
dir, exp = sys.argv[1], sys.argv[2]
rows = [json.loads(line) for line in open(dir + "/result.json")]
trial = json.load(open(dir + "/trial.json"))
summary = json.load(open(exp + "/experiment.json"))
progress = list(csv.DictReader(open(dir + "/progress.csv")))
checks = [
    math.isinf(rows[0]["acc"]) and rows[0]["acc"] > 0,
    math.isnan(rows[1]["loss"]),
    rows[1]["acc"] == -math.inf,
    math.isnan(rows[1]["grad"]["norm"]),
    math.isnan(trial["last_result"]["loss"]),
    summary["best_trial"] == "00001-abc001",
    math.isnan(float(progress[1]["loss"])),
    float(progress[1]["acc"]) == -math.inf,
    float(progress[0]["acc"]) == math.inf,
]
print(" ".join(str(c) for c in checks))
`
	out, err := exec.Command(python, "-c", script, dir, filepath.Join(root, "quadratic")).CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Equal(t, strings.TrimSpace(strings.Repeat("True ", 9)), strings.TrimSpace(string(out)))
}
