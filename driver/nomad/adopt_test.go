package nomad

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/driver"
	tunehcl "github.com/nomad-tune/tune/hcl"
	"github.com/nomad-tune/tune/jobs"
	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/trialenv"
)

// successor is a second driver on the harness's cluster and experiment: the
// tune that runs after the one that started the jobs died. Its events are
// collected like the first's.
func (h *simHarness) successor() *simHarness {
	h.t.Helper()
	d, err := New(Options{Client: h.client, Experiment: h.exp, Backoff: fastBackoff, LogDrain: 5 * time.Second})
	require.NoError(h.t, err)
	s := &simHarness{
		t: h.t, sim: h.sim, client: h.client, d: d, exp: h.exp, trials: h.trials,
		events:  map[attemptKey][]driver.Event{},
		arrived: make(chan struct{}),
		closed:  make(chan struct{}),
	}
	go s.collect()
	h.t.Cleanup(func() {
		assert.NoError(h.t, d.Close())
		<-s.closed
	})
	return s
}

// adopt adopts attempt of trial i and returns its output.
func (h *simHarness) adopt(i, attempt int) (stdout, stderr *output) {
	h.t.Helper()
	stdout, stderr = &output{}, &output{}
	err := h.d.Adopt(context.Background(), driver.StartRequest{
		Experiment: h.exp, Trial: h.trials[i], Attempt: attempt, Stdout: stdout, Stderr: stderr,
	})
	require.NoError(h.t, err)
	return stdout, stderr
}

// versions counts the versions Nomad keeps of trial i's job: one per
// registration.
func (h *simHarness) versions(i int) int {
	h.t.Helper()
	vs, _, _, err := h.client.Jobs().Versions(h.jobID(i), false, nil)
	require.NoError(h.t, err)
	return len(vs)
}

// threeTrials runs trial 0 for a minute and the others briefly, each
// printing a report first.
const threeTrials = `experiment "adopt" {
  num_samples = 3
  space {
    x = uniform(0, 1)
  }
  resources {
    cpu    = 0.5
    memory = 256
  }
  task "train" {
    driver = "mock_driver"
    config {
      run_for       = trial.index == 0 ? "1m" : "200ms"
      stdout_string = "@tune {\"index\": ${trial.index}}\n"
    }
  }
  nomad {
    datacenters = ["dc1"]
  }
}`

func TestExistingListsTheLatestAttemptOfEveryTrialWithAJob(t *testing.T) {
	h := setupSim(t, threeTrials, harnessOptions{})
	h.start(0, 0)
	h.start(1, 0)
	h.start(2, 0)
	h.waitRunning(0, 0)
	exit, _ := h.waitExited(1, 0)
	require.False(t, exit.Failed, exit.Message)
	h.waitExited(2, 0)
	// Trial 2's job is stopped outside tune, as `tune stop` would: nothing
	// of it is left to adopt.
	_, _, err := h.client.Jobs().Deregister(h.jobID(2), false, nil)
	require.NoError(t, err)
	// Someone else's job is not the experiment's.
	_, _, err = h.client.Jobs().Register(cpuJob("bystander"), nil)
	require.NoError(t, err)

	got, err := h.successor().d.Existing(context.Background(), h.exp, h.trials)
	require.NoError(t, err)
	byID := map[string]driver.Existing{}
	for _, ex := range got {
		byID[ex.TrialID] = ex
	}
	require.Len(t, byID, 2, "%+v", got)
	assert.True(t, byID[h.trials[0].ID].Running)
	assert.Equal(t, 0, byID[h.trials[0].ID].Attempt)
	assert.False(t, byID[h.trials[0].ID].Submitted.IsZero(), "the submit time comes with the list")
	assert.False(t, byID[h.trials[1].ID].Running, "trial 1 ended")
	assert.False(t, byID[h.trials[0].ID].Changed, "the same file compiles to the same job")
	assert.False(t, byID[h.trials[1].ID].Changed)
}

