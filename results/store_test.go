package results

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/pyjson"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func testInfo() Info {
	return Info{Name: "quadratic", File: "exp.hcl", Metric: "loss", Mode: "min", Target: "local", Seed: 7}
}

func testTrials(n int) []TrialInfo {
	out := make([]TrialInfo, n)
	for i := range out {
		out[i] = TrialInfo{
			ID:     fmt.Sprintf("%05d-abc%03d", i, i),
			Index:  i,
			Params: map[string]any{"x": float64(i) / 2, "opt": "adam"},
		}
	}
	return out
}

func openStore(t *testing.T, root string, n int) *Store {
	t.Helper()
	s, err := Open(root, testInfo(), testTrials(n))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// runTrial runs one attempt of rec with the given losses and ends it with
// status.
func runTrial(t *testing.T, s *Store, rec *TrialRecord, attempt int, status Status, losses ...float64) {
	t.Helper()
	rec.Status = Running
	rec.Attempts++
	rec.StartedAt = t0
	out, errw, err := s.BeginAttempt(rec, attempt, t0)
	require.NoError(t, err)
	out.WriteLine("hello from " + rec.ID)
	errw.WriteLine("warning: something")
	for i, l := range losses {
		_, err := s.Report(rec, map[string]any{"loss": l, "acc": 1 - l}, t0.Add(time.Duration(i+1)*time.Second))
		require.NoError(t, err)
	}
	if status == "" {
		return
	}
	rec.Status = status
	rec.FinishedAt = t0.Add(time.Minute)
	require.NoError(t, s.EndAttempt(rec))
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	return rows
}

func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func TestAFullCycleLoadsBackTheSameRecords(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root, 2)
	assert.False(t, s.Resumed())
	assert.Equal(t, filepath.Join(root, "quadratic"), s.Dir())
	recs := s.Records()
	require.Len(t, recs, 2)
	runTrial(t, s, recs[0], 0, Terminated, 0.5, 0.25, 0.125)
	require.NoError(t, s.WriteSummary(Summary{Status: "running", StartedAt: t0}))

	sum, loaded, err := Load(root, "quadratic")
	require.NoError(t, err)
	assert.Equal(t, asJSON(t, s.Records()), asJSON(t, loaded))
	assert.Equal(t, "quadratic", sum.Name)
	assert.Equal(t, "exp.hcl", sum.File)
	assert.Equal(t, uint64(7), sum.Seed)
	assert.Equal(t, 2, sum.NumTrials)
	assert.Equal(t, map[Status]int{Pending: 1, Running: 0, Terminated: 1, Error: 0}, sum.Counts)
	assert.Equal(t, recs[0].ID, sum.BestTrial)
	assert.Equal(t, 0.125, sum.BestResult["loss"])

	dir := TrialDir(root, "quadratic", recs[0].ID)
	var params map[string]any
	b, err := os.ReadFile(filepath.Join(dir, ParamsFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &params))
	assert.Equal(t, map[string]any{"x": 0.0, "opt": "adam"}, params)

	lines := readLines(t, filepath.Join(dir, ResultFile))
	require.Len(t, lines, 3)
	for i, line := range lines {
		var row map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &row), "line %d", i)
		assert.Equal(t, float64(i+1), row[FieldTrainingIteration])
		assert.Equal(t, recs[0].ID, row[FieldTrialID])
		assert.Equal(t, float64(i+1), row[FieldTimeTotal])
		assert.Equal(t, 1.0, row[FieldTimeThisIter])
		assert.Equal(t, float64(t0.Unix()+int64(i+1)), row[FieldTimestamp])
		assert.Equal(t, 0.0, row[FieldAttempt])
		assert.NotEmpty(t, row[FieldDate])
	}

	rows := readCSV(t, filepath.Join(dir, ProgressFile))
	require.Len(t, rows, 4)
	assert.Equal(t, []string{"acc", "attempt", "date", "loss", "time_this_iter_s", "time_total_s", "timestamp", "training_iteration", "trial_id"}, rows[0])
	assert.Equal(t, "0.125", rows[3][3])
	assert.Equal(t, "3", rows[3][7])
	assert.Equal(t, fmt.Sprint(t0.Unix()+3), rows[3][6])

	stdout := readLines(t, filepath.Join(dir, StdoutFile))
	assert.Equal(t, []string{"=== attempt 0 started 2025-03-01T12:00:00Z ===", "hello from " + recs[0].ID}, stdout)
	stderr := readLines(t, filepath.Join(dir, StderrFile))
	assert.Equal(t, []string{"=== attempt 0 started 2025-03-01T12:00:00Z ===", "warning: something"}, stderr)

	trials := readCSV(t, filepath.Join(root, "quadratic", TrialsCSVFile))
	require.Len(t, trials, 3)
	assert.Equal(t, []string{"trial_id", "index", "status", "attempts", "failures", "error", "stop_reason", "iterations",
		"config/opt", "config/x", "acc", "attempt", "date", "loss", "time_this_iter_s", "time_total_s", "timestamp", "training_iteration"}, trials[0])
	assert.Equal(t, []string{recs[0].ID, "0", "TERMINATED", "1", "0", "", "", "3", "adam", "0"}, trials[1][:10])
	assert.Equal(t, "0.125", trials[1][13])
	assert.Equal(t, []string{recs[1].ID, "1", "PENDING", "0", "0", "", "", "0", "adam", "0.5", "", "", "", "", "", "", "", ""}, trials[2])
}

