package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/results"
)

// finishedResults writes an experiment "quadratic" of four trials under a
// new root: three terminated with losses 0.5, 0.125, 0.25 and one failed.
func finishedResults(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	var trials []results.TrialInfo
	for i := 0; i < 4; i++ {
		trials = append(trials, results.TrialInfo{
			ID:     fmt.Sprintf("%05d-abcdef", i),
			Index:  i,
			Params: map[string]any{"x": float64(i) + 0.5, "opt": []string{"adam", "sgd"}[i%2]},
		})
	}
	s, err := results.Open(root, results.Info{Name: "quadratic", File: "quadratic.hcl", Metric: "loss", Mode: "min", Target: "local", Seed: 1}, trials)
	require.NoError(t, err)
	defer s.Close()
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for i, rec := range s.Records() {
		rec.Status = results.Running
		rec.Attempts = 1
		_, _, err := s.BeginAttempt(rec, 0, start)
		require.NoError(t, err)
		if i == 3 {
			rec.Status = results.Error
			rec.Failures = 1
			rec.Error = "exit status 2\nTraceback..."
			require.NoError(t, s.EndAttempt(rec))
			continue
		}
		loss := []float64{0.5, 0.125, 0.25}[i]
		for it := 1; it <= 2; it++ {
			_, err := s.Report(rec, map[string]any{"loss": loss * float64(3-it), "acc": 1 - loss, "lr": 0.001}, start.Add(time.Duration(it)*time.Second))
			require.NoError(t, err)
		}
		rec.Status = results.Terminated
		require.NoError(t, s.EndAttempt(rec))
	}
	require.NoError(t, s.WriteSummary(results.Summary{Status: "finished", StartedAt: start, UpdatedAt: start.Add(time.Minute)}))
	return root
}

func runResultsCmd(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cliEnv{stdout: &out, stderr: &errb, stdin: strings.NewReader(""), getenv: func(string) string { return "" }}
	code = run(env, append([]string{"results"}, args...))
	return out.String(), errb.String(), code
}

func TestResultsCommandPrintsTheTableAndTheBestTrial(t *testing.T) {
	root := finishedResults(t)
	stdout, stderr, code := runResultsCmd(t, "quadratic", "-results", root)
	require.Equal(t, exitOK, code, stderr)
	want := `Experiment "quadratic" (quadratic.hcl): finished
  Metric:  loss (min)
  Target:  local

Number of trials: 4 (3 TERMINATED, 1 ERROR)
TRIAL         STATUS      opt   x    ITER  TIME (S)  loss   acc    lr
00001-abcdef  TERMINATED  sgd   1.5  2     2         0.125  0.875  0.001
00002-abcdef  TERMINATED  adam  2.5  2     2         0.25   0.75   0.001
00000-abcdef  TERMINATED  adam  0.5  2     2         0.5    0.5    0.001
00003-abcdef  ERROR       sgd   3.5  0

Errored trials (1):
  00003-abcdef (1 attempt): exit status 2

Best trial: 00001-abcdef with loss=0.125 (opt=sgd, x=1.5)
Results folder: ` + filepath.Join(root, "quadratic") + "\n"
	assert.Equal(t, want, stdout)
}

var tableRow = regexp.MustCompile(`^(\d{5})-abcdef +[A-Z]+ `)

func TestResultsCommandOptions(t *testing.T) {
	root := finishedResults(t)
	tests := []struct {
		name  string
		args  []string
		order []string
		more  string
	}{
		{"sorting by index", []string{"-sort", "index"}, []string{"00000", "00001", "00002", "00003"}, ""},
		{"reversed by the metric", []string{"-sort", "-loss"}, []string{"00000", "00002", "00001", "00003"}, ""},
		{"by another metric, ascending", []string{"-sort", "acc"}, []string{"00000", "00002", "00001", "00003"}, ""},
		{"limited to two rows", []string{"-limit", "2"}, []string{"00001", "00002"}, "... and 2 more trials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runResultsCmd(t, append([]string{"quadratic", "-results", root}, tt.args...)...)
			require.Equal(t, exitOK, code, stderr)
			var order []string
			for _, line := range strings.Split(stdout, "\n") {
				if m := tableRow.FindStringSubmatch(line); m != nil {
					order = append(order, m[1])
				}
			}
			assert.Equal(t, tt.order, order)
			if tt.more != "" {
				assert.Contains(t, stdout, tt.more)
			}
		})
	}
}