func TestExistingSaysWhichJobsWereCompiledFromAnotherDefinition(t *testing.T) {
	h := setupSim(t, threeTrials, harnessOptions{})
	h.start(0, 0)
	h.start(1, 0)
	h.waitExited(1, 0)

	// The same experiment with trial 0 running for longer: same trials,
	// another job for trial 0 only.
	changed, diags := tunehcl.Load(filepath.Join(t.TempDir(), "exp.hcl"),
		[]byte(strings.Replace(threeTrials, `"1m"`, `"2m"`, 1)), tunehcl.Options{})
	require.False(t, diags.HasErrors(), diags.Error())
	trials, diags := planner.Trials(changed)
	require.False(t, diags.HasErrors(), diags.Error())
	require.Equal(t, h.trials[0].ID, trials[0].ID)

	got, err := h.successor().d.Existing(context.Background(), changed, trials)
	require.NoError(t, err)
	byID := map[string]driver.Existing{}
	for _, ex := range got {
		byID[ex.TrialID] = ex
	}
	require.Len(t, byID, 2, "%+v", got)
	assert.True(t, byID[h.trials[0].ID].Changed, "trial 0 now runs for 2m")
	assert.False(t, byID[h.trials[1].ID].Changed, "trial 1 compiles as before")

	// A job without a spec was written by a tune that did not record what
	// it ran: it cannot be taken as this definition's.
	job, _, err := h.client.Jobs().Info(h.jobID(1), nil)
	require.NoError(t, err)
	delete(job.Meta, trialenv.MetaSpec)
	_, _, err = h.client.Jobs().Register(job, nil)
	require.NoError(t, err)
	got, err = h.successor().d.Existing(context.Background(), h.exp, h.trials)
	require.NoError(t, err)
	for _, ex := range got {
		assert.Equal(t, ex.TrialID == h.trials[1].ID, ex.Changed, "trial %s", ex.TrialID)
	}
}

func TestAdoptFollowsARunningAttemptToItsEndAndReadsItsOutputFromTheStart(t *testing.T) {
	h := setupSim(t, mockTrial(`      run_for       = "1s"
      stdout_string = "@tune {\"loss\": 1}\n"`, ""), harnessOptions{})
	h.start(0, 0)
	h.waitRunning(0, 0)
	h.waitFor(0, 0, "report", func(ev driver.Event) bool { return ev.Kind == driver.EventReport })

	next := h.successor()
	stdout, _ := next.adopt(0, 0)
	exit, evs := next.waitExited(0, 0)

	assert.False(t, exit.Failed, exit.Message)
	assert.False(t, exit.Stopped)
	assert.Equal(t, []driver.EventKind{driver.EventRunning, driver.EventReport, driver.EventExited}, kinds(evs),
		"the report printed before the adoption is delivered again")
	assert.Equal(t, map[string]any{"loss": 1.0}, evs[1].Metrics)
	assert.Equal(t, []string{`@tune {"loss": 1}`}, stdout.all())
	assert.Equal(t, 1, next.versions(0), "nothing was registered again")
	allocs := next.allocs(0)
	require.Len(t, allocs, 1)

	// The stages of an adopted attempt are Nomad's, not when the
	// successor saw them.
	job, _, err := next.client.Jobs().Info(next.jobID(0), nil)
	require.NoError(t, err)
	assert.Equal(t, time.Unix(0, *job.SubmitTime), evs[0].Registered)
	assert.Equal(t, time.Unix(0, allocs[0].CreateTime), evs[0].Placed)
	assert.Equal(t, allocs[0].TaskStates["train"].StartedAt, evs[0].Time)
}

func TestAdoptCollectsAnAttemptThatEndedWhileNobodyWatched(t *testing.T) {
	h := setupSim(t, mockTrial(`      run_for       = "100ms"
      stdout_string = "@tune {\"loss\": 4}\n"`, ""), harnessOptions{})
	h.start(0, 0)
	h.waitExited(0, 0)

	next := h.successor()
	existing, err := next.d.Existing(context.Background(), h.exp, h.trials)
	require.NoError(t, err)
	require.Len(t, existing, 1)
	require.False(t, existing[0].Running)
	adopting := time.Now()
	stdout, _ := next.adopt(0, 0)
	exit, evs := next.waitExited(0, 0)

	assert.False(t, exit.Failed, exit.Message)
	assert.Equal(t, 0, exit.ExitCode)
	assert.Equal(t, []driver.EventKind{driver.EventRunning, driver.EventReport, driver.EventExited}, kinds(evs))
	assert.Equal(t, []string{`@tune {"loss": 4}`}, stdout.all())
	assert.Equal(t, 1, next.versions(0))

	// It ran and ended when Nomad says, not when the successor saw it.
	allocs := next.allocs(0)
	require.Len(t, allocs, 1)
	task := allocs[0].TaskStates["train"]
	require.NotNil(t, task)
	assert.Equal(t, task.StartedAt, evs[0].Time)
	assert.Equal(t, task.FinishedAt, exit.Time)
	assert.True(t, exit.Time.Before(adopting), "it ended before it was adopted")
}

func TestAnAttemptThatFailedWhileNobodyWatchedIsAdoptedAsFailed(t *testing.T) {
	h := setupSim(t, mockTrial(`      run_for   = "100ms"
      exit_code = 3`, ""), harnessOptions{})
	h.start(0, 0)
	h.waitExited(0, 0)

	next := h.successor()
	next.adopt(0, 0)
	exit, _ := next.waitExited(0, 0)

	assert.True(t, exit.Failed)
	assert.Equal(t, 3, exit.ExitCode)
	assert.Contains(t, exit.Message, "exited with code 3")
}