func TestReportKeepsTheTrialsOwnFieldsAndCopiesMetrics(t *testing.T) {
	s := openStore(t, t.TempDir(), 1)
	rec := s.Records()[0]
	_, _, err := s.BeginAttempt(rec, 2, t0)
	require.NoError(t, err)
	metrics := map[string]any{"loss": 1.0, "training_iteration": 10.0, "nested": map[string]any{"a": 1.0}}
	row, err := s.Report(rec, metrics, t0.Add(1500*time.Millisecond))
	require.NoError(t, err)
	assert.Equal(t, 10.0, row[FieldTrainingIteration])
	assert.Equal(t, 1.5, row[FieldTimeTotal])
	assert.Equal(t, 2.0, row[FieldAttempt])
	assert.Equal(t, 1, rec.Iterations)
	assert.Equal(t, pyjson.Object(row), rec.LastResult)
	assert.NotContains(t, metrics, FieldTrialID, "the caller's map is not changed")

	// A later row with a key the first did not have: result.json keeps it,
	// progress.csv keeps its columns.
	_, err = s.Report(rec, map[string]any{"loss": 0.5, "extra": 3.0}, t0.Add(2*time.Second))
	require.NoError(t, err)
	assert.Equal(t, 2, rec.Iterations)
	require.NoError(t, s.EndAttempt(rec))

	dir := TrialDir(s.root, "quadratic", rec.ID)
	lines := readLines(t, filepath.Join(dir, ResultFile))
	require.Len(t, lines, 2)
	assert.Contains(t, lines[1], `"extra":3`)
	assert.Contains(t, lines[1], `"training_iteration":2`)
	rows := readCSV(t, filepath.Join(dir, ProgressFile))
	require.Len(t, rows, 3)
	assert.Contains(t, rows[0], "nested/a")
	assert.NotContains(t, rows[0], "extra")
	assert.Len(t, rows[2], len(rows[0]))
}

func TestReportWithoutAnAttemptFails(t *testing.T) {
	s := openStore(t, t.TempDir(), 1)
	_, err := s.Report(s.Records()[0], map[string]any{"loss": 1.0}, t0)
	assert.ErrorContains(t, err, "no attempt open")
}

func TestARetriedAttemptStartsItsResultsAfresh(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root, 1)
	rec := s.Records()[0]
	runTrial(t, s, rec, 0, Pending, 3, 2, 1)
	rec.Failures++
	require.NoError(t, s.EndAttempt(rec))
	runTrial(t, s, rec, 1, Terminated, 9)

	dir := TrialDir(root, "quadratic", rec.ID)
	lines := readLines(t, filepath.Join(dir, ResultFile))
	require.Len(t, lines, 1)
	assert.Contains(t, lines[0], `"loss":9`)
	assert.Contains(t, lines[0], `"training_iteration":1`)
	assert.Contains(t, lines[0], `"attempt":1`)
	assert.Len(t, readCSV(t, filepath.Join(dir, ProgressFile)), 2)
	assert.Equal(t, 1, rec.Iterations)
	assert.Equal(t, 2, rec.Attempts)
	assert.Equal(t, 1, rec.Failures)

	stdout := readLines(t, filepath.Join(dir, StdoutFile))
	assert.Equal(t, "=== attempt 0 started 2025-03-01T12:00:00Z ===", stdout[0])
	assert.Equal(t, "=== attempt 1 started 2025-03-01T12:00:00Z ===", stdout[2])
}

