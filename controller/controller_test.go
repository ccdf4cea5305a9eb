package controller

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/clock"
	"github.com/nomad-tune/tune/driver"
	"github.com/nomad-tune/tune/experiment"
	tunehcl "github.com/nomad-tune/tune/hcl"
	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/results"
)

// script says what a fake trial does once started: the reports it makes,
// then how it ends. hold keeps it running until it is stopped.
type script struct {
	reports []map[string]any
	fail    bool
	hold    bool
	// queued leaves the attempt waiting in the target's queue: no
	// EventRunning until the test sends one.
	queued bool
	// registered, placed, running and ended are the times the attempt's
	// events carry; zero ones are the wall clock's now (none for
	// registered and placed).
	registered, placed, running, ended time.Time
}

// fakeDriver runs trials instantly in memory, following a script per
// trial index; it records starts, stops and how many ran at once.
type fakeDriver struct {
	capacity *planner.Capacity
	script   func(t *planner.Trial, attempt int) script
	startErr func(t *planner.Trial, attempt int) error

	mu         sync.Mutex
	events     chan driver.Event
	running    map[string]int
	maxRunning int
	starts     []string
	stops      []string
	// existing is what Existing reports: attempts an earlier run left on
	// the target. Adopt plays the trial's script as Start does, and
	// records the attempt in adopts rather than starts.
	existing []driver.Existing
	adopts   []string
	// spec is what Spec says a trial runs; nil says nothing.
	spec func(t *planner.Trial) string
	// started, when set, hears of every attempt Start made.
	started chan string
}

var (
	_ driver.Driver    = (*fakeDriver)(nil)
	_ driver.Adopter   = (*fakeDriver)(nil)
	_ driver.Specifier = (*fakeDriver)(nil)
)

func (f *fakeDriver) Spec(_ *experiment.Experiment, t *planner.Trial) (string, error) {
	if f.spec == nil {
		return "", nil
	}
	return f.spec(t), nil
}

func newFakeDriver(c *planner.Capacity, s func(t *planner.Trial, attempt int) script) *fakeDriver {
	return &fakeDriver{capacity: c, script: s, events: make(chan driver.Event, 100000), running: map[string]int{}}
}

func (f *fakeDriver) Capacity(context.Context) (*planner.Capacity, error) {
	return f.capacity.Clone(), nil
}

func (f *fakeDriver) Start(_ context.Context, req driver.StartRequest) error {
	if f.startErr != nil {
		if err := f.startErr(req.Trial, req.Attempt); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts = append(f.starts, fmt.Sprintf("%s#%d", req.Trial.ID, req.Attempt))
	f.play(req)
	if f.started != nil {
		f.started <- fmt.Sprintf("%s#%d", req.Trial.ID, req.Attempt)
	}
	return nil
}

func (f *fakeDriver) Existing(context.Context, *experiment.Experiment, []*planner.Trial) ([]driver.Existing, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]driver.Existing(nil), f.existing...), nil
}

func (f *fakeDriver) Adopt(_ context.Context, req driver.StartRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.adopts = append(f.adopts, fmt.Sprintf("%s#%d", req.Trial.ID, req.Attempt))
	f.play(req)
	return nil
}

// play runs the attempt's script. Called with f.mu held.
func (f *fakeDriver) play(req driver.StartRequest) {
	f.running[req.Trial.ID] = req.Attempt
	f.maxRunning = max(f.maxRunning, len(f.running))
	sc := f.script(req.Trial, req.Attempt)
	now := time.Now()
	if sc.queued {
		return
	}
	f.events <- driver.Event{Kind: driver.EventRunning, TrialID: req.Trial.ID, Attempt: req.Attempt, Time: orNow(sc.running, now),
		Registered: sc.registered, Placed: sc.placed}
	for _, m := range sc.reports {
		f.events <- driver.Event{Kind: driver.EventReport, TrialID: req.Trial.ID, Attempt: req.Attempt, Time: now, Metrics: m}
	}
	if sc.hold {
		return
	}
	delete(f.running, req.Trial.ID)
	ev := driver.Event{Kind: driver.EventExited, TrialID: req.Trial.ID, Attempt: req.Attempt, Time: orNow(sc.ended, now)}
	if sc.fail {
		ev.Failed, ev.ExitCode, ev.Message = true, 3, "task train exited with status 3"
	}
	f.events <- ev
}