func TestResultsCommandJSONHasTheSummaryAndEveryRecord(t *testing.T) {
	root := finishedResults(t)
	stdout, stderr, code := runResultsCmd(t, "-json", "-results", root, "quadratic")
	require.Equal(t, exitOK, code, stderr)
	var got struct {
		Summary results.Summary        `json:"summary"`
		Trials  []*results.TrialRecord `json:"trials"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &got))
	assert.Equal(t, "finished", got.Summary.Status)
	assert.Equal(t, "00001-abcdef", got.Summary.BestTrial)
	assert.Equal(t, 4, got.Summary.NumTrials)
	require.Len(t, got.Trials, 4)
	assert.Equal(t, results.Error, got.Trials[3].Status)
	assert.Equal(t, 0.125, got.Trials[1].LastResult["loss"])
}

func TestResultsCommandCSVIsTrialsCSV(t *testing.T) {
	root := finishedResults(t)
	stdout, stderr, code := runResultsCmd(t, "quadratic", "-csv", "-results", root)
	require.Equal(t, exitOK, code, stderr)
	rows, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 5)
	assert.Equal(t, []string{"trial_id", "index", "status"}, rows[0][:3])
	assert.Contains(t, rows[0], "config/x")
	assert.Contains(t, rows[0], "loss")
	assert.Equal(t, "exit status 2\nTraceback...", rows[4][5])
}

func TestResultsCommandErrors(t *testing.T) {
	root := finishedResults(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"an unknown experiment names the known ones", []string{"nope", "-results", root}, `no experiment "nope" in results folder ` + root + "; it holds: quadratic"},
		{"an unknown experiment with -csv as well", []string{"nope", "-csv", "-results", root}, "it holds: quadratic"},
		{"no name lists the experiments", []string{"-results", root}, "Experiments in " + root + ": quadratic"},
		{"a missing folder", []string{"x", "-results", filepath.Join(root, "none")}, "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runResultsCmd(t, tt.args...)
			assert.Equal(t, exitError, code)
			assert.Contains(t, stderr, tt.want)
		})
	}
}

func TestResultsCommandSanitizesWhatTrialsWroteButJSONKeepsIt(t *testing.T) {
	root := t.TempDir()
	evil := "e\x1b[2J\tvil\nname"
	value := "x\x1b]0;title\x07\ry"
	s, err := results.Open(root, results.Info{Name: "evil", File: "evil.hcl", Metric: "loss", Mode: "min", Target: "local"},
		[]results.TrialInfo{{ID: "00000-abcdef", Index: 0, Params: map[string]any{"opt": "a\x1b[31mdam"}}, {ID: "00001-abcdef", Index: 1}})
	require.NoError(t, err)
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	recs := s.Records()
	for _, rec := range recs {
		rec.Status, rec.Attempts = results.Running, 1
		_, _, err := s.BeginAttempt(rec, 0, start)
		require.NoError(t, err)
	}
	_, err = s.Report(recs[0], map[string]any{"loss": 0.5, evil: 2.0, "note": value}, start.Add(time.Second))
	require.NoError(t, err)
	recs[0].Status = results.Terminated
	recs[1].Status, recs[1].Error = results.Error, "boom\x1b[2J\x08"
	for _, rec := range recs {
		require.NoError(t, s.EndAttempt(rec))
	}
	require.NoError(t, s.WriteSummary(results.Summary{Status: "finished"}))
	require.NoError(t, s.Close())

	stdout, stderr, code := runResultsCmd(t, "evil", "-results", root)
	require.Equal(t, exitOK, code, stderr)
	for _, c := range []string{"\x1b", "\x07", "\x08", "\r"} {
		assert.NotContains(t, stdout, c)
	}
	assert.Contains(t, stdout, "e vil; name", "the metric's name, on one line")
	assert.Contains(t, stdout, "opt=adam")
	assert.Contains(t, stdout, "(1 attempt): boom\n")

	stdout, stderr, code = runResultsCmd(t, "evil", "-results", root, "-json")
	require.Equal(t, exitOK, code, stderr)
	var got struct {
		Trials []*results.TrialRecord `json:"trials"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &got))
	require.Len(t, got.Trials, 2)
	assert.Equal(t, value, got.Trials[0].LastResult["note"], "JSON keeps the data exactly")
	assert.Equal(t, 2.0, got.Trials[0].LastResult[evil])
}

