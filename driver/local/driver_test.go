//go:build unix

package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/driver"
	"github.com/nomad-tune/tune/experiment"
	tunehcl "github.com/nomad-tune/tune/hcl"
	"github.com/nomad-tune/tune/planner"
)

// waitLimit only keeps a broken driver from hanging the test run; no test
// depends on anything happening within it.
const waitLimit = 30 * time.Second

// output collects the lines a trial writes to one stream.
type output struct {
	mu    sync.Mutex
	lines []string
}

func (o *output) WriteLine(line string) {
	o.mu.Lock()
	o.lines = append(o.lines, line)
	o.mu.Unlock()
}

func (o *output) all() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.lines)
}

// waitFor waits for a line that starts with prefix and returns it.
func (o *output) waitFor(t *testing.T, prefix string) string {
	t.Helper()
	var found string
	require.Eventually(t, func() bool {
		for _, l := range o.all() {
			if strings.HasPrefix(l, prefix) {
				found = l
				return true
			}
		}
		return false
	}, waitLimit, 5*time.Millisecond, "no output line starting with %q", prefix)
	return found
}

type harness struct {
	t      *testing.T
	d      *Driver
	exp    *experiment.Experiment
	trials []*planner.Trial
}

// setup loads an experiment from HCL text, as if from a file in a folder
// of its own, and makes a driver for a machine of 4 CPUs and 2 GPUs.
func setup(t *testing.T, src string, opts Options) *harness {
	t.Helper()
	exp, diags := tunehcl.Load(filepath.Join(t.TempDir(), "exp.hcl"), []byte(src), tunehcl.Options{})
	require.False(t, diags.HasErrors(), "%s", diags.Error())
	trials, diags := planner.Trials(exp)
	require.False(t, diags.HasErrors(), "%s", diags.Error())
	if opts.Capacity == (CapacityOptions{}) {
		opts.Capacity = CapacityOptions{CPUs: 4, GPUs: 2}
	}
	d, err := New(opts)
	require.NoError(t, err)
	t.Cleanup(func() {
		assert.NoError(t, d.Close())
		for range d.Events() {
		}
	})
	return &harness{t: t, d: d, exp: exp, trials: trials}
}

// request is a start request for an attempt of trial i, placed on the
// driver's capacity as the controller would place it.
func (h *harness) request(i, attempt int, stdout, stderr driver.LineWriter) driver.StartRequest {
	h.t.Helper()
	c, err := h.d.Capacity(context.Background())
	require.NoError(h.t, err)
	trial := h.trials[i]
	a, unfit := c.Fit(trial.Shape, h.exp.Placement)
	require.Nil(h.t, unfit, "%s", unfit.Reason())
	return driver.StartRequest{
		Experiment: h.exp,
		Trial:      trial,
		Attempt:    attempt,
		Assignment: a,
		Stdout:     stdout,
		Stderr:     stderr,
	}
}

func (h *harness) start(i, attempt int) (stdout, stderr *output) {
	h.t.Helper()
	stdout, stderr = &output{}, &output{}
	require.NoError(h.t, h.d.Start(context.Background(), h.request(i, attempt, stdout, stderr)))
	return stdout, stderr
}

func (h *harness) next() driver.Event {
	h.t.Helper()
	select {
	case ev, ok := <-h.d.Events():
		require.True(h.t, ok, "the event channel closed early")
		return ev
	case <-time.After(waitLimit):
		h.t.Fatal("no event")
	}
	return driver.Event{}
}

// untilExited receives events up to and including the next EventExited.
func (h *harness) untilExited() []driver.Event {
	h.t.Helper()
	var evs []driver.Event
	for {
		ev := h.next()
		evs = append(evs, ev)
		if ev.Kind == driver.EventExited {
			return evs
		}
	}
}

func kinds(evs []driver.Event) []driver.EventKind {
	out := make([]driver.EventKind, len(evs))
	for i, ev := range evs {
		out[i] = ev.Kind
	}
	return out
}

func last(evs []driver.Event) driver.Event { return evs[len(evs)-1] }

// hclString quotes a shell script for an HCL string, where ${ and %{ would
// start an interpolation or a directive.
func hclString(s string) string {
	q := strconv.Quote(s)
	q = strings.ReplaceAll(q, "${", "$${")
	return strings.ReplaceAll(q, "%{", "%%{")
}

// shExperiment is an experiment whose one task runs script with sh -c.
func shExperiment(script string, extra ...string) string {
	return fmt.Sprintf(`experiment "t" {
%s
  task "train" {
    command = "sh"
    args    = ["-c", %s]
  }
}`, strings.Join(extra, "\n"), hclString(script))
}