func orNow(t, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return t
}

func (f *fakeDriver) Stop(_ context.Context, trialID string, attempt int, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if a, ok := f.running[trialID]; !ok || a != attempt {
		return nil
	}
	delete(f.running, trialID)
	f.stops = append(f.stops, trialID+": "+reason)
	f.events <- driver.Event{Kind: driver.EventExited, TrialID: trialID, Attempt: attempt, Time: time.Now(), Stopped: true, ExitCode: -1, Message: reason}
	return nil
}

func (f *fakeDriver) Events() <-chan driver.Event { return f.events }
func (f *fakeDriver) Close() error                { return nil }

// localCapacity is one node of cpus CPUs and gpus GPUs.
func localCapacity(cpus, gpus int) *planner.Capacity {
	n := &planner.Node{ID: "local", Name: "local", Datacenter: "local", NodePool: "default",
		CPUShares: int64(cpus) * 1000, MHzPerCore: 1000, Cores: cpus, MemoryMiB: 1 << 20}
	if gpus > 0 {
		g := &planner.DeviceGroup{Vendor: "nvidia", Type: "gpu", Name: "test"}
		for i := 0; i < gpus; i++ {
			g.Instances = append(g.Instances, &planner.DeviceInstance{ID: fmt.Sprint(i), Healthy: true})
		}
		n.Devices = []*planner.DeviceGroup{g}
	}
	return &planner.Capacity{Target: "local", Nodes: []*planner.Node{n}, FractionalGPUs: true, MHzPerCore: 1000, GPUDevice: "nvidia/gpu"}
}

type fixture struct {
	exp    *experiment.Experiment
	trials []*planner.Trial
	store  *results.Store
	root   string
}

func newFixture(t *testing.T, src string) *fixture {
	t.Helper()
	exp, diags := tunehcl.Load("exp.hcl", []byte(src), tunehcl.Options{})
	require.False(t, diags.HasErrors(), diags.Error())
	trials, diags := planner.Trials(exp)
	require.False(t, diags.HasErrors(), diags.Error())
	f := &fixture{exp: exp, trials: trials, root: t.TempDir()}
	f.open(t)
	return f
}

func (f *fixture) open(t *testing.T) {
	t.Helper()
	infos := make([]results.TrialInfo, len(f.trials))
	for i, tr := range f.trials {
		infos[i] = results.TrialInfo{ID: tr.ID, Index: tr.Index}
		if !tr.Suggested {
			infos[i].Params = tr.Params(&f.exp.Space)
		}
	}
	store, err := results.Open(f.root, results.Info{Name: f.exp.Name, File: "exp.hcl", Metric: f.exp.Metric, Mode: string(f.exp.Mode), Target: "local",
		Adaptive: f.exp.Search.Adaptive()}, infos)
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	f.store = store
}

func (f *fixture) run(t *testing.T, ctx context.Context, d driver.Driver, rep Reporter) *Outcome {
	t.Helper()
	out, err := Run(ctx, Options{Experiment: f.exp, Trials: f.trials, Driver: d, Store: f.store, Reporter: rep, Target: "local"})
	require.NoError(t, err)
	return out
}

func experimentFile(samples int, extra string) string {
	return fmt.Sprintf(`experiment "ctl" {
  metric      = "loss"
  mode        = "min"
  num_samples = %d
  space {
    x = uniform(0, 1)
  }
  %s
  task "train" {
    command = "true"
  }
}
`, samples, extra)
}

func loss(v float64) map[string]any { return map[string]any{"loss": v} }

func statuses(records []*results.TrialRecord) map[results.Status]int {
	out := map[results.Status]int{}
	for _, r := range records {
		out[r.Status]++
	}
	return out
}

func TestEveryTrialRunsOnceAndTheBestIsFound(t *testing.T) {
	f := newFixture(t, experimentFile(6, ""))
	d := newFakeDriver(localCapacity(2, 0), func(tr *planner.Trial, _ int) script {
		return script{reports: []map[string]any{loss(10), loss(float64(tr.Index))}}
	})
	out := f.run(t, context.Background(), d, nil)
	assert.Equal(t, StatusFinished, out.Status)
	assert.Len(t, d.starts, 6)
	assert.LessOrEqual(t, d.maxRunning, 2)
	require.NotNil(t, out.Best)
	assert.Equal(t, f.trials[0].ID, out.Best.ID, "trial 0 reported the lowest loss")
	assert.Equal(t, map[results.Status]int{results.Terminated: 6}, statuses(f.store.Records()))
	assert.Equal(t, 2, f.store.Records()[3].Iterations)
}