func TestResultsCommandNamesTheTrialsThatNeverReportedTheMetric(t *testing.T) {
	root := t.TempDir()
	var trials []results.TrialInfo
	for i := 0; i < 3; i++ {
		trials = append(trials, results.TrialInfo{ID: fmt.Sprintf("%05d-abcdef", i), Index: i})
	}
	s, err := results.Open(root, results.Info{Name: "misspelt", File: "misspelt.hcl", Metric: "loss", Mode: "min", Target: "local"}, trials)
	require.NoError(t, err)
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	reports := []map[string]any{{"val_loss": 0.5, "epoch": 1.0}, {"loss": "0.5"}, {"loss": 0.25}}
	for i, rec := range s.Records() {
		rec.Status, rec.Attempts = results.Running, 1
		_, _, err := s.BeginAttempt(rec, 0, start)
		require.NoError(t, err)
		_, err = s.Report(rec, reports[i], start.Add(time.Second))
		require.NoError(t, err)
		rec.Status = results.Terminated
		require.NoError(t, s.EndAttempt(rec))
	}
	require.NoError(t, s.WriteSummary(results.Summary{Status: "finished"}))
	require.NoError(t, s.Close())

	stdout, stderr, code := runResultsCmd(t, "misspelt", "-results", root)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, `
Trials that never reported loss, the experiment's metric (2):
  00000-abcdef reported epoch, val_loss
  00001-abcdef reported loss as "0.5", not a number

Best trial: 00002-abcdef with loss=0.25
`)
}

func TestResultsCommandTellsAParameterFromAMetricOfTheSameName(t *testing.T) {
	root := t.TempDir()
	s, err := results.Open(root, results.Info{Name: "gang", File: "gang.hcl", Metric: "loss", Mode: "min", Target: "local"},
		[]results.TrialInfo{{ID: "00000-abcdef", Params: map[string]any{"workers": 4.0}}})
	require.NoError(t, err)
	rec := s.Records()[0]
	rec.Status, rec.Attempts = results.Running, 1
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	_, _, err = s.BeginAttempt(rec, 0, start)
	require.NoError(t, err)
	_, err = s.Report(rec, map[string]any{"loss": 0.5, "workers": 3.0}, start.Add(time.Second))
	require.NoError(t, err)
	rec.Status = results.Terminated
	require.NoError(t, s.EndAttempt(rec))
	require.NoError(t, s.WriteSummary(results.Summary{Status: "finished", StartedAt: start, UpdatedAt: start.Add(time.Minute)}))
	require.NoError(t, s.Close())

	stdout, stderr, code := runResultsCmd(t, "gang", "-results", root)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "TRIAL         STATUS      config/workers  ITER  TIME (S)  loss  workers\n")
	assert.Contains(t, stdout, "00000-abcdef  TERMINATED  4               1     1         0.5   3\n")
}

func TestResultsCommandSaysWhatTheSchedulerDid(t *testing.T) {
	root := t.TempDir()
	trials := []results.TrialInfo{{ID: "00000-abcdef", Index: 0}, {ID: "00001-abcdef", Index: 1}}
	s, err := results.Open(root, results.Info{Name: "sched", File: "sched.hcl", Target: "nomad"}, trials)
	require.NoError(t, err)
	defer s.Close()
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return start.Add(time.Duration(ms) * time.Millisecond) }
	gpu := planner.Amounts{CPU: 2, MemoryMiB: 2048, Devices: map[string]float64{"nvidia/gpu": 1}}
	recs := s.Records()
	recs[0].History = []results.AttemptTimes{{AdmittedAt: at(0), RegisteredAt: at(250), PlacedAt: at(300), RunningAt: at(1250), EndedAt: at(61250), Held: gpu}}
	// Adopted: when it was admitted is not known.
	recs[1].History = []results.AttemptTimes{{RegisteredAt: at(0), PlacedAt: at(1000), RunningAt: at(2500), EndedAt: at(31250), Held: gpu}}
	for _, rec := range recs {
		rec.Status, rec.Attempts = results.Terminated, 1
		require.NoError(t, s.EndAttempt(rec))
	}
	capacity := planner.Amounts{CPU: 8, MemoryMiB: 16384, Devices: map[string]float64{"nvidia/gpu": 4}}
	require.NoError(t, s.WriteSummary(results.Summary{Status: "finished", Scheduling: results.Measure(recs, capacity, at(70000))}))

	stdout, stderr, code := runResultsCmd(t, "sched", "-results", root)
	require.Equal(t, exitOK, code, stderr)
	// Busy from 0 to 61.25 s; 60 + 28.75 trial-seconds of running, each
	// holding 2 of 8 cores, 2 of 16 GiB and 1 of 4 GPUs.
	want := `
Scheduling:
  attempts that ran    2 of 2, over 1m1s busy
  submitted → running  p50 1s, p99 2.5s, max 2.5s (2 attempts)
  admitted → running   p50 1.25s, p99 1.25s, max 1.25s (1 attempt)
  running at once      peak 2, mean 1.4
  cpu                  36.2% of 8 cores
  memory               18.1% of 16 GiB
  nvidia/gpu           36.2% of 4 devices

Results folder: ` + filepath.Join(root, "sched") + "\n"
	assert.True(t, strings.HasSuffix(stdout, want), "got:\n%s", stdout)
}