func TestStartGivesEachTaskTunesEnvironment(t *testing.T) {
	t.Setenv("TUNE_TEST_FROM_PARENT", "inherited")
	t.Setenv("CUDA_VISIBLE_DEVICES", "7")
	t.Setenv("NOMAD_TOKEN", "secret-token")
	t.Setenv("NOMAD_CLIENT_KEY", "/secret/key.pem")
	t.Setenv("NOMAD_HTTP_AUTH", "user:password")
	h := setup(t, `experiment "env-test" {
  num_samples = 2
  space {
    lr  = grid([0.5])
    opt = grid(["a<b"])
  }
  resources {
    cpu = 0.5
  }
  task "train" {
    command = "sh"
    args    = ["-c", "env; echo cwd=$(pwd -P)"]
    env {
      FROM_TASK = "lr-${trial.lr}"
      TUNE_RANK = "99"
      NOMAD_CLIENT_KEY = "passed-on-purpose"
    }
  }
}`, Options{})
	stdout, _ := h.start(1, 2)
	evs := h.untilExited()
	require.Equal(t, 0, last(evs).ExitCode, "%+v", last(evs))

	env := map[string]string{}
	for _, l := range stdout.all() {
		if k, v, ok := strings.Cut(l, "="); ok {
			env[k] = v
		}
	}
	want := map[string]string{
		"TUNE_EXPERIMENT":       "env-test",
		"TUNE_TRIAL_ID":         h.trials[1].ID,
		"TUNE_TRIAL_INDEX":      "1",
		"TUNE_CONFIG":           `{"lr":0.5,"opt":"a<b"}`,
		"TUNE_RANK":             "0",
		"TUNE_WORLD_SIZE":       "1",
		"TUNE_GROUP":            "trial",
		"TUNE_CPUS":             "0.5",
		"TUNE_ATTEMPT":          "2",
		"CUDA_VISIBLE_DEVICES":  "",
		"CUDA_DEVICE_ORDER":     "PCI_BUS_ID",
		"FROM_TASK":             "lr-0.5",
		"TUNE_TEST_FROM_PARENT": "inherited",
		"PWD":                   h.exp.Dir,
		"RANK":                  "0",
		"WORLD_SIZE":            "1",
		"LOCAL_RANK":            "0",
		"LOCAL_WORLD_SIZE":      "1",
		"GROUP_RANK":            "0",
		"NODE_RANK":             "0",
		"MASTER_ADDR":           "127.0.0.1",
	}
	for k, v := range want {
		got, ok := env[k]
		if assert.True(t, ok, "%s is not set", k) {
			assert.Equal(t, v, got, k)
		}
	}
	port, err := strconv.Atoi(env["MASTER_PORT"])
	if assert.NoError(t, err, "MASTER_PORT is a port number") {
		assert.Greater(t, port, 0)
	}
	assert.NotContains(t, env, "NOMAD_TOKEN", "a trial does not inherit the Nomad client's credentials")
	assert.NotContains(t, env, "NOMAD_HTTP_AUTH")
	assert.Equal(t, "passed-on-purpose", env["NOMAD_CLIENT_KEY"], "the task's env block passes what it means to")
	dir, err := filepath.EvalSymlinks(h.exp.Dir)
	require.NoError(t, err)
	assert.Equal(t, dir, env["cwd"], "the task runs in the experiment's folder")
}

func TestGPUsAndCPUsOfTheTaskAreInItsEnvironment(t *testing.T) {
	tests := []struct {
		name      string
		resources string
		wantCUDA  string
		wantCPUs  string
	}{
		{name: "a trial without GPUs sees none", resources: "cpu = 1", wantCUDA: "", wantCPUs: "1"},
		{name: "a trial with one GPU sees the granted one", resources: "gpu = 1", wantCUDA: "0", wantCPUs: "1"},
		{name: "a trial with two GPUs sees both, comma-separated", resources: "gpu = 2", wantCUDA: "0,1", wantCPUs: "1"},
		{name: "a trial with a share of a GPU sees that GPU", resources: "gpu = 0.5", wantCUDA: "0", wantCPUs: "1"},
		{name: "whole cores are counted in TUNE_CPUS", resources: "cores = 2", wantCUDA: "", wantCPUs: "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A GPU the parent may see must not leak into a trial.
			t.Setenv("CUDA_VISIBLE_DEVICES", "7")
			h := setup(t, shExperiment(`echo "cuda=[$CUDA_VISIBLE_DEVICES] set=${CUDA_VISIBLE_DEVICES+yes} cpus=$TUNE_CPUS"`,
				"resources {\n"+tt.resources+"\n}"), Options{})
			stdout, _ := h.start(0, 0)
			evs := h.untilExited()
			require.False(t, last(evs).Failed, "%+v", last(evs))
			assert.Equal(t, []string{fmt.Sprintf("cuda=[%s] set=yes cpus=%s", tt.wantCUDA, tt.wantCPUs)}, stdout.all())
		})
	}
}

