package nomadvars

import (
	"bytes"
	"context"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/clock"
	"github.com/nomad-tune/tune/controller"
	"github.com/nomad-tune/tune/jobs"
	"github.com/nomad-tune/tune/results"
	"github.com/nomad-tune/tune/test/nomadsim"
)

// bound only matters when a test fails: nothing here waits on time.
const bound = 30 * time.Second

func startSim(t *testing.T, opts nomadsim.Options) *api.Client {
	t.Helper()
	opts.Seed = 42
	srv, err := nomadsim.Start(opts)
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	cfg := api.DefaultConfig()
	cfg.Address, cfg.Namespace, cfg.Region, cfg.SecretID = srv.URL(), "", "", ""
	client, err := api.NewClient(cfg)
	require.NoError(t, err)
	return client
}

func snapshot(best *controller.TrialView) *controller.Snapshot {
	return &controller.Snapshot{Experiment: "quad", Metric: "loss", Mode: "min", Total: 4, Pending: 2, Running: 1, Terminated: 1, Best: best}
}

func report(iteration int, loss float64) controller.Change {
	return controller.Change{Kind: controller.TrialReported, Trial: controller.TrialView{
		ID: "00001-abc", Index: 1, Status: results.Running, Iterations: iteration,
		Params: map[string]any{"lr": 0.1},
		Last:   map[string]any{"loss": loss, "training_iteration": float64(iteration), "note": "ok", "hist": []any{1.0}},
	}}
}

func expectWrites(t *testing.T, written <-chan string, want ...string) {
	t.Helper()
	var got []string
	for range want {
		select {
		case p := <-written:
			got = append(got, p)
		case <-time.After(bound):
			require.Failf(t, "writes missing", "got %v, want %v", got, want)
		}
	}
	assert.ElementsMatch(t, want, got)
}

func read(t *testing.T, c *api.Client, path, namespace string) api.VariableItems {
	t.Helper()
	v, _, err := c.Variables().Peek(path, &api.QueryOptions{Namespace: namespace})
	require.NoError(t, err)
	require.NotNil(t, v, "no Variable at %s", path)
	return v.Items
}

func TestPublisherWritesAtABoundedRateAndAtOnceWhenATrialEnds(t *testing.T) {
	c := startSim(t, nomadsim.Options{Namespaces: []string{"ml"}})
	clk := clock.NewManual(time.Unix(1_700_000_000, 0))
	written := make(chan string, 16)
	p := start(Options{Client: c, Experiment: "quad", Namespace: "ml", Interval: 5 * time.Second, Clock: clk}, written)
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	defer p.Close(ctx)
	trialPath := "nomad/jobs/" + jobs.JobID("quad", "00001-abc") + "/trial"
	summaryPath := jobs.SummaryPath("quad")

	p.Changed(report(1, 0.5), snapshot(nil))
	expectWrites(t, written, trialPath, summaryPath)
	items := read(t, c, trialPath, "ml")
	assert.Equal(t, "1", items["iteration"])
	assert.Equal(t, "0.5", items["latest_loss"])

	// Reports within the interval wait for it, and only the newest is
	// written.
	p.Changed(report(2, 0.2), snapshot(nil))
	require.NoError(t, clk.WaitForWaiters(ctx, 1))
	p.Changed(report(3, 0.3), snapshot(nil))
	require.NoError(t, clk.WaitForWaiters(ctx, 2))
	select {
	case path := <-written:
		require.Failf(t, "written within the interval", "%s", path)
	default:
	}
	assert.Equal(t, "1", read(t, c, trialPath, "ml")["iteration"])

	clk.Advance(5 * time.Second)
	expectWrites(t, written, trialPath, summaryPath)
	items = read(t, c, trialPath, "ml")
	assert.Equal(t, api.VariableItems{
		"trial_id": "00001-abc", "experiment": "quad", "status": "RUNNING", "attempt": "1", "iteration": "3",
		"latest_loss": "0.3", "latest_training_iteration": "3", "latest_note": "ok",
		"metric": "loss (min)", "best_loss": "0.2", "best_iteration": "2",
	}, items, "lists are left out; the best is the lowest loss reported, not the last")

	// A trial that ends is written at once, with why it ended.
	end := report(3, 0.3)
	end.Kind, end.Trial.Status, end.Trial.StopReason = controller.TrialStopped, results.Terminated, "asha: loss 0.3 at rung 3 is worse than the cut-off 0.25"
	best := end.Trial
	p.Changed(end, snapshot(&best))
	expectWrites(t, written, trialPath, summaryPath)
	items = read(t, c, trialPath, "ml")
	assert.Equal(t, "TERMINATED", items["status"])
	assert.Equal(t, end.Trial.StopReason, items["stop_reason"])

	sum := read(t, c, summaryPath, "ml")
	assert.Equal(t, "00001-abc", sum["best_trial"])
	assert.Equal(t, jobs.JobID("quad", "00001-abc"), sum["best_job"])
	assert.Equal(t, "0.3", sum["best_loss"])
	assert.Equal(t, `{"lr":0.1}`, sum["best_params"])
	assert.Equal(t, "1 of 4 trials finished", sum["progress"])
	assert.Equal(t, "2", sum["pending"])
	assert.Equal(t, jobs.JobsListPath("quad"), sum["jobs"])
	assert.Equal(t, "running", sum["state"])

	// A trial that tune stops to run again later says why, and the
	// summary says how the experiment ended.
	again := report(1, 0.4)
	again.Trial.ID, again.Kind, again.Trial.Status, again.Message = "00002-def", controller.TrialStopped, results.Pending, "stopped outside tune: job stopped"
	p.Changed(again, snapshot(&best))
	expectWrites(t, written, "nomad/jobs/"+jobs.JobID("quad", "00002-def")+"/trial", summaryPath)
	items = read(t, c, "nomad/jobs/"+jobs.JobID("quad", "00002-def")+"/trial", "ml")
	assert.Equal(t, "PENDING (waiting to run: queued in tune or in Nomad)", items["status"])
	assert.Equal(t, "stopped outside tune: job stopped", items["stop_reason"])
	p.Changed(controller.Change{Kind: controller.ExperimentDone, Message: "stopped outside tune: job stopped; run tune apply again to resume"}, snapshot(&best))
	expectWrites(t, written, summaryPath)
	assert.Equal(t, "stopped outside tune: job stopped; run tune apply again to resume", read(t, c, summaryPath, "ml")["state"])
}

