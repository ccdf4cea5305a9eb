//go:build unix

package test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/driver/local"
)

// The trials of these tests are small sh scripts written next to the
// experiment file: tune runs a local trial in the folder of its experiment
// file, so scripts and the logs they append to are named relative to it.
// They need nothing but /bin/sh and coreutils.

// workspace is a temporary folder holding an experiment file, its trial
// scripts and its results folder.
type workspace struct {
	dir     string
	results string
}

func newWorkspace(t *testing.T) *workspace {
	t.Helper()
	dir := t.TempDir()
	return &workspace{dir: dir, results: filepath.Join(dir, "results")}
}

func (w *workspace) write(t *testing.T, name, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(w.dir, name), []byte(content), 0o644))
}

func (w *workspace) path(name string) string { return filepath.Join(w.dir, name) }

// applyArgs are the arguments of `tune apply` on the workspace's exp.hcl.
func (w *workspace) applyArgs(extra ...string) []string {
	return append([]string{"apply", "exp.hcl", "-results", w.results, "-progress", "plain"}, extra...)
}

// apply runs `tune apply exp.hcl` to the end.
func (w *workspace) apply(t *testing.T, extra ...string) result {
	t.Helper()
	return tune(t, w.dir, w.applyArgs(extra...)...)
}

// background is a `tune apply` started without waiting for it.
type background struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
	stderr bytes.Buffer
	done   chan struct{}
	code   int
}

// start runs `tune apply exp.hcl` in the background; the test's cleanup
// kills it if it is still running.
func (w *workspace) start(t *testing.T, extra ...string) *background {
	t.Helper()
	b := &background{done: make(chan struct{})}
	b.cmd = exec.Command(tuneBin, w.applyArgs(extra...)...)
	b.cmd.Dir = w.dir
	b.cmd.Env = localEnv()
	b.cmd.Stdout, b.cmd.Stderr = &b.stdout, &b.stderr
	require.NoError(t, b.cmd.Start())
	go func() {
		err := b.cmd.Wait()
		b.code = 0
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			b.code = exitErr.ExitCode()
		} else if err != nil {
			b.code = -1
		}
		close(b.done)
	}()
	t.Cleanup(func() {
		select {
		case <-b.done:
		default:
			_ = b.cmd.Process.Kill()
			<-b.done
		}
	})
	return b
}

// wait waits for the background apply to exit and returns its status; it
// fails the test if that takes longer than timeout.
func (b *background) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-b.done:
		return b.code
	case <-time.After(timeout):
		_ = b.cmd.Process.Kill()
		<-b.done
		t.Fatalf("tune apply did not exit within %s\nstdout:\n%s\nstderr:\n%s", timeout, b.stdout.String(), b.stderr.String())
		return 0
	}
}

// trialRecord is the part of a trial's record (trial.json, `tune results
// -json`) the tests read.
type trialRecord struct {
	ID         string         `json:"trial_id"`
	Index      int            `json:"index"`
	Params     map[string]any `json:"params"`
	Status     string         `json:"status"`
	Attempts   int            `json:"attempts"`
	Failures   int            `json:"failures"`
	Error      string         `json:"error"`
	StopReason string         `json:"stop_reason"`
	Iterations int            `json:"iterations"`
	LastResult map[string]any `json:"last_result"`
	History    []struct {
		Admitted   time.Time `json:"admitted_at"`
		Registered time.Time `json:"registered_at"`
		Placed     time.Time `json:"placed_at"`
		Running    time.Time `json:"running_at"`
		Ended      time.Time `json:"ended_at"`
	} `json:"history"`
}

// assertStagesInOrder checks that every attempt of the record passed its
// stages in order: admitted, registered, placed, running, ended. An
// attempt adopted from a run that was killed has no admission, which only
// an attempt registered before resumed (the start of the resuming run;
// zero when nothing was resumed) may lack.
func assertStagesInOrder(t *testing.T, rec trialRecord, resumed time.Time) {
	t.Helper()
	require.NotEmpty(t, rec.History, rec.ID)
	for i, h := range rec.History {
		stages := []time.Time{h.Admitted, h.Registered, h.Placed, h.Running, h.Ended}
		first := 1
		if h.Admitted.IsZero() {
			require.False(t, resumed.IsZero(), "trial %s attempt %d: admitted", rec.ID, i)
			assert.True(t, h.Registered.Before(resumed), "trial %s attempt %d: only an adopted attempt has no admission", rec.ID, i)
			first = 2
		}
		for j := first; j < len(stages); j++ {
			require.False(t, stages[j].IsZero(), "trial %s attempt %d: stage %d is missing", rec.ID, i, j)
			assert.False(t, stages[j].Before(stages[j-1]), "trial %s attempt %d: stage %d at %s comes before stage %d at %s",
				rec.ID, i, j, stages[j], j-1, stages[j-1])
		}
	}
}