func TestReportsArriveInOrderBeforeTheAttemptExits(t *testing.T) {
	h := setup(t, shExperiment(`echo starting
echo '@tune {"loss": 1.5, "step": 1}'
echo oops >&2
echo '@tune {"loss": 0.5, "step": 2}'
echo done`), Options{})
	stdout, stderr := h.start(0, 0)
	evs := h.untilExited()

	require.Equal(t, []driver.EventKind{driver.EventRunning, driver.EventReport, driver.EventReport, driver.EventExited}, kinds(evs))
	assert.Equal(t, map[string]any{"loss": 1.5, "step": 1.0}, evs[1].Metrics)
	assert.Equal(t, map[string]any{"loss": 0.5, "step": 2.0}, evs[2].Metrics)
	for _, ev := range evs {
		assert.Equal(t, h.trials[0].ID, ev.TrialID)
		assert.Equal(t, 0, ev.Attempt)
		assert.Equal(t, 0, ev.Rank)
		assert.False(t, ev.Time.IsZero())
	}
	// Started processes are registered, placed and running at once.
	running := evs[0]
	assert.False(t, running.Registered.IsZero())
	assert.Equal(t, running.Registered, running.Placed)
	assert.Equal(t, running.Placed, running.Time)
	exit := last(evs)
	assert.Equal(t, 0, exit.ExitCode)
	assert.False(t, exit.Failed)
	assert.False(t, exit.Stopped)
	assert.Empty(t, exit.Message)

	assert.Equal(t, []string{"starting", `@tune {"loss": 1.5, "step": 1}`, `@tune {"loss": 0.5, "step": 2}`, "done"}, stdout.all(),
		"report lines are output too")
	assert.Equal(t, []string{"oops"}, stderr.all())
}

func TestInvalidReportLinesAreKeptAsOutputWithOneWarning(t *testing.T) {
	h := setup(t, shExperiment(`echo '@tune loss=1'
echo '@tune {"loss": '
echo '@tune {"loss": 2}'`), Options{})
	stdout, _ := h.start(0, 0)
	evs := h.untilExited()

	require.Equal(t, []driver.EventKind{driver.EventRunning, driver.EventWarning, driver.EventReport, driver.EventExited}, kinds(evs))
	assert.Contains(t, evs[1].Message, "task train printed an invalid @tune line, kept as ordinary output")
	assert.Contains(t, evs[1].Message, "JSON object")
	assert.Equal(t, map[string]any{"loss": 2.0}, evs[2].Metrics)
	assert.Equal(t, []string{"@tune loss=1", `@tune {"loss": `, `@tune {"loss": 2}`}, stdout.all())
}

func TestHowTheProcessEndsIsHowTheAttemptEnds(t *testing.T) {
	tests := []struct {
		name        string
		script      string
		wantFailed  bool
		wantCode    int
		wantMessage string
	}{
		{name: "exit 0 is success", script: "exit 0"},
		{name: "a non-zero exit fails with its status", script: "exit 3", wantFailed: true, wantCode: 3,
			wantMessage: "task train exited with status 3"},
		{name: "death by a signal fails with status -1", script: "kill -KILL $$", wantFailed: true, wantCode: -1,
			wantMessage: "task train was killed by SIGKILL"},
		{name: "a crash is told as the crash", script: "kill -SEGV $$", wantFailed: true, wantCode: -1,
			wantMessage: "task train was killed by SIGSEGV"},
		{name: "an abort is told as the abort", script: "kill -ABRT $$", wantFailed: true, wantCode: -1,
			wantMessage: "task train was killed by SIGABRT"},
		{name: "a termination it did not catch is told as such", script: "kill -TERM $$", wantFailed: true, wantCode: -1,
			wantMessage: "task train was killed by SIGTERM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := setup(t, shExperiment(tt.script), Options{})
			h.start(0, 0)
			exit := last(h.untilExited())
			assert.Equal(t, tt.wantFailed, exit.Failed)
			assert.False(t, exit.Stopped)
			assert.Equal(t, tt.wantCode, exit.ExitCode)
			assert.Equal(t, tt.wantMessage, exit.Message)
		})
	}
}