func TestAnAdoptedAttemptCanBeStopped(t *testing.T) {
	h := setupSim(t, mockTrial(`      run_for = "1m"`, ""), harnessOptions{})
	h.start(0, 0)
	h.waitRunning(0, 0)

	next := h.successor()
	next.adopt(0, 0)
	next.waitRunning(0, 0)
	require.NoError(t, next.d.Stop(context.Background(), h.trials[0].ID, 0, "the trial is already finished"))
	exit, _ := next.waitExited(0, 0)

	assert.True(t, exit.Stopped)
	assert.Equal(t, "the trial is already finished", exit.Message)
	job, _, err := h.client.Jobs().Info(h.jobID(0), nil)
	require.NoError(t, err)
	assert.True(t, *job.Stop)
}

func TestAdoptRefusesAJobThatHoldsAnotherAttempt(t *testing.T) {
	h := setupSim(t, mockTrial(`      run_for = "100ms"`, ""), harnessOptions{})
	h.start(0, 0)
	h.waitExited(0, 0)

	next := h.successor()
	err := next.d.Adopt(context.Background(), driver.StartRequest{Experiment: h.exp, Trial: h.trials[0], Attempt: 1})
	assert.ErrorContains(t, err, "holds trial")
	assert.Equal(t, 1, next.versions(0))
}

// cpuJob is a job of someone else's holding 500 MHz in dc1.
func cpuJob(id string) *api.Job {
	job := api.NewBatchJob(id, id, "global", 50)
	job.Datacenters = []string{"dc1"}
	tg := api.NewTaskGroup("g", 1)
	task := api.NewTask("t", "mock_driver")
	task.Config = map[string]any{"run_for": "1m"}
	task.Resources = &api.Resources{CPU: new(500), MemoryMB: new(256)}
	tg.Tasks = []*api.Task{task}
	job.TaskGroups = []*api.TaskGroup{tg}
	return job
}

func TestCapacityLeavesOutTheExperimentsOwnJobs(t *testing.T) {
	h := setupSim(t, mockTrial(`      run_for = "1m"`, ""), harnessOptions{})
	h.start(0, 0)
	h.waitRunning(0, 0)
	_, _, err := h.client.Jobs().Register(cpuJob("bystander"), nil)
	require.NoError(t, err)
	require.NoError(t, h.sim.WaitIdle(context.Background()))

	// A new tune's driver follows nothing yet: the trial's job is known
	// as the experiment's by its meta.
	c, err := h.successor().d.Capacity(context.Background())
	require.NoError(t, err)
	require.Len(t, c.Nodes, 1)
	assert.Equal(t, int64(500), c.Nodes[0].Used.CPUShares, "only the bystander's allocation counts")
	allocs := h.allocs(0)
	require.Len(t, allocs, 1)
	assert.Equal(t, api.AllocClientStatusRunning, allocs[0].ClientStatus)
	job, _, err := h.client.Jobs().Info(h.jobID(0), nil)
	require.NoError(t, err)
	assert.Equal(t, trialenv.ManagedBy, job.Meta[trialenv.MetaManagedBy])
}

func TestAnEndedJobWhoseAllocationsAreGoneIsAdoptedAsFailed(t *testing.T) {
	exp, diags := tunehcl.Load(filepath.Join(t.TempDir(), "exp.hcl"), []byte(mockTrial(`      run_for = "1s"`, "")), tunehcl.Options{})
	require.False(t, diags.HasErrors(), "%s", diags.Error())
	trials, diags := planner.Trials(exp)
	require.False(t, diags.HasErrors(), "%s", diags.Error())
	// No call reaches this address: what the attempt needs is given.
	client, err := api.NewClient(&api.Config{Address: "http://127.0.0.1:1"})
	require.NoError(t, err)
	d, err := New(Options{Client: client, Experiment: exp})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, d.Close()) })
	job, diags := jobs.Compile(exp, trials[0], jobs.Options{MHzPerCore: 2000})
	require.False(t, diags.HasErrors(), "%s", diags.Error())
	job.JobModifyIndex, job.Status = new(uint64(10)), new(jobStatusDead)
	a, err := newAttempt(d, driver.StartRequest{Experiment: exp, Trial: trials[0]}, job)
	require.NoError(t, err)
	require.NoError(t, d.track(a))

	// Nomad garbage-collected the allocations of the dead job.
	d.mu.Lock()
	a.adopted(job, nil)
	d.mu.Unlock()
	ev := <-d.Events()

	assert.Equal(t, driver.EventExited, ev.Kind)
	assert.True(t, ev.Failed)
	assert.Contains(t, ev.Message, "ended while tune was away and Nomad keeps 0 of its 1 allocation")
}