// resultsJSON is `tune results -json`.
type resultsJSON struct {
	Summary struct {
		Name       string         `json:"name"`
		Status     string         `json:"status"`
		NumTrials  int            `json:"num_trials"`
		Counts     map[string]int `json:"counts"`
		BestTrial  string         `json:"best_trial"`
		BestResult map[string]any `json:"best_result"`
		Scheduling struct {
			Ran         int `json:"ran"`
			Concurrency struct {
				Peak int `json:"peak"`
			} `json:"concurrency"`
		} `json:"scheduling"`
	} `json:"summary"`
	Trials []trialRecord `json:"trials"`
}

// resultsOf reads an experiment's results with `tune results -json`.
func (w *workspace) resultsOf(t *testing.T, name string) resultsJSON {
	t.Helper()
	r := tune(t, w.dir, "results", name, "-results", w.results, "-json")
	require.Equal(t, 0, r.code, r.stderr)
	var out resultsJSON
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), r.stdout)
	return out
}

// trialFiles reads every trial.json of an experiment as it is on disk,
// by trial ID: what a running or killed tune has recorded so far.
func (w *workspace) trialFiles(t *testing.T, name string) map[string]trialRecord {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(w.results, name, "*", "trial.json"))
	require.NoError(t, err)
	out := map[string]trialRecord{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // not there yet
		}
		var rec trialRecord
		require.NoError(t, json.Unmarshal(b, &rec), "%s is written atomically, so it always parses:\n%s", p, b)
		out[rec.ID] = rec
	}
	return out
}

// finishedIDs are the trials whose trial.json says they are done.
func (w *workspace) finishedIDs(t *testing.T, name string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for id, rec := range w.trialFiles(t, name) {
		if rec.Status == "TERMINATED" || rec.Status == "ERROR" {
			out[id] = true
		}
	}
	return out
}

// resultRows reads a trial's result.json, requiring every line to be one
// whole JSON object.
func (w *workspace) resultRows(t *testing.T, name, trialID string) []map[string]any {
	t.Helper()
	path := filepath.Join(w.results, name, trialID, "result.json")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	if len(b) == 0 {
		return nil
	}
	require.True(t, bytes.HasSuffix(b, []byte("\n")), "%s ends in a cut line:\n%s", path, b)
	var rows []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		var row map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &row), "%s has a line that is not JSON: %q", path, line)
		rows = append(rows, row)
	}
	return rows
}

func (w *workspace) trialLog(t *testing.T, name, trialID, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(w.results, name, trialID, file))
	require.NoError(t, err)
	return string(b)
}

// logLines reads a log the trials append to, one entry a line; a missing
// log is empty.
func (w *workspace) logLines(t *testing.T, name string) []string {
	t.Helper()
	b, err := os.ReadFile(w.path(name))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// firstFields is the first field of each line: the trial IDs of a log
// whose lines start with one.
func firstFields(lines []string) []string {
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		out = append(out, strings.Fields(l)[0])
	}
	return out
}

func countOf(list []string) map[string]int {
	out := map[string]int{}
	for _, s := range list {
		out[s]++
	}
	return out
}

// timesScript appends "start ID NS" and "end ID NS" around a short sleep,
// each line in one write, so that the test can tell from the log which
// trials ran at the same time.
const timesScript = `echo "start $TUNE_TRIAL_ID $(date +%s%N)" >> times.log
sleep 0.3
echo "end $TUNE_TRIAL_ID $(date +%s%N)" >> times.log
`

// barrierScript logs as timesScript does, but a trial ends only once n
// trials have logged their start (or after a minute, so that a tune that
// runs fewer at once fails the test instead of hanging it): the first n
// trials then overlap however slowly a loaded machine starts them.
func barrierScript(n int) string {
	return fmt.Sprintf(`echo "start $TUNE_TRIAL_ID $(date +%%s%%N)" >> times.log
i=0
while [ "$(grep -c '^start' times.log)" -lt %d ] && [ $i -lt 6000 ]; do sleep 0.01; i=$((i+1)); done
echo "end $TUNE_TRIAL_ID $(date +%%s%%N)" >> times.log
`, n)
}

// interval is when one trial ran, as it recorded it itself: inside the
// time its process lived, so overlaps of intervals are overlaps of trials.
type interval struct {
	id         string
	start, end int64
}

// readIntervals parses times.log; every trial must have logged both ends.
func (w *workspace) readIntervals(t *testing.T) []interval {
	t.Helper()
	byID := map[string]*interval{}
	for _, line := range w.logLines(t, "times.log") {
		f := strings.Fields(line)
		require.Len(t, f, 3, "times.log line %q", line)
		ns, err := strconv.ParseInt(f[2], 10, 64)
		require.NoError(t, err, "times.log line %q: date +%%s%%N must print nanoseconds", line)
		iv := byID[f[1]]
		if iv == nil {
			iv = &interval{id: f[1]}
			byID[f[1]] = iv
		}
		switch f[0] {
		case "start":
			require.Zero(t, iv.start, "trial %s started twice", f[1])
			iv.start = ns
		case "end":
			require.Zero(t, iv.end, "trial %s ended twice", f[1])
			iv.end = ns
		default:
			t.Fatalf("times.log line %q", line)
		}
	}
	out := make([]interval, 0, len(byID))
	for _, iv := range byID {
		require.NotZero(t, iv.start, "trial %s logged no start", iv.id)
		require.NotZero(t, iv.end, "trial %s logged no end", iv.id)
		out = append(out, *iv)
	}
	return out
}