func TestEveryAllocationOfAMultiAllocationTrialGetsItsRank(t *testing.T) {
	script := hclString(`echo rank=$TUNE_RANK world=$TUNE_WORLD_SIZE group=$TUNE_GROUP; echo "@tune {\"rank\": $TUNE_RANK}"; ` +
		`echo >&2 "$RANK $WORLD_SIZE $GROUP_RANK $NODE_RANK $LOCAL_RANK $LOCAL_WORLD_SIZE $MASTER_ADDR:$MASTER_PORT"`)
	h := setup(t, fmt.Sprintf(`experiment "gang" {
  group "worker" {
    count = 2
    task "train" {
      command = "sh"
      args    = ["-c", %[1]s]
    }
  }
  group "ps" {
    task "serve" {
      command = "sh"
      args    = ["-c", %[1]s]
    }
  }
}`, script), Options{})
	stdout, stderr := h.start(0, 0)
	evs := h.untilExited()
	require.False(t, last(evs).Failed, "%+v", last(evs))

	rendezvous := stderr.all()
	require.Len(t, rendezvous, 3)
	master := ""
	for _, l := range rendezvous {
		rank, fields, _ := strings.Cut(strings.TrimPrefix(l, "["), "] ")
		f := strings.Fields(fields)
		require.Len(t, f, 7, "every rendezvous variable is set: %q", l)
		assert.Equal(t, []string{rank, "3", rank, rank, "0", "1"}, f[:6], "RANK, WORLD_SIZE, GROUP_RANK, NODE_RANK, LOCAL_RANK, LOCAL_WORLD_SIZE")
		assert.Regexp(t, `^127\.0\.0\.1:[0-9]+$`, f[6])
		if master == "" {
			master = f[6]
		}
		assert.Equal(t, master, f[6], "every rank finds rank 0 at the same address")
	}

	var ranks []int
	for _, ev := range evs {
		if ev.Kind == driver.EventReport {
			assert.Equal(t, float64(ev.Rank), ev.Metrics["rank"], "a report carries the rank that printed it")
			ranks = append(ranks, ev.Rank)
		}
	}
	assert.ElementsMatch(t, []int{0, 1, 2}, ranks)
	assert.ElementsMatch(t, []string{
		"[0] rank=0 world=3 group=worker",
		"[1] rank=1 world=3 group=worker",
		"[2] rank=2 world=3 group=ps",
		`[0] @tune {"rank": 0}`,
		`[1] @tune {"rank": 1}`,
		`[2] @tune {"rank": 2}`,
	}, stdout.all())
}

func TestOneFailingRankStopsTheOthers(t *testing.T) {
	h := setup(t, `experiment "gang" {
  group "worker" {
    count = 3
    task "train" {
      command = "sh"
      args    = ["-c", "if [ $TUNE_RANK = 1 ]; then exit 3; fi; sleep 60"]
    }
  }
}`, Options{})
	h.start(0, 0)
	exit := last(h.untilExited())
	assert.True(t, exit.Failed)
	assert.False(t, exit.Stopped)
	assert.Equal(t, 3, exit.ExitCode)
	assert.Equal(t, "task train (rank 1) exited with status 3", exit.Message)
}

func TestTheLeadersExitEndsItsAllocation(t *testing.T) {
	h := setup(t, `experiment "sidecar" {
  group "trial" {
    task "main" {
      leader  = true
      command = "sh"
      args    = ["-c", "echo '@tune {\"loss\": 1}'"]
    }
    task "logs" {
      command = "sleep"
      args    = ["60"]
    }
  }
}`, Options{})
	h.start(0, 0)
	evs := h.untilExited()
	exit := last(evs)
	assert.False(t, exit.Failed, "the sidecar's end by the leader is no failure: %s", exit.Message)
	assert.Equal(t, 0, exit.ExitCode)
	assert.Contains(t, kinds(evs), driver.EventReport)
}

// gone says whether a process has exited: it no longer exists, or it is a
// zombie that nobody has reaped yet.
func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return errors.Is(err, os.ErrNotExist) && dirExists("/proc/self")
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}

func dirExists(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.IsDir()
}