func TestConcurrencyNeverExceedsTheLimitOrTheCapacity(t *testing.T) {
	cases := []struct {
		name  string
		extra string
		cpus  int
		want  int
	}{
		{"four CPUs and one CPU per trial run four at once", "", 4, 4},
		{"half a CPU per trial runs twice as many", "resources {\n cpu = 0.5\n }", 4, 8},
		{"max_concurrent_trials caps them", "max_concurrent_trials = 3\n resources {\n cpu = 0.5\n }", 4, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, experimentFile(20, tc.extra))
			d := newFakeDriver(localCapacity(tc.cpus, 0), func(*planner.Trial, int) script { return script{hold: true} })
			ctx, cancel := context.WithCancel(context.Background())
			// Every trial holds its slot; once the first wave is in, end
			// the run and count how many were in it.
			rep := &funcReporter{changed: func(c Change, s *Snapshot) {
				if c.Kind == TrialStarted && s.Running == tc.want {
					cancel()
				}
			}}
			out := f.run(t, ctx, d, rep)
			assert.Equal(t, StatusStopped, out.Status)
			assert.Equal(t, tc.want, d.maxRunning)
			assert.Len(t, d.starts, tc.want)
		})
	}
}

func TestAFailedTrialIsRetriedUpToMaxFailures(t *testing.T) {
	f := newFixture(t, experimentFile(2, "failure {\n max_failures = 2\n }"))
	d := newFakeDriver(localCapacity(1, 0), func(tr *planner.Trial, attempt int) script {
		// Trial 0 always fails; trial 1 fails once, then succeeds.
		return script{fail: tr.Index == 0 || attempt == 0, reports: []map[string]any{loss(1)}}
	})
	out := f.run(t, context.Background(), d, nil)
	assert.Equal(t, StatusFinished, out.Status)
	recs := f.store.Records()
	assert.Equal(t, results.Error, recs[0].Status)
	assert.Equal(t, 3, recs[0].Failures, "the first try and two retries")
	assert.Equal(t, 3, recs[0].Attempts)
	assert.Contains(t, recs[0].Error, "exited with status 3")
	assert.Equal(t, results.Terminated, recs[1].Status)
	assert.Equal(t, 1, recs[1].Failures)
	assert.Equal(t, 2, recs[1].Attempts)
}

func TestFailFastStopsTheExperimentAtTheFirstFailure(t *testing.T) {
	f := newFixture(t, experimentFile(5, "failure {\n fail_fast = true\n max_failures = 3\n }"))
	d := newFakeDriver(localCapacity(1, 0), func(tr *planner.Trial, _ int) script {
		return script{fail: tr.Index == 1}
	})
	out := f.run(t, context.Background(), d, nil)
	assert.Equal(t, StatusFailed, out.Status)
	assert.Contains(t, out.Message, "fail_fast")
	assert.Len(t, d.starts, 2, "nothing starts after the failure")
	recs := f.store.Records()
	assert.Equal(t, results.Terminated, recs[0].Status)
	assert.Equal(t, results.Error, recs[1].Status)
	assert.Equal(t, results.Pending, recs[2].Status)
}

func TestStopRulesEndATrialAsTerminated(t *testing.T) {
	f := newFixture(t, experimentFile(2, "stop {\n at_most = { loss = 0.5 }\n }"))
	d := newFakeDriver(localCapacity(2, 0), func(tr *planner.Trial, _ int) script {
		if tr.Index == 0 {
			return script{hold: true, reports: []map[string]any{loss(2), loss(0.4)}}
		}
		return script{reports: []map[string]any{loss(3)}}
	})
	out := f.run(t, context.Background(), d, nil)
	assert.Equal(t, StatusFinished, out.Status)
	rec := f.store.Records()[0]
	assert.Equal(t, results.Terminated, rec.Status)
	assert.Equal(t, "loss <= 0.5", rec.StopReason)
	assert.Equal(t, 2, rec.Iterations)
	assert.Equal(t, []string{f.trials[0].ID + ": loss <= 0.5"}, d.stops)
}