func TestResumeKeepsFinishedTrialsAndRequeuesRunningOnes(t *testing.T) {
	root := t.TempDir()
	s, err := Open(root, testInfo(), testTrials(4))
	require.NoError(t, err)
	recs := s.Records()
	runTrial(t, s, recs[0], 0, Terminated, 0.5)
	recs[1].Error = "exit status 1"
	recs[1].Failures = 1
	runTrial(t, s, recs[1], 0, Error)
	runTrial(t, s, recs[2], 0, "", 0.7, 0.6) // still running at the crash
	require.NoError(t, s.WriteSummary(Summary{Status: "running"}))
	require.NoError(t, s.Close())

	s2 := openStore(t, root, 4)
	assert.True(t, s2.Resumed())
	require.NotNil(t, s2.Previous())
	assert.Equal(t, "running", s2.Previous().Status)
	got := s2.Records()
	require.Len(t, got, 4)
	tests := []struct {
		name     string
		status   Status
		attempts int
		failures int
	}{
		{"a terminated trial stays terminated", Terminated, 1, 0},
		{"an errored trial stays errored", Error, 1, 1},
		{"a trial running at the crash is pending again, and the interrupted attempt does not count", Pending, 0, 0},
		{"a trial that never started is pending", Pending, 0, 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := got[i]
			assert.Equal(t, i, r.Index)
			assert.Equal(t, tt.status, r.Status)
			assert.Equal(t, tt.attempts, r.Attempts)
			assert.Equal(t, tt.failures, r.Failures)
			assert.Equal(t, testTrials(4)[i].Params, r.Params)
		})
	}
	assert.Equal(t, 0.5, got[0].LastResult["loss"])
	assert.Equal(t, "exit status 1", got[1].Error)
}

func TestOpenAddsTrialsWhenNumSamplesGrows(t *testing.T) {
	root := t.TempDir()
	s, err := Open(root, testInfo(), testTrials(2))
	require.NoError(t, err)
	rec := s.Records()[0]
	rec.Status = Terminated
	require.NoError(t, s.EndAttempt(rec))
	require.NoError(t, s.WriteSummary(Summary{Status: "finished"}))
	require.NoError(t, s.Close())

	s, err = Open(root, testInfo(), testTrials(5))
	require.NoError(t, err)
	assert.True(t, s.Resumed())
	assert.Equal(t, 3, s.Added())
	got := s.Records()
	require.Len(t, got, 5)
	assert.Equal(t, Terminated, got[0].Status, "a finished trial stays finished")
	for _, r := range got[1:] {
		assert.Equal(t, Pending, r.Status, r.ID)
	}
	require.NoError(t, s.WriteSummary(Summary{Status: "running"}))
	require.NoError(t, s.Close())

	s, err = Open(root, testInfo(), testTrials(5))
	require.NoError(t, err, "the folder is now the larger experiment's")
	assert.Equal(t, 0, s.Added())
	require.NoError(t, s.Close())
}

func TestOpenRefusesAFolderOfOtherTrials(t *testing.T) {
	root := t.TempDir()
	s, err := Open(root, testInfo(), testTrials(2))
	require.NoError(t, err)
	require.NoError(t, s.Close())

	tests := []struct {
		name   string
		trials []TrialInfo
	}{
		{"more trials, the first of them changed", func() []TrialInfo { tr := testTrials(3); tr[0].ID = "00000-ffffff"; return tr }()},
		{"fewer trials", testTrials(1)},
		{"other ids", func() []TrialInfo { tr := testTrials(2); tr[1].ID = "00001-ffffff"; return tr }()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(root, testInfo(), tt.trials)
			require.Error(t, err)
			assert.Equal(t, fmt.Sprintf(`results folder %s holds experiment "quadratic" with different trials (the file, seed or space changed); use another -results folder or remove it`, filepath.Join(root, "quadratic")), err.Error())
		})
	}
	// The failed opens released the lock.
	s, err = Open(root, testInfo(), testTrials(2))
	require.NoError(t, err)
	assert.True(t, s.Resumed())
	require.NoError(t, s.Close())
}

func TestAnUnreadableTrialFileMakesTheTrialPending(t *testing.T) {
	tests := []struct {
		name  string
		spoil func(path string) error
	}{
		{"half written", func(p string) error {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(p, b[:len(b)/2], 0o644)
		}},
		{"empty", func(p string) error { return os.Truncate(p, 0) }},
		{"another trial's", func(p string) error {
			return os.WriteFile(p, []byte(`{"trial_id": "other", "status": "TERMINATED"}`), 0o644)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			s, err := Open(root, testInfo(), testTrials(1))
			require.NoError(t, err)
			runTrial(t, s, s.Records()[0], 0, Terminated, 0.5)
			require.NoError(t, s.Close())
			require.NoError(t, tt.spoil(filepath.Join(TrialDir(root, "quadratic", testTrials(1)[0].ID), TrialFile)))

			s2 := openStore(t, root, 1)
			r := s2.Records()[0]
			assert.Equal(t, Pending, r.Status)
			assert.Equal(t, 0, r.Attempts)
			assert.Equal(t, testTrials(1)[0].Params, r.Params)
		})
	}
}