// maxOverlap is the largest number of intervals that contain one instant.
// An interval that ends when another starts does not overlap it.
func maxOverlap(ivs []interval) int {
	type edge struct {
		at    int64
		delta int
	}
	edges := make([]edge, 0, 2*len(ivs))
	for _, iv := range ivs {
		edges = append(edges, edge{iv.start, +1}, edge{iv.end, -1})
	}
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].at != edges[j].at {
			return edges[i].at < edges[j].at
		}
		return edges[i].delta < edges[j].delta
	})
	n, most := 0, 0
	for _, e := range edges {
		n += e.delta
		most = max(most, n)
	}
	return most
}

func overlaps(a, b interval) bool { return a.start < b.end && b.start < a.end }

// processGone reports whether pid has exited: no such process, or a
// zombie waiting for whoever inherited it to reap it.
func processGone(pid int) bool {
	err := syscall.Kill(pid, 0)
	if errors.Is(err, syscall.ESRCH) || errors.Is(err, syscall.EPERM) {
		return true
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	// The state follows the command name, which is in parentheses.
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] == 'Z'
	}
	return false
}

// pidsIn are the numbers in the given field of each line of a log.
func pidsIn(t *testing.T, lines []string, field int) []int {
	t.Helper()
	var pids []int
	for _, l := range lines {
		f := strings.Fields(l)
		require.Greater(t, len(f), field, "log line %q", l)
		pid, err := strconv.Atoi(f[field])
		require.NoError(t, err, "log line %q", l)
		pids = append(pids, pid)
	}
	return pids
}

// supervisorsOf are the trial supervisors that the tune of process tunePID
// started and that still run (none where there is no /proc).
func supervisorsOf(tunePID int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		if len(args) > 2 && args[1] == local.SupervisorCommand && args[2] == strconv.Itoa(tunePID) {
			out = append(out, pid)
		}
	}
	return out
}

func allGone(pids []int) bool {
	for _, pid := range pids {
		if !processGone(pid) {
			return false
		}
	}
	return true
}

// sleeperExperiment is n samples of times.sh with the given resources body
// and extra experiment attributes.
func sleeperExperiment(samples int, resources, extra string) string {
	return fmt.Sprintf(`experiment "overlap" {
  num_samples = %d
  %s
  space {
    x = uniform(0, 1)
  }
  resources {
    %s
  }
  task "train" {
    command = "sh"
    args    = ["times.sh"]
  }
}
`, samples, extra, resources)
}

func TestApplyRunsAsManyTrialsAtOnceAsFitAndNeverMore(t *testing.T) {
	cases := []struct {
		name      string
		resources string
		extra     string
		trials    int
		want      int
	}{
		{"one CPU per trial by default runs one trial per CPU", "", "", 8, 4},
		{"half a CPU per trial runs two trials per CPU", "cpu = 0.5", "", 16, 8},
		{"max_concurrent_trials caps what fits", "cpu = 0.5", "max_concurrent_trials = 3", 9, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorkspace(t)
			w.write(t, "times.sh", barrierScript(tc.want))
			w.write(t, "exp.hcl", sleeperExperiment(tc.trials, tc.resources, tc.extra))
			// Memory is declared so that the machine's own cannot be the
			// limit: the test is about CPUs and the cap.
			r := w.apply(t, "-local-cpus", "4", "-local-memory", "64GiB")
			require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			assert.Contains(t, r.stdout, fmt.Sprintf("at most %d trials", tc.want))

			ivs := w.readIntervals(t)
			require.Len(t, ivs, tc.trials, "every trial runs once")
			assert.Equal(t, tc.want, maxOverlap(ivs), "most trials running at one time")
		})
	}
}