func TestAPendingTrialReadsAsWaitingNotFailing(t *testing.T) {
	assert.Contains(t, statusText(results.Pending), "waiting to run")
	assert.NotContains(t, statusText(results.Pending), "ERROR")
	assert.Equal(t, "ERROR", statusText(results.Error))
}

// syncBuffer is a log sink the publisher's goroutine writes while the test
// reads it after Close.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestWithoutPermissionToWriteVariablesThePublisherWarnsOnceAndGoesOn(t *testing.T) {
	c := startSim(t, nomadsim.Options{DenyVariableWrites: true})
	var logs syncBuffer
	p := New(Options{Client: c, Experiment: "quad", Clock: clock.NewManual(time.Unix(0, 0)), Logger: hclog.New(&hclog.LoggerOptions{Output: &logs})})
	for i := 1; i <= 5; i++ {
		ch := report(i, 1/float64(i))
		ch.Kind = controller.TrialFinished
		p.Changed(ch, snapshot(nil))
	}
	p.Done(snapshot(nil))
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	p.Close(ctx)
	assert.Equal(t, 1, strings.Count(logs.String(), "may not write Variables"), logs.String())
	assert.Contains(t, logs.String(), `"nomad/jobs/*"`, "the warning names the capability")
}

func TestPurgeDeletesTheExperimentsVariablesAndNoOthers(t *testing.T) {
	c := startSim(t, nomadsim.Options{})
	written := make(chan string, 16)
	p := start(Options{Client: c, Experiment: "quad", Clock: clock.NewManual(time.Unix(0, 0)), Groups: map[string]string{"00001-abc": "worker"}}, written)
	p.Changed(report(1, 0.5), snapshot(nil))
	mine := "nomad/jobs/" + jobs.JobID("quad", "00001-abc") + "/worker"
	expectWrites(t, written, mine, jobs.SummaryPath("quad"))
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	p.Close(ctx)
	// The rendezvous of ranks and a Variable someone else wrote stay.
	others := []string{"nomad/jobs/" + jobs.JobID("quad", "00001-abc"), "nomad/jobs/" + jobs.JobID("quad", "00002-def") + "/trial"}
	for _, path := range others {
		_, _, err := c.Variables().Create(&api.Variable{Path: path, Items: api.VariableItems{"owner": "someone else"}}, nil)
		require.NoError(t, err)
	}

	n, err := Purge(ctx, c, "quad", "", []string{jobs.JobID("quad", "00001-abc"), jobs.JobID("quad", "00002-def"), jobs.JobID("quad", "00003-ghi")})
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	for _, path := range []string{mine, jobs.SummaryPath("quad")} {
		v, _, err := c.Variables().Peek(path, nil)
		require.NoError(t, err)
		assert.Nil(t, v, "%s is left", path)
	}
	for _, path := range others {
		assert.Equal(t, "someone else", read(t, c, path, "")["owner"], "%s was not tune's", path)
	}
}

func TestATrialWhoseJobIDCannotNameAVariableHasNone(t *testing.T) {
	path, ok := TrialPath("quad", "00001-abc", "")
	assert.True(t, ok)
	assert.Equal(t, "nomad/jobs/"+jobs.JobID("quad", "00001-abc")+"/trial", path)
	_, ok = TrialPath("md.v1", "00001-abc", "trial")
	assert.False(t, ok, "a '.' cannot be in a Variable's path")
}

func TestReportedValuesReadAsTheyWereReported(t *testing.T) {
	cases := []struct {
		name string
		in   any
		want string
		ok   bool
	}{
		{name: "a Unix timestamp keeps its digits", in: 1796142122.0, want: "1796142122", ok: true},
		{name: "a fraction is as short as it can be", in: 0.015962068300452437, want: "0.015962068300452437", ok: true},
		{name: "a tiny number takes an exponent", in: 1.5e-9, want: "1.5e-09", ok: true},
		{name: "NaN is said", in: math.NaN(), want: "NaN", ok: true},
		{name: "a string is itself", in: "ok", want: "ok", ok: true},
		{name: "a list is left out", in: []any{1.0}, ok: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := valueText(tc.in)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}