func TestASecondOpenWhileTheFirstHoldsTheLockFails(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root, 1)
	_, err := Open(root, testInfo(), testTrials(1))
	require.Error(t, err)
	assert.Equal(t, fmt.Sprintf("results folder %s is in use by another tune process (pid %d)", filepath.Join(root, "quadratic"), os.Getpid()), err.Error())
	var inUse *InUseError
	assert.ErrorAs(t, err, &inUse)

	require.NoError(t, s.Close())
	s2, err := Open(root, testInfo(), testTrials(1))
	require.NoError(t, err, "Close released the lock")
	require.NoError(t, s2.Close())
}

func TestAtomicWritesLeaveNoTemporaryFiles(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root, 3)
	// A crash in the middle of an atomic write leaves one of these.
	stale := filepath.Join(s.Dir(), "."+TrialsCSVFile+tempMarker+"123")
	require.NoError(t, os.WriteFile(stale, []byte("half"), 0o644))
	for i, r := range s.Records() {
		runTrial(t, s, r, 0, Terminated, float64(i))
	}
	require.NoError(t, s.WriteSummary(Summary{Status: "finished"}))
	require.NoError(t, s.Close())
	s2 := openStore(t, root, 3)
	require.NoError(t, s2.WriteSummary(Summary{Status: "finished"}))

	var temps []string
	require.NoError(t, filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err == nil && isTempName(d.Name()) {
			temps = append(temps, path)
		}
		return err
	}))
	assert.Empty(t, temps)
}

func TestLogWritersAreSafeForConcurrentUseAndStopAtTheEnd(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root, 1)
	rec := s.Records()[0]
	out, _, err := s.BeginAttempt(rec, 0, t0)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Go(func() {
			for i := 0; i < 200; i++ {
				out.WriteLine(fmt.Sprintf("goroutine %d line %d %s", g, i, strings.Repeat("x", 100)))
			}
		})
	}
	wg.Wait()
	require.NoError(t, s.EndAttempt(rec))
	out.WriteLine("after the end")

	f, err := os.Open(filepath.Join(TrialDir(root, "quadratic", rec.ID), StdoutFile))
	require.NoError(t, err)
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if n > 0 {
			assert.Regexp(t, `^goroutine \d line \d+ x{100}$`, sc.Text())
		}
		n++
	}
	assert.Equal(t, 1+8*200, n)
}

func TestEndAttemptWithoutABeginPersistsTheRecord(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root, 1)
	rec := s.Records()[0]
	rec.Status = Error
	rec.Error = "no node can hold this trial"
	require.NoError(t, s.EndAttempt(rec))
	_, loaded, err := Load(root, "quadratic")
	require.NoError(t, err)
	require.Len(t, loaded, 1)
	assert.Equal(t, Error, loaded[0].Status)
	assert.Equal(t, rec.Error, loaded[0].Error)
}

func TestLoadShowsRunningAndNeverStartedTrials(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root, 2)
	rec := s.Records()[0]
	runTrial(t, s, rec, 0, "", 0.9, 0.8)
	require.NoError(t, s.WriteSummary(Summary{Status: "running"}))

	sum, loaded, err := Load(root, "quadratic")
	require.NoError(t, err)
	assert.Equal(t, "running", sum.Status)
	require.Len(t, loaded, 2)
	assert.Equal(t, Running, loaded[0].Status)
	assert.Equal(t, 2, loaded[0].Iterations)
	assert.Equal(t, 0.8, loaded[0].LastResult["loss"])
	assert.Equal(t, Pending, loaded[1].Status)
	assert.Equal(t, 1, loaded[1].Index)
	assert.Equal(t, map[string]any{"x": 0.5, "opt": "adam"}, loaded[1].Params)
}