func TestApplyGivesGPUTrialsTheirOwnGPUs(t *testing.T) {
	w := newWorkspace(t)
	// Each trial ends once all four have started, so the two GPU trials
	// run at the same time however slowly a loaded machine starts them.
	w.write(t, "gpu.sh", `echo "@tune {\"dev\": \"$CUDA_VISIBLE_DEVICES\"}"
`+barrierScript(4))
	w.write(t, "exp.hcl", `experiment "gpus" {
  num_samples = 2
  space {
    use_gpu = grid([true, false])
  }
  resources {
    memory = 64
    gpu    = trial.use_gpu ? 1 : 0
  }
  task "train" {
    command = "sh"
    args    = ["gpu.sh"]
  }
}
`)
	// The GPUs are declared: the machine need not have any, and trials
	// see only CUDA_VISIBLE_DEVICES.
	r := w.apply(t, "-local-cpus", "4", "-local-gpus", "2", "-local-memory", "64GiB")
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)

	res := w.resultsOf(t, "gpus")
	require.Len(t, res.Trials, 4)
	ivs := map[string]interval{}
	for _, iv := range w.readIntervals(t) {
		ivs[iv.id] = iv
	}
	var gpuTrials []string
	devices := map[string]string{}
	for _, rec := range res.Trials {
		require.Equal(t, "TERMINATED", rec.Status, rec.ID)
		rows := w.resultRows(t, "gpus", rec.ID)
		require.Len(t, rows, 1, rec.ID)
		dev, ok := rows[0]["dev"].(string)
		require.True(t, ok, "trial %s reported %v", rec.ID, rows[0])
		devices[rec.ID] = dev
		if rec.Params["use_gpu"] == true {
			gpuTrials = append(gpuTrials, rec.ID)
			assert.Contains(t, []string{"0", "1"}, dev, "GPU trial %s sees one GPU", rec.ID)
		} else {
			assert.Empty(t, dev, "CPU trial %s sees no GPU", rec.ID)
		}
	}
	require.Len(t, gpuTrials, 2)
	a, b := ivs[gpuTrials[0]], ivs[gpuTrials[1]]
	// 4 CPUs and 2 GPUs hold all 4 trials at once.
	require.True(t, overlaps(a, b), "the two GPU trials ran at the same time")
	assert.NotEqual(t, devices[a.id], devices[b.id], "GPU trials running at the same time share no GPU")
}

func TestApplyGivesTrialsTheirIdentityAndConfig(t *testing.T) {
	w := newWorkspace(t)
	w.write(t, "env.sh", `{
  echo "$TUNE_TRIAL_ID"
  echo "$TUNE_TRIAL_INDEX"
  echo "$TUNE_CONFIG"
  echo "$TUNE_RANK"
  echo "$TUNE_WORLD_SIZE"
} > "env-$TUNE_TRIAL_ID"
echo '@tune {"loss": 1}'
`)
	w.write(t, "exp.hcl", `experiment "env" {
  num_samples = 2
  seed        = 5
  space {
    lr     = loguniform(1e-4, 1e-1)
    opt    = choice(["adam", "sgd"])
    layers = grid([2, 3])
    name   = "a<b & \"c\""
  }
  resources {
    cpu    = 0.5
    memory = 64
  }
  task "train" {
    command = "sh"
    args    = ["env.sh"]
  }
}
`)
	r := w.apply(t, "-local-cpus", "4", "-local-memory", "64GiB")
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)

	res := w.resultsOf(t, "env")
	require.Len(t, res.Trials, 4)
	for _, rec := range res.Trials {
		b, err := os.ReadFile(w.path("env-" + rec.ID))
		require.NoError(t, err, "trial %s saw TUNE_TRIAL_ID", rec.ID)
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		require.Len(t, lines, 5, "%s", b)
		assert.Equal(t, rec.ID, lines[0], "TUNE_TRIAL_ID")
		assert.Equal(t, strconv.Itoa(rec.Index), lines[1], "TUNE_TRIAL_INDEX")
		var config map[string]any
		require.NoError(t, json.Unmarshal([]byte(lines[2]), &config), "TUNE_CONFIG is JSON: %s", lines[2])
		assert.Equal(t, rec.Params, config, "TUNE_CONFIG holds the trial's parameters")
		assert.Equal(t, `a<b & "c"`, config["name"])
		assert.Equal(t, "0", lines[3], "TUNE_RANK of a one-process trial")
		assert.Equal(t, "1", lines[4], "TUNE_WORLD_SIZE of a one-process trial")

		params, err := os.ReadFile(filepath.Join(w.results, "env", rec.ID, "params.json"))
		require.NoError(t, err)
		var fromFile map[string]any
		require.NoError(t, json.Unmarshal(params, &fromFile))
		assert.Equal(t, rec.Params, fromFile, "params.json")
	}
}