func TestStopKillsTheWholeProcessTree(t *testing.T) {
	h := setup(t, shExperiment(`sleep 60 & echo child=$!; wait`), Options{})
	stdout, _ := h.start(0, 0)
	line := stdout.waitFor(t, "child=")
	child, err := strconv.Atoi(strings.TrimPrefix(line, "child="))
	require.NoError(t, err)
	require.False(t, gone(child))

	require.NoError(t, h.d.Stop(context.Background(), h.trials[0].ID, 0, "early stopping"))
	exit := last(h.untilExited())
	assert.True(t, exit.Stopped)
	assert.False(t, exit.Failed)
	assert.Equal(t, "early stopping", exit.Message)
	assert.Eventually(t, func() bool { return gone(child) }, waitLimit, 5*time.Millisecond,
		"the task's child %d must go with it", child)
}

func TestAStopThatComesToKillingTakesWhatLeftTheProcessGroupToo(t *testing.T) {
	if !supervisorReady {
		t.Skip("only a supervisor can reach what left the task's process group")
	}
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("setsid is not installed")
	}
	// The task ignores SIGTERM (and so does what it starts), and one of
	// its processes left the process group: a signal to the group cannot
	// reach that one.
	const escape = `trap '' TERM
setsid sh -c 'echo $$ > escaped; exec sleep 60' &
while [ ! -s escaped ]; do sleep 0.01; done
echo escaped=$(cat escaped)
`
	for _, tc := range []struct {
		name string
		then string
	}{
		{"a task that waits on", ""},
		{"a task that stopped its own process group, its supervisor with it", "kill -STOP 0\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := setup(t, shExperiment(escape+tc.then+"while :; do sleep 60; done"), Options{KillGrace: 100 * time.Millisecond})
			stdout, _ := h.start(0, 0)
			line := stdout.waitFor(t, "escaped=")
			pid, err := strconv.Atoi(strings.TrimPrefix(line, "escaped="))
			require.NoError(t, err)
			t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
			require.False(t, gone(pid))

			require.NoError(t, h.d.Stop(context.Background(), h.trials[0].ID, 0, "time budget"))
			exit := last(h.untilExited())
			assert.True(t, exit.Stopped)
			assert.Eventually(t, func() bool { return gone(pid) }, waitLimit, 5*time.Millisecond,
				"the process that left the task's group goes with the task")
		})
	}
}

func TestStopKillsATaskThatIgnoresSIGTERM(t *testing.T) {
	h := setup(t, shExperiment(`trap 'echo got TERM' TERM; echo ready; while :; do sleep 60; done`),
		Options{KillGrace: 100 * time.Millisecond})
	stdout, _ := h.start(0, 0)
	stdout.waitFor(t, "ready")

	require.NoError(t, h.d.Stop(context.Background(), h.trials[0].ID, 0, "time budget"))
	exit := last(h.untilExited())
	assert.True(t, exit.Stopped)
	assert.False(t, exit.Failed)
	assert.Equal(t, -1, exit.ExitCode, "only SIGKILL ends this task")
	assert.Equal(t, "time budget", exit.Message)
}

func TestStopOfAnAttemptThatIsNotRunningIsNotAnError(t *testing.T) {
	h := setup(t, shExperiment("exit 0"), Options{})
	assert.NoError(t, h.d.Stop(context.Background(), "no-such-trial", 0, "why not"))

	h.start(0, 0)
	exit := last(h.untilExited())
	require.NoError(t, h.d.Stop(context.Background(), h.trials[0].ID, 0, "too late"))
	assert.False(t, exit.Stopped)
}

// running lists processes whose command line contains marker.
func running(t *testing.T, marker string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc to look for processes in")
	}
	var found []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmdline), marker) {
			found = append(found, e.Name())
		}
	}
	return found
}

func TestAnAttemptThatCannotStartWholeLeavesNothingRunning(t *testing.T) {
	h := setup(t, `experiment "broken" {
  group "ok" {
    count = 2
    task "train" {
      command = "sleep"
      args    = ["61.0123"]
    }
  }
  group "bad" {
    task "train" {
      command = "tune-test-no-such-command"
    }
  }
}`, Options{})
	err := h.d.Start(context.Background(), h.request(0, 0, nil, nil))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "starting task train (rank 2)")
	assert.Contains(t, err.Error(), "tune-test-no-such-command")
	// A killed process is gone once the kernel has delivered the signal;
	// the wait only covers that delivery.
	assert.Eventually(t, func() bool { return len(running(t, "61.0123")) == 0 }, waitLimit, 5*time.Millisecond,
		"the started allocations must be killed")

	require.NoError(t, h.d.Stop(context.Background(), h.trials[0].ID, 0, "nothing to stop"))
	require.NoError(t, h.d.Close())
	var evs []driver.Event
	for ev := range h.d.Events() {
		evs = append(evs, ev)
	}
	assert.Empty(t, evs, "an attempt whose Start failed has no events")
}