func TestLoadOfAMissingExperimentNamesTheOnesThatExist(t *testing.T) {
	root := t.TempDir()
	_ = openStore(t, root, 1)
	tests := []struct {
		name string
		root string
		want string
	}{
		{"another name", root, fmt.Sprintf(`no experiment "nope" in results folder %s; it holds: quadratic`, root)},
		{"an empty folder", t.TempDir(), `no experiment "nope" in results folder`},
		{"no folder", filepath.Join(root, "missing"), "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Load(tt.root, "nope")
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

func TestOpenRejectsNamesThatAreNotOneFolder(t *testing.T) {
	tests := []struct {
		name   string
		info   Info
		trials []TrialInfo
	}{
		{"an experiment name with a slash", Info{Name: "a/b"}, nil},
		{"a trial id of ..", testInfo(), []TrialInfo{{ID: ".."}}},
		{"a duplicate trial id", testInfo(), []TrialInfo{{ID: "a"}, {ID: "a", Index: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(t.TempDir(), tt.info, tt.trials)
			assert.Error(t, err)
		})
	}
}

func TestBest(t *testing.T) {
	rec := func(i int, status Status, last map[string]any) *TrialRecord {
		return &TrialRecord{ID: fmt.Sprint(i), Index: i, Status: status, LastResult: last}
	}
	records := []*TrialRecord{
		rec(0, Terminated, map[string]any{"loss": 0.5, "acc": 0.7}),
		rec(1, Terminated, map[string]any{"loss": 0.2, "acc": 0.9}),
		rec(2, Running, map[string]any{"loss": 0.01, "acc": 0.99}),
		rec(3, Error, map[string]any{"loss": 0.2, "acc": 0.9}),
		rec(4, Terminated, map[string]any{"loss": "low"}),
		rec(5, Terminated, nil),
		rec(6, Terminated, map[string]any{"loss": int64(1), "acc": 3}),
	}
	diverged := []*TrialRecord{
		rec(0, Terminated, map[string]any{"loss": math.NaN()}),
		rec(1, Terminated, map[string]any{"loss": 0.9}),
		rec(2, Terminated, map[string]any{"loss": math.Inf(1)}),
	}
	tests := []struct {
		name, metric, mode string
		records            []*TrialRecord
		want               string
	}{
		{"min takes the lowest finished value, ties to the lower index", "loss", "min", records, "1"},
		{"no mode means min", "loss", "", records, "1"},
		{"max takes the highest, integers included", "acc", "max", records, "6"},
		{"a metric nobody reported gives none", "f1", "max", records, ""},
		{"no metric gives none", "", "min", records, ""},
		{"ties go to the lower index whatever the order", "loss", "min", []*TrialRecord{records[3], records[1]}, "1"},
		{"a NaN is never the lowest", "loss", "min", diverged, "1"},
		{"a NaN is never the highest; infinity is", "loss", "max", diverged, "2"},
		{"a NaN alone gives none", "loss", "min", diverged[:1], ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Best(tt.records, tt.metric, tt.mode)
			if tt.want == "" {
				assert.Nil(t, got)
				return
			}
			require.NotNil(t, got)
			assert.Equal(t, tt.want, got.ID)
		})
	}
}

func TestCellsReadBackAsTheirValues(t *testing.T) {
	tests := []struct {
		name string
		v    any
		text string
		back any
	}{
		{"a float", 0.125, "0.125", 0.125},
		{"a timestamp stays a plain integer", 1.7e9, "1700000000", 1.7e9},
		{"a tiny float", 1e-9, "1e-09", 1e-9},
		{"an integer", int64(3), "3", 3.0},
		{"a bool", true, "true", true},
		{"a string", "adam", "adam", "adam"},
		{"a list", []any{1.0, "a"}, `[1,"a"]`, []any{1.0, "a"}},
		{"nothing", nil, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.text, cellString(tt.v))
			assert.Equal(t, tt.back, parseCell(tt.text))
		})
	}
}

func BenchmarkWriteSummary100kTrials(b *testing.B) {
	trials := make([]TrialInfo, 100_000)
	for i := range trials {
		trials[i] = TrialInfo{ID: fmt.Sprintf("%05d-%06x", i, i), Index: i, Params: map[string]any{"x": float64(i) * 0.001, "lr": 1e-3, "layers": int64(3), "opt": "adam"}}
	}
	s, err := Open(b.TempDir(), testInfo(), trials)
	require.NoError(b, err)
	defer s.Close()
	for i, r := range s.records {
		r.Status = Terminated
		r.Iterations = 100
		r.LastResult = map[string]any{"loss": float64(i) * 1e-4, "acc": 0.9, "training_iteration": 100.0, "time_total_s": 12.5,
			"time_this_iter_s": 0.1, "timestamp": 1.7e9, "trial_id": r.ID, "date": "2025-03-01T12:00:00Z", "attempt": 0.0}
	}
	b.ResetTimer()
	for b.Loop() {
		require.NoError(b, s.WriteSummary(Summary{Status: "running"}))
	}
}