func TestApplyRunsEveryRankOfAMultiWorkerTrialAndKeepsRankZerosReports(t *testing.T) {
	w := newWorkspace(t)
	w.write(t, "worker.sh", `echo "$TUNE_WORLD_SIZE" > "rank-$TUNE_RANK"
echo "@tune {\"rank\": $TUNE_RANK}"
echo "@tune {\"rank\": $TUNE_RANK, \"step\": 2}"
`)
	w.write(t, "exp.hcl", `experiment "gang" {
  group "worker" {
    count = 3
    resources {
      cpu    = 1
      memory = 64
    }
    task "train" {
      command = "sh"
      args    = ["worker.sh"]
    }
  }
}
`)
	r := w.apply(t, "-local-cpus", "4", "-local-memory", "64GiB")
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)

	for rank := 0; rank < 3; rank++ {
		b, err := os.ReadFile(w.path(fmt.Sprintf("rank-%d", rank)))
		require.NoError(t, err, "rank %d ran", rank)
		assert.Equal(t, "3\n", string(b), "TUNE_WORLD_SIZE of rank %d", rank)
	}
	_, err := os.Stat(w.path("rank-3"))
	assert.ErrorIs(t, err, os.ErrNotExist, "there are only 3 ranks")

	res := w.resultsOf(t, "gang")
	require.Len(t, res.Trials, 1)
	rec := res.Trials[0]
	assert.Equal(t, "TERMINATED", rec.Status)
	assert.Equal(t, 2, rec.Iterations, "only rank 0's reports count")
	rows := w.resultRows(t, "gang", rec.ID)
	require.Len(t, rows, 2, "only rank 0's reports are results")
	for _, row := range rows {
		assert.Equal(t, 0.0, row["rank"])
	}
	stdout := w.trialLog(t, "gang", rec.ID, "stdout.log")
	for rank := 0; rank < 3; rank++ {
		assert.Contains(t, stdout, fmt.Sprintf("[%d] @tune {\"rank\": %d}", rank, rank), "every rank's lines stay in the log")
	}
}