// runAdvancing runs the experiment on a manual clock, moving it by each
// step in turn once the controller waits for a timer due that far ahead:
// time passes only where the test says, however slow the machine.
func (f *fixture) runAdvancing(t *testing.T, d driver.Driver, steps ...time.Duration) (*Outcome, *clock.Manual) {
	t.Helper()
	clk := clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	type result struct {
		out *Outcome
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := Run(context.Background(), Options{Experiment: f.exp, Trials: f.trials, Driver: d, Store: f.store, Target: "local", Clock: clk})
		done <- result{out, err}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, step := range steps {
		err := clk.WaitUntil(ctx, func(pending []time.Duration) bool { return slices.Contains(pending, step) })
		require.NoError(t, err, "no timer due in %s; pending: %v", step, clk.Pending())
		clk.Advance(step)
	}
	select {
	case r := <-done:
		require.NoError(t, r.err)
		return r.out, clk
	case <-ctx.Done():
		t.Fatalf("the run did not end after the clock moved %v", steps)
		return nil, nil
	}
}

func TestATrialTimeoutStopsTheTrial(t *testing.T) {
	f := newFixture(t, experimentFile(1, "stop {\n trial_timeout = \"10m\"\n }"))
	d := newFakeDriver(localCapacity(1, 0), func(*planner.Trial, int) script { return script{hold: true} })
	out, _ := f.runAdvancing(t, d, 10*time.Minute)
	assert.Equal(t, StatusFinished, out.Status)
	rec := f.store.Records()[0]
	assert.Equal(t, results.Terminated, rec.Status)
	assert.Equal(t, "trial_timeout 10m0s", rec.StopReason)
}

func TestTheTimeBudgetEndsTheExperimentAndLeavesTheRestPending(t *testing.T) {
	f := newFixture(t, experimentFile(4, "stop {\n time_budget = \"1h\"\n }"))
	d := newFakeDriver(localCapacity(1, 0), func(*planner.Trial, int) script { return script{hold: true} })
	out, _ := f.runAdvancing(t, d, time.Hour)
	assert.Equal(t, StatusStopped, out.Status)
	assert.False(t, out.Interrupted, "a spent budget is an end")
	assert.Contains(t, out.Message, "time budget")
	recs := f.store.Records()
	assert.Equal(t, results.Terminated, recs[0].Status)
	assert.Equal(t, "time_budget", recs[0].StopReason)
	for _, r := range recs[1:] {
		assert.Equal(t, results.Pending, r.Status)
	}
}

func TestAnInterruptedRunResumesWithoutRunningFinishedTrialsAgain(t *testing.T) {
	f := newFixture(t, experimentFile(4, ""))
	ctx, cancel := context.WithCancel(context.Background())
	d := newFakeDriver(localCapacity(1, 0), func(tr *planner.Trial, _ int) script {
		if tr.Index == 2 {
			cancel()
			return script{hold: true}
		}
		return script{reports: []map[string]any{loss(float64(tr.Index))}}
	})
	out := f.run(t, ctx, d, nil)
	assert.Equal(t, StatusStopped, out.Status)
	recs := f.store.Records()
	assert.Equal(t, results.Pending, recs[2].Status, "the interrupted trial runs again")
	assert.Equal(t, 0, recs[2].Attempts, "an interrupted attempt does not count")
	require.NoError(t, f.store.Close())

	f.open(t)
	again := newFakeDriver(localCapacity(1, 0), func(tr *planner.Trial, _ int) script {
		return script{reports: []map[string]any{loss(float64(tr.Index))}}
	})
	out = f.run(t, context.Background(), again, nil)
	assert.Equal(t, StatusFinished, out.Status)
	assert.Equal(t, []string{f.trials[2].ID + "#0", f.trials[3].ID + "#0"}, again.starts)
	assert.Equal(t, map[results.Status]int{results.Terminated: 4}, statuses(f.store.Records()))
	require.NotNil(t, out.Best)
	assert.Equal(t, f.trials[0].ID, out.Best.ID, "results of the first run are kept")
}

func TestTrialsThatCanNeverRunAreErrorsAndTheRestRun(t *testing.T) {
	f := newFixture(t, `experiment "ctl" {
  num_samples = 2
  space {
    big = grid([false, true])
  }
  resources {
    cpu = trial.big ? 64 : 1
  }
  task "train" {
    command = "true"
  }
}
`)
	d := newFakeDriver(localCapacity(2, 0), func(*planner.Trial, int) script { return script{} })
	out := f.run(t, context.Background(), d, nil)
	assert.Equal(t, StatusFinished, out.Status)
	recs := f.store.Records()
	for i, r := range recs {
		if i%2 == 1 {
			assert.Equal(t, results.Error, r.Status)
			assert.Contains(t, r.Error, "can never run on local")
			assert.Equal(t, 0, r.Attempts)
		} else {
			assert.Equal(t, results.Terminated, r.Status)
		}
	}
}

func TestAGPUTrialWaitsForTheGPUAndSmallerTrialsGoPastIt(t *testing.T) {
	f := newFixture(t, `experiment "ctl" {
  space {
    kind = grid(["gpu", "gpu", "cpu", "cpu"])
  }
  resources {
    cpu = 0.5
    gpu = trial.kind == "gpu" ? 1 : 0
  }
  task "train" {
    command = "true"
  }
}
`)
	d := newFakeDriver(localCapacity(4, 1), func(*planner.Trial, int) script { return script{hold: true} })
	ctx, cancel := context.WithCancel(context.Background())
	rep := &funcReporter{changed: func(c Change, s *Snapshot) {
		if c.Kind == TrialStarted && s.Running == 3 {
			cancel()
		}
	}}
	f.run(t, ctx, d, rep)
	assert.Equal(t, []string{f.trials[0].ID + "#0", f.trials[2].ID + "#0", f.trials[3].ID + "#0"}, d.starts,
		"the second GPU trial waits for the one GPU; the CPU trials start past it")
}

func TestAStartThatFailsCountsAsAFailure(t *testing.T) {
	f := newFixture(t, experimentFile(1, "failure {\n max_failures = 1\n }"))
	d := newFakeDriver(localCapacity(1, 0), func(*planner.Trial, int) script { return script{} })
	d.startErr = func(_ *planner.Trial, attempt int) error {
		return fmt.Errorf("exec: \"trian\": executable file not found in $PATH")
	}
	out := f.run(t, context.Background(), d, nil)
	assert.Equal(t, StatusFinished, out.Status)
	rec := f.store.Records()[0]
	assert.Equal(t, results.Error, rec.Status)
	assert.Equal(t, 2, rec.Failures)
	assert.Contains(t, rec.Error, "could not start")
}

// funcReporter passes changes to a function.
type funcReporter struct {
	changed func(Change, *Snapshot)
	lines   []string
}

func (r *funcReporter) Changed(c Change, s *Snapshot) {
	r.lines = append(r.lines, string(c.Kind)+" "+c.Trial.ID)
	if r.changed != nil {
		r.changed(c, s)
	}
}
func (r *funcReporter) Tick(*Snapshot) {}
func (r *funcReporter) Done(*Snapshot) {}

func TestATrialTheTargetCouldNotPlaceIsQueuedAgainWithoutCountingAFailure(t *testing.T) {
	f := newFixture(t, experimentFile(1, "failure {\n max_failures = 0\n }"))
	d := newFakeDriver(localCapacity(1, 0), func(*planner.Trial, int) script { return script{hold: true} })
	rolledBack := false
	rep := &funcReporter{changed: func(c Change, s *Snapshot) {
		if c.Kind == TrialStarted && !rolledBack {
			rolledBack = true
			// The target rolls the first attempt back, as the Nomad driver
			// does with a gang that was placed only in part.
			d.mu.Lock()
			delete(d.running, c.Trial.ID)
			d.events <- driver.Event{Kind: driver.EventExited, TrialID: c.Trial.ID, Attempt: 0, Time: time.Now(), Unplaced: true, Message: "1 of 2 allocations placed"}
			d.mu.Unlock()
			return
		}
		if c.Kind == TrialStarted {
			// The second attempt ends well.
			d.mu.Lock()
			delete(d.running, c.Trial.ID)
			d.events <- driver.Event{Kind: driver.EventExited, TrialID: c.Trial.ID, Attempt: 0, Time: time.Now()}
			d.mu.Unlock()
		}
	}}
	out := f.run(t, context.Background(), d, rep)
	assert.Equal(t, StatusFinished, out.Status)
	rec := f.store.Records()[0]
	assert.Equal(t, results.Terminated, rec.Status)
	assert.Equal(t, 0, rec.Failures, "a rollback is no failure")
	assert.Equal(t, 1, rec.Attempts, "the rolled back attempt does not count")
	assert.Equal(t, []string{f.trials[0].ID + "#0", f.trials[0].ID + "#0"}, d.starts)
}

func TestATrialStoppedOutsideTuneStopsTheExperimentResumably(t *testing.T) {
	f := newFixture(t, experimentFile(4, ""))
	d := newFakeDriver(localCapacity(2, 0), func(*planner.Trial, int) script { return script{hold: true} })
	rep := &funcReporter{changed: func(c Change, s *Snapshot) {
		if c.Kind == TrialStarted && s.Running == 2 {
			// As if `tune stop` had deregistered the first trial's job.
			d.mu.Lock()
			delete(d.running, f.trials[0].ID)
			d.events <- driver.Event{Kind: driver.EventExited, TrialID: f.trials[0].ID, Attempt: 0, Time: time.Now(), Stopped: true, ExitCode: -1, Message: "job stopped"}
			d.mu.Unlock()
		}
	}}
	out := f.run(t, context.Background(), d, rep)
	assert.Equal(t, StatusStopped, out.Status)
	assert.True(t, out.Interrupted)
	assert.Contains(t, out.Message, "stopped outside tune")
	assert.Len(t, d.starts, 2, "nothing is started again")
	for _, r := range f.store.Records() {
		assert.Equal(t, results.Pending, r.Status, r.ID)
		assert.Equal(t, 0, r.Failures, r.ID)
	}
}

func TestWithQueueUnfitTrialsThatDoNotFitAreSubmittedForTheTargetToQueue(t *testing.T) {
	f := newFixture(t, experimentFile(6, "max_concurrent_trials = 4\n resources {\n cpu = 2\n }"))
	d := newFakeDriver(localCapacity(2, 0), func(*planner.Trial, int) script { return script{hold: true} })
	ctx, cancel := context.WithCancel(context.Background())
	rep := &funcReporter{changed: func(c Change, s *Snapshot) {
		if c.Kind == TrialStarted && s.Running == 4 {
			cancel()
		}
	}}
	out, err := Run(ctx, Options{Experiment: f.exp, Trials: f.trials, Driver: d, Store: f.store, Reporter: rep, Target: "nomad", QueueUnfit: true})
	require.NoError(t, err)
	assert.Equal(t, StatusStopped, out.Status)
	assert.Equal(t, 4, d.maxRunning, "one fits the 2 CPUs; three more are submitted to wait in the target, up to max_concurrent_trials")
}

func TestAnInterruptWhileStartingIsNoFailure(t *testing.T) {
	f := newFixture(t, experimentFile(3, ""))
	ctx, cancel := context.WithCancel(context.Background())
	d := newFakeDriver(localCapacity(4, 0), func(*planner.Trial, int) script { return script{hold: true} })
	d.startErr = func(tr *planner.Trial, _ int) error {
		if tr.Index == 1 {
			// Ctrl-C arrives while the driver is submitting.
			cancel()
			return context.Canceled
		}
		return nil
	}
	out := f.run(t, ctx, d, nil)
	assert.Equal(t, StatusStopped, out.Status)
	assert.True(t, out.Interrupted)
	for _, r := range f.store.Records() {
		assert.Equal(t, results.Pending, r.Status, r.ID)
		assert.Equal(t, 0, r.Failures, r.ID)
		assert.Equal(t, 0, r.Attempts, r.ID)
	}
	assert.Len(t, d.starts, 1, "nothing more is started once interrupted")
}

func TestMoreTrialsThanOneAdmissionPassStartsAllStart(t *testing.T) {
	f := newFixture(t, experimentFile(600, "resources {\n cpu = 0.001\n memory = 1\n }"))
	d := newFakeDriver(localCapacity(1, 0), func(*planner.Trial, int) script { return script{} })
	out := f.run(t, context.Background(), d, nil)
	assert.Equal(t, StatusFinished, out.Status)
	assert.Len(t, d.starts, 600)
	assert.Equal(t, map[results.Status]int{results.Terminated: 600}, statuses(f.store.Records()))
}