func TestStartRefusesTasksItCannotRun(t *testing.T) {
	tests := []struct {
		name    string
		task    string
		wantErr string
	}{
		{
			name:    "a relative command that is not in the experiment's folder",
			task:    `command = "./missing.sh"`,
			wantErr: "missing.sh",
		},
		{
			name:    "a task without a command",
			task:    "driver = \"docker\"\n config {\n image = \"trainer:1\"\n }",
			wantErr: `task "train" of group "trial" has no command`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := setup(t, fmt.Sprintf(`experiment "t" {
  task "train" {
    %s
  }
}`, tt.task), Options{})
			err := h.d.Start(context.Background(), h.request(0, 0, nil, nil))
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestAGPUTaskWithoutGrantedGPUsIsRefused(t *testing.T) {
	h := setup(t, shExperiment("exit 0", "resources {\n gpu = 1\n}"), Options{})
	req := h.request(0, 0, nil, nil)
	req.Assignment = nil
	err := h.d.Start(context.Background(), req)
	assert.ErrorContains(t, err, "asks for gpu = 1, but the assignment grants it no GPU")
}

func TestARelativeCommandRunsFromTheExperimentsFolder(t *testing.T) {
	h := setup(t, `experiment "t" {
  task "train" {
    command = "./train.sh"
    args    = ["--x=1"]
  }
}`, Options{})
	require.NoError(t, os.WriteFile(filepath.Join(h.exp.Dir, "train.sh"), []byte("#!/bin/sh\necho \"args: $*\"\n"), 0o755))
	stdout, _ := h.start(0, 0)
	exit := last(h.untilExited())
	require.False(t, exit.Failed, exit.Message)
	assert.Equal(t, []string{"args: --x=1"}, stdout.all(), "arguments are passed as they are, without a shell")
}

func TestAReportAfterAMegabyteOnTheSameLineIsNoReport(t *testing.T) {
	h := setup(t, shExperiment(`head -c 1048576 /dev/zero | tr '\000' x; echo '@tune {"loss": 1}'; echo '@tune {"loss": 2}'`), Options{})
	stdout, _ := h.start(0, 0)
	evs := h.untilExited()
	require.False(t, last(evs).Failed, last(evs).Message)
	var reports []any
	for _, ev := range evs {
		if ev.Kind == driver.EventReport {
			reports = append(reports, ev.Metrics["loss"])
		}
	}
	assert.Equal(t, []any{2.0}, reports, "only the line of its own is a report")
	lines := stdout.all()
	require.Len(t, lines, 3, "the long line is kept, in pieces")
	assert.Equal(t, strings.Repeat("x", 1<<20), lines[0])
	assert.Equal(t, `@tune {"loss": 1}`, lines[1])
}

func TestATrialReportingFasterThanTheyAreReadWaitsAndCloseStillEnds(t *testing.T) {
	h := setup(t, shExperiment(`i=0; while :; do echo "@tune {\"i\": $i}"; i=$((i+1)); done`), Options{})
	stdout, _ := h.start(0, 0)
	// Nobody reads events: the trial gets as far as the queue holds, and
	// its reader waits with the next report.
	stdout.waitFor(t, fmt.Sprintf(`@tune {"i": %d}`, driver.MaxQueuedReports))
	closed := make(chan struct{})
	go func() {
		assert.NoError(t, h.d.Close())
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(waitLimit):
		// Read the events, so that Close (here and in the cleanup) ends.
		go func() {
			for range h.d.Events() {
			}
		}()
		t.Fatal("Close waited for a reader that waits for room in the queue")
	}
	var reports int
	var exited []driver.Event
	for ev := range h.d.Events() {
		switch ev.Kind {
		case driver.EventReport:
			reports++
		case driver.EventExited:
			exited = append(exited, ev)
		}
	}
	assert.LessOrEqual(t, reports, driver.MaxQueuedReports, "no more reports are held than the queue's bound")
	require.Len(t, exited, 1, "the end is never dropped")
	assert.True(t, exited[0].Stopped)
}

func TestLongLinesAreSplitNotDropped(t *testing.T) {
	h := setup(t, shExperiment(`head -c 1572864 /dev/zero | tr '\000' x; echo; echo after`), Options{})
	stdout, _ := h.start(0, 0)
	exit := last(h.untilExited())
	require.False(t, exit.Failed, exit.Message)
	var lengths []int
	for _, l := range stdout.all() {
		lengths = append(lengths, len(l))
	}
	assert.Equal(t, []int{1 << 20, 1 << 19, len("after")}, lengths)
}

func TestASlowEventReaderDoesNotHoldUpTheTrial(t *testing.T) {
	h := setup(t, shExperiment(`i=0; while [ $i -lt 500 ]; do echo "@tune {\"i\": $i}"; i=$((i+1)); done; echo end`), Options{})
	stdout, _ := h.start(0, 0)
	// Nobody reads events until the trial has written everything.
	stdout.waitFor(t, "end")
	evs := h.untilExited()
	require.Len(t, evs, 502)
	for i, ev := range evs[1 : len(evs)-1] {
		require.Equal(t, driver.EventReport, ev.Kind)
		require.Equal(t, float64(i), ev.Metrics["i"])
	}
}

// fakeGPUs stands in for NVML: each GPU reports the fraction busy returns
// for it, and every poll is counted.
type fakeGPUs struct {
	mu    sync.Mutex
	polls map[int]int
	busy  func(index, poll int) (float64, error)
}

func (f *fakeGPUs) poll(index int) (float64, error) {
	f.mu.Lock()
	if f.polls == nil {
		f.polls = map[int]int{}
	}
	f.polls[index]++
	n := f.polls[index]
	f.mu.Unlock()
	return f.busy(index, n)
}

func (f *fakeGPUs) count(index int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.polls[index]
}

const quickWait = `wait_for_gpu {
  max_used = 0.1
  timeout  = "1h"
  interval = "5ms"
}`

func TestWaitForGPUStartsTheTrialOnceItsGPUIsFree(t *testing.T) {
	var free atomic.Bool
	gpus := &fakeGPUs{busy: func(int, int) (float64, error) {
		if free.Load() {
			return 0.05, nil
		}
		return 0.5, nil
	}}
	h := setup(t, shExperiment("echo started on $CUDA_VISIBLE_DEVICES", "resources {\n gpu = 1\n}", quickWait),
		Options{GPUPoll: gpus.poll})
	stdout, _ := h.start(0, 0)
	require.Eventually(t, func() bool { return gpus.count(0) >= 2 }, waitLimit, time.Millisecond)
	assert.Empty(t, stdout.all(), "nothing runs while the GPU is busy")

	free.Store(true)
	evs := h.untilExited()
	assert.Equal(t, []driver.EventKind{driver.EventRunning, driver.EventExited}, kinds(evs))
	assert.False(t, last(evs).Failed, last(evs).Message)
	assert.Equal(t, []string{"started on 0"}, stdout.all())
	assert.Zero(t, gpus.count(1), "only the granted GPU is waited for")
}

func TestWaitForGPUFailsTheAttemptWhenAGPUStaysBusy(t *testing.T) {
	gpus := &fakeGPUs{busy: func(index, _ int) (float64, error) {
		if index == 1 {
			return 0.37, nil
		}
		return 0, nil
	}}
	h := setup(t, shExperiment("echo started", "resources {\n gpu = 2\n}", `wait_for_gpu {
  max_used = 0.01
  timeout  = "50ms"
  interval = "10ms"
}`), Options{GPUPoll: gpus.poll})
	stdout, _ := h.start(0, 0)
	evs := h.untilExited()
	require.Equal(t, []driver.EventKind{driver.EventExited}, kinds(evs))
	exit := evs[0]
	assert.True(t, exit.Failed)
	assert.Equal(t, -1, exit.ExitCode)
	assert.Equal(t, "wait_for_gpu: GPU 1 still has 37% of its memory in use after 0.05s", exit.Message)
	assert.Empty(t, stdout.all())
}

func TestStopEndsAWaitForGPU(t *testing.T) {
	gpus := &fakeGPUs{busy: func(int, int) (float64, error) { return 1, nil }}
	h := setup(t, shExperiment("echo started", "resources {\n gpu = 1\n}", quickWait), Options{GPUPoll: gpus.poll})
	stdout, _ := h.start(0, 0)
	require.Eventually(t, func() bool { return gpus.count(0) >= 1 }, waitLimit, time.Millisecond)

	require.NoError(t, h.d.Stop(context.Background(), h.trials[0].ID, 0, "experiment stopped"))
	evs := h.untilExited()
	require.Equal(t, []driver.EventKind{driver.EventExited}, kinds(evs))
	assert.True(t, evs[0].Stopped)
	assert.False(t, evs[0].Failed)
	assert.Equal(t, "experiment stopped", evs[0].Message)
	assert.Empty(t, stdout.all())
}

func TestWaitForGPUDoesNotWaitForAGPUItCannotMeasure(t *testing.T) {
	gpus := &fakeGPUs{busy: func(int, int) (float64, error) { return 0, errors.New("NVML is not available") }}
	h := setup(t, shExperiment("echo started", "resources {\n gpu = 1\n}", quickWait), Options{GPUPoll: gpus.poll})
	h.start(0, 0)
	evs := h.untilExited()
	require.Equal(t, []driver.EventKind{driver.EventWarning, driver.EventRunning, driver.EventExited}, kinds(evs))
	assert.Contains(t, evs[0].Message, "cannot read how much memory GPU 0 has in use")
	assert.Contains(t, evs[0].Message, "NVML is not available")
	assert.False(t, last(evs).Failed)
	assert.Equal(t, 1, gpus.count(0))
}

func TestWaitForGPUIsSkippedForATrialWithoutGPUs(t *testing.T) {
	gpus := &fakeGPUs{busy: func(int, int) (float64, error) { return 1, nil }}
	h := setup(t, shExperiment("echo started", quickWait), Options{GPUPoll: gpus.poll})
	h.start(0, 0)
	evs := h.untilExited()
	assert.Equal(t, []driver.EventKind{driver.EventRunning, driver.EventExited}, kinds(evs))
	assert.Zero(t, gpus.count(0)+gpus.count(1))
}

func TestCloseStopsEveryAttemptAndClosesTheEventChannel(t *testing.T) {
	h := setup(t, shExperiment("echo ready; sleep 60", "num_samples = 2"), Options{})
	first, _ := h.start(0, 0)
	second, _ := h.start(1, 0)
	first.waitFor(t, "ready")
	second.waitFor(t, "ready")
	err := h.d.Start(context.Background(), h.request(0, 0, nil, nil))
	assert.ErrorContains(t, err, "already running")

	require.NoError(t, h.d.Close())
	exits := map[string]driver.Event{}
	for ev := range h.d.Events() {
		if ev.Kind == driver.EventExited {
			exits[ev.TrialID] = ev
		}
	}
	require.Len(t, exits, 2)
	for _, exit := range exits {
		assert.True(t, exit.Stopped)
		assert.False(t, exit.Failed)
		assert.Equal(t, closeReason, exit.Message)
	}

	assert.Error(t, h.d.Start(context.Background(), h.request(0, 1, nil, nil)), "a closed driver starts nothing")
	assert.NoError(t, h.d.Stop(context.Background(), h.trials[0].ID, 0, "again"))
	assert.NoError(t, h.d.Close(), "closing twice is harmless")
}

func TestCapacityIsAFreshCopyEachTime(t *testing.T) {
	h := setup(t, shExperiment("exit 0"), Options{})
	c, err := h.d.Capacity(context.Background())
	require.NoError(t, err)
	c.Nodes[0].CPUShares = 1
	c.Nodes[0].Devices[0].Instances[0].Share = 1000

	again, err := h.d.Capacity(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int64(4000), again.Nodes[0].CPUShares)
	assert.Zero(t, again.Nodes[0].Devices[0].Instances[0].Share)
	assert.Equal(t, []string{"0", "1"}, instanceIDs(again.Nodes[0]))
}

func TestNewRejectsBadOptions(t *testing.T) {
	_, err := New(Options{KillGrace: -time.Second})
	assert.ErrorContains(t, err, "kill grace")
	_, err = New(Options{Capacity: CapacityOptions{CPUs: -1}})
	assert.ErrorContains(t, err, "-local-cpus")
}

func TestAnEscapedDescendantHoldingTheOutputNeitherKeepsTheAttemptAliveNorOutlivesIt(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("setsid is not installed")
	}
	h := setup(t, shExperiment(`setsid sh -c 'touch left; exec sleep 60' &
while [ ! -e left ]; do sleep 0.01; done
echo escaped=$!`), Options{KillGrace: 100 * time.Millisecond})
	stdout, _ := h.start(0, 0)
	line := stdout.waitFor(t, "escaped=")
	pid, err := strconv.Atoi(strings.TrimPrefix(line, "escaped="))
	require.NoError(t, err)
	// It left the task's process group, so only the test can end it.
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })

	exit := last(h.untilExited())
	assert.False(t, exit.Failed, exit.Message)
	assert.Equal(t, []string{line}, stdout.all())
	if supervisorReady {
		// The supervisor, a subreaper, kept it in the task's tree, and
		// kills the tree when the task exits.
		require.Eventually(t, func() bool { return gone(pid) }, waitLimit, 5*time.Millisecond,
			"a descendant that left the task's process group goes with the task")
	} else {
		assert.False(t, gone(pid), "the escaped process still holds the output open")
	}
}