func TestApplyRetriesAFailedTrialAndReportsOneThatKeepsFailing(t *testing.T) {
	w := newWorkspace(t)
	// A flaky trial fails until its marker exists; a broken one always
	// fails.
	w.write(t, "trial.sh", `if [ "$1" = flaky ] && [ -e "marker-$TUNE_TRIAL_ID" ]; then
  echo '@tune {"loss": 1}'
  exit 0
fi
touch "marker-$TUNE_TRIAL_ID"
echo "failing on purpose" >&2
exit 3
`)
	w.write(t, "exp.hcl", `experiment "retry" {
  space {
    kind = grid(["flaky", "broken"])
  }
  resources {
    memory = 64
  }
  task "train" {
    command = "sh"
    args    = ["trial.sh", trial.kind]
  }
  failure {
    max_failures = 1
  }
}
`)
	r := w.apply(t, "-local-cpus", "2", "-local-memory", "64GiB")
	assert.Equal(t, 1, r.code, "a trial ended in error\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	assert.Contains(t, r.stderr, "1 trial ended in error")
	assert.Contains(t, r.stderr, filepath.Join(w.results, "retry", "trials.csv"))

	res := w.resultsOf(t, "retry")
	require.Len(t, res.Trials, 2)
	for _, rec := range res.Trials {
		switch rec.Params["kind"] {
		case "flaky":
			assert.Equal(t, "TERMINATED", rec.Status, "the retry succeeded")
			assert.Equal(t, 1, rec.Failures)
			assert.Equal(t, 2, rec.Attempts)
			assert.Equal(t, 1, rec.Iterations)
			assert.Len(t, w.resultRows(t, "retry", rec.ID), 1)
		case "broken":
			assert.Equal(t, "ERROR", rec.Status, "no retries left")
			assert.Equal(t, 2, rec.Failures)
			assert.Equal(t, 2, rec.Attempts)
			assert.Contains(t, rec.Error, "status 3")
			// Both attempts' output is kept, each after its header.
			stderr := w.trialLog(t, "retry", rec.ID, "stderr.log")
			assert.Equal(t, 2, strings.Count(stderr, "failing on purpose"), stderr)
		default:
			t.Fatalf("unexpected trial %+v", rec)
		}
	}
	assert.Equal(t, 1, res.Summary.Counts["TERMINATED"], res.Summary.Counts)
	assert.Equal(t, 1, res.Summary.Counts["ERROR"], res.Summary.Counts)
}

func TestApplyStopsATrialAtItsTimeout(t *testing.T) {
	w := newWorkspace(t)
	w.write(t, "trial.sh", `echo '@tune {"step": 1}'
sleep 30
touch finished
`)
	w.write(t, "exp.hcl", `experiment "timeout" {
  resources {
    memory = 64
  }
  task "train" {
    command = "sh"
    args    = ["trial.sh"]
  }
  stop {
    trial_timeout = "1s"
  }
}
`)
	began := time.Now()
	r := w.apply(t, "-local-cpus", "2", "-local-memory", "64GiB")
	t.Logf("apply took %s for a trial of 30 s with a timeout of 1 s", time.Since(began).Round(time.Millisecond))
	require.Equal(t, 0, r.code, "a timeout ends a trial well\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)

	res := w.resultsOf(t, "timeout")
	require.Len(t, res.Trials, 1)
	rec := res.Trials[0]
	assert.Equal(t, "TERMINATED", rec.Status)
	assert.Contains(t, rec.StopReason, "trial_timeout")
	assert.Equal(t, 1, rec.Iterations)
	assert.NoFileExists(t, w.path("finished"), "the trial was stopped, not left to finish")
}

func TestApplyStopsATrialAtTheFirstReportPastAtMost(t *testing.T) {
	w := newWorkspace(t)
	w.write(t, "trial.sh", `for loss in 0.9 0.7 0.4 0.3; do
  echo "@tune {\"loss\": $loss}"
done
sleep 30
echo '@tune {"loss": 0.1}'
touch finished
`)
	w.write(t, "exp.hcl", `experiment "atmost" {
  metric = "loss"
  mode   = "min"
  resources {
    memory = 64
  }
  task "train" {
    command = "sh"
    args    = ["trial.sh"]
  }
  stop {
    at_most = { loss = 0.5 }
  }
}
`)
	r := w.apply(t, "-local-cpus", "2", "-local-memory", "64GiB")
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)

	res := w.resultsOf(t, "atmost")
	require.Len(t, res.Trials, 1)
	rec := res.Trials[0]
	assert.Equal(t, "TERMINATED", rec.Status)
	assert.Equal(t, "loss <= 0.5", rec.StopReason)
	assert.Equal(t, 3, rec.Iterations, "reports after the stop do not count")
	assert.Equal(t, 0.4, rec.LastResult["loss"])
	rows := w.resultRows(t, "atmost", rec.ID)
	require.Len(t, rows, 3)
	assert.Equal(t, 0.4, rows[2]["loss"])
	assert.NoFileExists(t, w.path("finished"), "the trial was stopped, not left to finish")
}

func TestApplyResumesAfterBeingKilled(t *testing.T) {
	w := newWorkspace(t)
	// Each trial logs its ID and pid when it starts, then reports for
	// half a second.
	w.write(t, "trial.sh", `echo "$TUNE_TRIAL_ID $$" >> runs
i=1
while [ $i -le 5 ]; do
  echo "@tune {\"step\": $i}"
  sleep 0.1
  i=$((i + 1))
done
`)
	w.write(t, "exp.hcl", `experiment "resume" {
  num_samples = 8
  space {
    x = uniform(0, 1)
  }
  resources {
    cpu    = 1
    memory = 64
  }
  task "train" {
    command = "sh"
    args    = ["trial.sh"]
  }
}
`)
	flags := []string{"-local-cpus", "2", "-local-memory", "64GiB"}
	first := w.start(t, flags...)

	// The folder is locked as soon as the experiment's file is written.
	require.Eventually(t, func() bool {
		_, err := os.Stat(filepath.Join(w.results, "resume", "experiment.json"))
		return err == nil
	}, 20*time.Second, 10*time.Millisecond, "the first apply wrote experiment.json")
	second := w.apply(t, flags...)
	assert.Equal(t, 1, second.code, "a second apply on the same results folder fails\nstdout:\n%s", second.stdout)
	assert.Contains(t, second.stderr, "in use")

	finished := w.killMidway(t, first, "resume", 2)
	before := firstFields(w.logLines(t, "runs"))
	var interrupted []string
	for id := range countOf(before) {
		if !finished[id] {
			interrupted = append(interrupted, id)
		}
	}
	require.NotEmpty(t, interrupted, "some trial was running when tune was killed")

	r := w.apply(t, flags...)
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	assert.Contains(t, r.stdout, fmt.Sprintf("%d of 8 trials are already done", len(finished)))

	after := firstFields(w.logLines(t, "runs"))
	require.GreaterOrEqual(t, len(after), len(before))
	rerun := countOf(after[len(before):])
	total := countOf(after)
	res := w.resultsOf(t, "resume")
	require.Len(t, res.Trials, 8)
	for _, rec := range res.Trials {
		assert.Equal(t, "TERMINATED", rec.Status, rec.ID)
		if finished[rec.ID] {
			assert.Equal(t, 1, total[rec.ID], "trial %s finished before the kill and does not run again", rec.ID)
		} else {
			assert.Equal(t, 1, rerun[rec.ID], "trial %s was not finished and runs once on resume; runs before the resume: %q, after: %q",
				rec.ID, before, after[len(before):])
		}
		rows := w.resultRows(t, "resume", rec.ID)
		require.Len(t, rows, 5, "trial %s: the results of the attempt that counts", rec.ID)
		for i, row := range rows {
			assert.Equal(t, rec.ID, row["trial_id"])
			assert.Equal(t, float64(i+1), row["step"])
		}
	}
	for _, id := range interrupted {
		assert.Equal(t, 2, total[id], "trial %s was interrupted by the kill and ran again", id)
	}
	assert.Equal(t, "finished", res.Summary.Status)
}

func TestApplyStopsOnInterruptAndResumes(t *testing.T) {
	w := newWorkspace(t)
	// Long until the test writes "fast"; the sleep is a child of the
	// trial's shell, so stopping the trial must reach its whole group.
	w.write(t, "trial.sh", `echo "$TUNE_TRIAL_ID $$" >> runs
if [ -e fast ]; then
  echo '@tune {"loss": 1}'
  exit 0
fi
echo '@tune {"loss": 2}'
sleep 30 &
echo "$TUNE_TRIAL_ID $!" >> sleeps
wait
`)
	w.write(t, "exp.hcl", `experiment "interrupt" {
  metric      = "loss"
  mode        = "min"
  num_samples = 2
  space {
    x = uniform(0, 1)
  }
  resources {
    memory = 64
  }
  task "train" {
    command = "sh"
    args    = ["trial.sh"]
  }
}
`)
	flags := []string{"-local-cpus", "2", "-local-memory", "64GiB"}
	run := w.start(t, flags...)
	require.Eventually(t, func() bool {
		return len(w.logLines(t, "sleeps")) == 2
	}, 20*time.Second, 10*time.Millisecond, "both trials are running")
	require.NoError(t, run.cmd.Process.Signal(os.Interrupt))
	code := run.wait(t, 20*time.Second)
	assert.Equal(t, 130, code, "stdout:\n%s\nstderr:\n%s", run.stdout.String(), run.stderr.String())
	assert.Contains(t, run.stdout.String(), "Stopped: interrupted")
	assert.Contains(t, run.stderr.String(), "stopping the running trials")

	pids := append(pidsIn(t, w.logLines(t, "runs"), 1), pidsIn(t, w.logLines(t, "sleeps"), 1)...)
	// A killed process is gone once the kernel has delivered the signal;
	// the wait only covers that delivery.
	assert.Eventually(t, func() bool { return allGone(pids) }, 30*time.Second, 10*time.Millisecond,
		"the trials' processes, their children included, are gone after tune exits")

	res := w.resultsOf(t, "interrupt")
	assert.Equal(t, "stopped", res.Summary.Status)
	require.Len(t, res.Trials, 2)
	for _, rec := range res.Trials {
		assert.Equal(t, "PENDING", rec.Status, "an interrupted trial runs again on resume")
	}

	w.write(t, "fast", "")
	r := w.apply(t, flags...)
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "0 of 2 trials are already done")
	res = w.resultsOf(t, "interrupt")
	for _, rec := range res.Trials {
		assert.Equal(t, "TERMINATED", rec.Status, rec.ID)
		assert.Equal(t, 1.0, rec.LastResult["loss"], "the results are the resumed run's")
	}
	assert.Equal(t, "finished", res.Summary.Status)
	runs := countOf(firstFields(w.logLines(t, "runs")))
	assert.Len(t, runs, 2)
	for id, n := range runs {
		assert.Equal(t, 2, n, "trial %s ran before the interrupt and again on resume", id)
	}
}

func TestApplyWarnsOnceOfInvalidReportLinesAndKeepsThem(t *testing.T) {
	w := newWorkspace(t)
	w.write(t, "trial.sh", `echo '@tune {"loss": 1}'
echo '@tune {broken'
echo 'an ordinary line'
echo '@tune {broken again'
echo '@tune {"loss": 0.5}'
`)
	w.write(t, "exp.hcl", `experiment "invalid" {
  metric = "loss"
  mode   = "min"
  resources {
    memory = 64
  }
  task "train" {
    command = "sh"
    args    = ["trial.sh"]
  }
}
`)
	r := w.apply(t, "-local-cpus", "2", "-local-memory", "64GiB")
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	res := w.resultsOf(t, "invalid")
	require.Len(t, res.Trials, 1)
	rec := res.Trials[0]

	var warnings []string
	for _, l := range strings.Split(r.stdout+r.stderr, "\n") {
		if strings.Contains(l, "invalid @tune line") {
			warnings = append(warnings, l)
		}
	}
	require.Len(t, warnings, 1, "one warning for two invalid lines\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	assert.True(t, strings.HasPrefix(warnings[0], "warning: trial "+rec.ID), warnings[0])
	assert.Contains(t, warnings[0], "stdout.log")

	assert.Equal(t, "TERMINATED", rec.Status)
	stdout := w.trialLog(t, "invalid", rec.ID, "stdout.log")
	assert.Contains(t, stdout, "@tune {broken\n")
	assert.Contains(t, stdout, "@tune {broken again\n")
	assert.Contains(t, stdout, "an ordinary line\n")
	rows := w.resultRows(t, "invalid", rec.ID)
	require.Len(t, rows, 2)
	assert.Equal(t, 1.0, rows[0]["loss"])
	assert.Equal(t, 0.5, rows[1]["loss"])
	assert.Contains(t, r.stdout, "Best trial: "+rec.ID+" with loss=0.5\n", "a trial without parameters has none to show")
}

func TestResultsShowsTheTableAndTheBestTrialAfterApply(t *testing.T) {
	w := newWorkspace(t)
	// Trial i reports (i-2)^2: the trial of index 2 is best.
	w.write(t, "trial.sh", `echo "@tune {\"loss\": $(( (TUNE_TRIAL_INDEX - 2) * (TUNE_TRIAL_INDEX - 2) ))}"
`)
	w.write(t, "exp.hcl", `experiment "scored" {
  metric      = "loss"
  mode        = "min"
  num_samples = 5
  space {
    x = uniform(0, 1)
  }
  resources {
    cpu    = 0.5
    memory = 64
  }
  task "train" {
    command = "sh"
    args    = ["trial.sh"]
  }
}
`)
	r := w.apply(t, "-local-cpus", "4", "-local-memory", "64GiB")
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)

	res := w.resultsOf(t, "scored")
	require.Len(t, res.Trials, 5)
	var best string
	for _, rec := range res.Trials {
		if rec.Index == 2 {
			best = rec.ID
		}
	}
	require.NotEmpty(t, best)
	assert.Equal(t, best, res.Summary.BestTrial)
	assert.Equal(t, 0.0, res.Summary.BestResult["loss"])
	assert.Equal(t, "finished", res.Summary.Status)
	assert.Equal(t, 5, res.Summary.NumTrials)
	assert.Contains(t, r.stdout, "Best trial: "+best+" with loss=0")

	table := tune(t, "", "results", "scored", "-results", w.results)
	require.Equal(t, 0, table.code, table.stderr)
	assert.Contains(t, table.stdout, `Experiment "scored"`)
	assert.Contains(t, table.stdout, "Number of trials: 5 (5 TERMINATED)")
	for _, rec := range res.Trials {
		assert.Contains(t, table.stdout, rec.ID)
	}
	assert.Contains(t, table.stdout, "Best trial: "+best+" with loss=0")
	// Best first, then by loss: 0, 1, 1, 4, 4.
	lines := strings.Split(table.stdout, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "TRIAL") {
			require.Greater(t, len(lines), i+1)
			assert.True(t, strings.HasPrefix(lines[i+1], best), "the best trial leads the table:\n%s", table.stdout)
		}
	}
}

func TestApplyRunsTheQuickStartExample(t *testing.T) {
	r := tune(t, "", "apply", "examples/quickstart.hcl", "-results", t.TempDir(), "-progress", "plain")
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "Number of trials: 12 (12 TERMINATED)")
	assert.Contains(t, r.stdout, "Best trial:")
}

func TestApplyWithALargerNumSamplesAddsTrialsAndKeepsTheFinishedOnes(t *testing.T) {
	w := newWorkspace(t)
	// Each run of a trial leaves a mark, so a trial run twice shows.
	w.write(t, "trial.sh", `echo run >> "runs-$TUNE_TRIAL_ID"
echo "@tune {\"loss\": $1}"
`)
	exp := func(samples int) string {
		return fmt.Sprintf(`experiment "grow" {
  metric      = "loss"
  mode        = "min"
  num_samples = %d
  space {
    x = uniform(0, 1)
  }
  resources {
    cpu    = 0.1
    memory = 16
  }
  task "train" {
    command = "sh"
    args    = ["trial.sh", "${trial.x}"]
  }
}
`, samples)
	}
	w.write(t, "exp.hcl", exp(2))
	first := w.apply(t)
	require.Equal(t, 0, first.code, first.stderr)

	w.write(t, "exp.hcl", exp(5))
	second := w.apply(t)
	require.Equal(t, 0, second.code, "stdout:\n%s\nstderr:\n%s", second.stdout, second.stderr)
	assert.Contains(t, second.stdout, "2 of 5 trials are already done")
	assert.Contains(t, second.stdout, "num_samples grew: 3 new trials join the 2 from before")

	res := w.resultsOf(t, "grow")
	assert.Equal(t, 5, res.Summary.NumTrials)
	require.Len(t, res.Trials, 5)
	for _, tr := range res.Trials {
		assert.Equal(t, "TERMINATED", tr.Status, tr.ID)
		runs, err := os.ReadFile(w.path("runs-" + tr.ID))
		require.NoError(t, err)
		assert.Equal(t, "run\n", string(runs), "trial %s ran once", tr.ID)
	}
}

// killMidway kills the apply once minDone trials of the experiment are
// done and others are running (each trial logs "ID PID ..." to runs when
// it starts), waits until its trials have ended, and returns the trials
// finished by then.
func (w *workspace) killMidway(t *testing.T, apply *background, experiment string, minDone int) map[string]bool {
	t.Helper()
	require.Eventually(t, func() bool {
		done := w.finishedIDs(t, experiment)
		return len(done) >= minDone && len(w.logLines(t, "runs")) > len(done)
	}, 60*time.Second, 10*time.Millisecond, "%d trials finished while others ran", minDone)
	require.NoError(t, apply.cmd.Process.Kill())
	apply.wait(t, 10*time.Second)
	finished := w.finishedIDs(t, experiment)
	// On Linux the trials die with tune (their supervisors see it go);
	// elsewhere they end at their next report, which nobody reads any
	// more. A trial that tune started just before it died may log its
	// start only now: the log is read once its supervisor is gone too.
	require.Eventually(t, func() bool {
		return len(supervisorsOf(apply.cmd.Process.Pid)) == 0 && allGone(pidsIn(t, w.logLines(t, "runs"), 1))
	}, 30*time.Second, 20*time.Millisecond, "the trials of the killed tune ended")
	return finished
}
