package nomad

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/driver"
	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/test/nomadsim"
)

// shortTrials is an experiment of n one-allocation trials of half a core
// that run for runFor.
func shortTrials(n int, runFor string) string {
	return trialsOf(n, 0.5, fmt.Sprintf("      run_for = %q", runFor))
}

// oneSubmitter is a connection budget that leaves room for one submission
// at a time.
const oneSubmitter = 4

// heldAndQueued starts two trials with room for one submission at a
// time: trial 0's registration is held at the front, so trial 1 waits
// for the submitter.
func heldAndQueued(t *testing.T) (*simHarness, *front) {
	f := newFront(isRegister)
	h := setupSim(t, shortTrials(2, "1m"), harnessOptions{front: f, noClose: true, driver: Options{MaxConns: oneSubmitter}})
	h.start(0, 0)
	waitArrived(t, f)
	h.start(1, 0)
	return h, f
}

// waitSubmitted waits until the submission of trial i's attempt is over:
// its job registered, or the attempt ended without it.
func (h *simHarness) waitSubmitted(i, attempt int) {
	h.t.Helper()
	h.d.mu.Lock()
	a := h.d.attempts[attemptKey{h.trials[i].ID, attempt}]
	h.d.mu.Unlock()
	if a == nil {
		return
	}
	select {
	case <-a.submitted:
	case <-time.After(waitLimit):
		h.t.Fatalf("trial %d attempt %d was never submitted", i, attempt)
	}
}

// waitArrived waits for the front to hold a request.
func waitArrived(t *testing.T, f *front) string {
	t.Helper()
	select {
	case what := <-f.arrived:
		return what
	case <-time.After(waitLimit):
		t.Fatal("no request reached the front")
		return ""
	}
}

// jobMissing asserts that Nomad has no job of trial i.
func (h *simHarness) jobMissing(i int) {
	h.t.Helper()
	_, _, err := h.client.Jobs().Info(h.jobID(i), nil)
	assert.True(h.t, notFound(err), "job %s was never registered: %v", h.jobID(i), err)
}

// jobStopped asserts that Nomad has trial i's job stopped.
func (h *simHarness) jobStopped(i int) {
	h.t.Helper()
	job, _, err := h.client.Jobs().Info(h.jobID(i), nil)
	require.NoError(h.t, err)
	assert.True(h.t, *job.Stop, "job %s is stopped", h.jobID(i))
}

func TestStartsMadeAtOnceAreSubmittedInParallelAndEachRegistersOnce(t *testing.T) {
	const n = 24
	workers := submitters(0)
	f := newFront(isRegister)
	h := setupSim(t, shortTrials(n, "100ms"), harnessOptions{front: f,
		sim: nomadsim.Options{Nodes: []nomadsim.NodeSpec{{Count: 4, Name: "big", Datacenter: "dc1", Cores: 16, MHz: 2000, MemoryMiB: 16384}}}})

	// The registrations are held until as many as there are submitters
	// are in flight together: one submission at a time never gets there.
	go func() {
		for range workers {
			waitArrived(t, f)
		}
		f.open()
	}()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			assert.NoError(t, h.d.Start(context.Background(), driver.StartRequest{Experiment: h.exp, Trial: h.trials[i], Stdout: &output{}, Stderr: &output{}}))
		})
	}
	wg.Wait()
	for i := range n {
		exit, evs := h.waitExited(i, 0)
		assert.False(t, exit.Failed, exit.Message)
		assert.Equal(t, []driver.EventKind{driver.EventRunning, driver.EventExited}, kinds(evs))
		versions, _, _, err := h.client.Jobs().Versions(h.jobID(i), false, nil)
		require.NoError(t, err)
		assert.Len(t, versions, 1, "trial %d registered once", i)
		assert.Len(t, h.allocs(i), 1)
		assert.Zero(t, f.count(http.MethodGet, "/v1/job/"+h.jobID(i)), "a new job is registered without a read")
	}
	held, busy := f.most()
	assert.Equal(t, workers, held, "the submitters' registrations were in flight together")
	assert.LessOrEqual(t, busy, workers, "no more submissions at once than there are submitters")
	assert.Equal(t, n, f.count(http.MethodPut, "/v1/jobs"))
}

func TestASingleAllocationTrialOfAShapeAlreadyPlannedIsRegisteredWithoutADryRun(t *testing.T) {
	f := newFront(nil)
	h := setupSim(t, shortTrials(3, "50ms"), harnessOptions{front: f})

	for i := range 3 {
		h.start(i, 0)
		exit, _ := h.waitExited(i, 0)
		assert.False(t, exit.Failed, exit.Message)
	}

	assert.Equal(t, 1, f.count(http.MethodPut, "/v1/job/"+h.jobID(0)+"/plan"), "the first trial of the shape is planned")
	assert.Zero(t, f.count(http.MethodPut, "/v1/job/"+h.jobID(1)+"/plan"))
	assert.Zero(t, f.count(http.MethodPut, "/v1/job/"+h.jobID(2)+"/plan"))
}

func TestAGangIsPlannedEveryTime(t *testing.T) {
	f := newFront(nil)
	h := setupSim(t, fmt.Sprintf(gang, "wait"), harnessOptions{front: f,
		sim: nomadsim.Options{Nodes: []nomadsim.NodeSpec{{Count: 2, Name: "n", Datacenter: "dc1", Cores: 8, MHz: 2000, MemoryMiB: 8192}}}})

	for attempt := range 2 {
		h.start(0, attempt)
		h.waitRunning(0, attempt)
		require.NoError(t, h.d.Stop(context.Background(), h.trials[0].ID, attempt, "next"))
		h.waitExited(0, attempt)
	}

	assert.Equal(t, 2, f.count(http.MethodPut, "/v1/job/"+h.jobID(0)+"/plan"), "Nomad could place a gang in part")
}

func TestARetriedAttemptRegistersOverTheLastOneWithoutReadingTheJob(t *testing.T) {
	f := newFront(nil)
	h := setupSim(t, mockTrial(`      run_for   = "100ms"
      exit_code = 3`, ""), harnessOptions{front: f})
	h.start(0, 0)
	first, _ := h.waitExited(0, 0)
	require.True(t, first.Failed)
	f.reset()

	h.start(0, 1)
	second, evs := h.waitExited(0, 1)

	assert.True(t, second.Failed)
	assert.Equal(t, driver.EventRunning, evs[0].Kind, "the retry ran")
	assert.Zero(t, f.count(http.MethodGet, "/v1/job/"+h.jobID(0)), "the retry registers at the index of the last registration")
	assert.Equal(t, 1, f.count(http.MethodPut, "/v1/jobs"))
	versions, _, _, err := h.client.Jobs().Versions(h.jobID(0), false, nil)
	require.NoError(t, err)
	assert.Len(t, versions, 2)
}

func TestAJobChangedBehindTunesBackIsReadAndRegisteredOver(t *testing.T) {
	f := newFront(nil)
	h := setupSim(t, mockTrial(`      run_for   = "100ms"
      exit_code = 3`, ""), harnessOptions{front: f})
	h.start(0, 0)
	h.waitExited(0, 0)
	// Someone registers the job again: its index is not the one tune knows.
	job, _, err := h.client.Jobs().Info(h.jobID(0), nil)
	require.NoError(t, err)
	job.Meta["edited"] = "by hand"
	_, _, err = h.client.Jobs().Register(job, nil)
	require.NoError(t, err)
	f.reset()

	h.start(0, 1)
	second, evs := h.waitExited(0, 1)

	assert.True(t, second.Failed, "the retry ran to its exit code: %s", second.Message)
	assert.Equal(t, driver.EventRunning, evs[0].Kind)
	assert.Equal(t, 1, f.count(http.MethodGet, "/v1/job/"+h.jobID(0)), "the conflict is read once")
	assert.Equal(t, 2, f.count(http.MethodPut, "/v1/jobs"), "refused, then registered over the version read")
	versions, _, _, err := h.client.Jobs().Versions(h.jobID(0), false, nil)
	require.NoError(t, err)
	assert.Len(t, versions, 3)
}

func TestAStopWhileTheSubmissionWaitsDropsIt(t *testing.T) {
	h, f := heldAndQueued(t)

	// The one submitter is busy with trial 0: trial 1 waits, and ends.
	require.NoError(t, h.d.Stop(context.Background(), h.trials[1].ID, 0, "no longer wanted"))
	exit, evs := h.waitExited(1, 0)
	f.open()
	h.waitRunning(0, 0)
	require.NoError(t, h.d.Close())
	<-h.closed

	assert.Equal(t, []driver.EventKind{driver.EventExited}, kinds(evs))
	assert.Equal(t, driver.Event{Kind: driver.EventExited, TrialID: h.trials[1].ID, Stopped: true, ExitCode: -1, Message: "no longer wanted", Time: exit.Time}, exit)
	h.jobMissing(1)
	assert.Equal(t, 1, f.count(http.MethodPut, "/v1/jobs"), "only trial 0 was registered")
}

func TestAStopDuringASubmissionLeavesNoJobBehind(t *testing.T) {
	for _, tc := range []struct {
		name string
		gate func(*http.Request) bool
		// registered says the job was sent before the stop.
		registered bool
	}{
		{name: "stopped while its dry run is in flight, nothing is registered", gate: isPlan},
		{name: "stopped while its registration is in flight, the job is taken back", gate: isRegister, registered: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFront(tc.gate)
			h := setupSim(t, shortTrials(1, "1m"), harnessOptions{front: f})
			h.start(0, 0)
			waitArrived(t, f)

			require.NoError(t, h.d.Stop(context.Background(), h.trials[0].ID, 0, "no longer wanted"))
			f.open()
			exit, evs := h.waitExited(0, 0)

			assert.Equal(t, []driver.EventKind{driver.EventExited}, kinds(evs))
			assert.True(t, exit.Stopped)
			assert.Equal(t, "no longer wanted", exit.Message)
			if tc.registered {
				h.jobStopped(0)
			} else {
				h.jobMissing(0)
				assert.Zero(t, f.count(http.MethodPut, "/v1/jobs"))
			}
		})
	}
}

func TestAnInterruptSubmitsNothingMore(t *testing.T) {
	h, f := heldAndQueued(t)

	h.d.Interrupt()
	f.open()
	// As the controller does once interrupted: every attempt is stopped.
	for i := range 2 {
		require.NoError(t, h.d.Stop(context.Background(), h.trials[i].ID, 0, "interrupted"))
	}
	for i := range 2 {
		exit, _ := h.waitExited(i, 0)
		assert.True(t, exit.Stopped)
		assert.Equal(t, "interrupted", exit.Message)
	}
	require.NoError(t, h.d.Close())
	<-h.closed

	h.jobStopped(0)
	h.jobMissing(1)
	assert.Equal(t, 1, f.count(http.MethodPut, "/v1/jobs"), "the registration in flight was the last")
}

func TestCloseEndsQueuedAndInFlightSubmissions(t *testing.T) {
	h, f := heldAndQueued(t)

	closed := make(chan error)
	go func() { closed <- h.d.Close() }()
	// The queued one ends while the other's registration is still held.
	queued, _ := h.waitExited(1, 0)
	f.open()
	require.NoError(t, <-closed)
	<-h.closed
	inFlight, _ := h.waitExited(0, 0)

	for _, exit := range []driver.Event{queued, inFlight} {
		assert.True(t, exit.Stopped)
		assert.Equal(t, closeReason, exit.Message)
	}
	h.jobStopped(0)
	h.jobMissing(1)
}

func TestARegistrationNomadRefusesEndsTheAttemptAsNotStarted(t *testing.T) {
	f := newFront(nil)
	h := setupSim(t, shortTrials(1, "1m"), harnessOptions{front: f, driver: Options{Backoff: Backoff{Initial: time.Millisecond, Retries: 1}}})
	// The cluster's speed is read, and the job planned, before Nomad
	// refuses the registration and everything after it.
	f.gate = func(r *http.Request) bool {
		if isRegister(r) {
			h.sim.SetFailureRate(1, http.StatusForbidden)
		}
		return false
	}

	h.start(0, 0)
	exit, evs := h.waitExited(0, 0)

	h.sim.SetFailureRate(0, 0)
	assert.Equal(t, []driver.EventKind{driver.EventExited}, kinds(evs))
	assert.True(t, exit.Failed)
	assert.False(t, exit.Stopped || exit.Unplaced || exit.NeverRuns)
	assert.Equal(t, -1, exit.ExitCode)
	assert.Contains(t, exit.Message, "could not start: trial "+h.trials[0].ID+" attempt 0: registering job "+h.jobID(0)+": ")
	h.jobMissing(0)
}

func TestAnUnplannedSingleAllocationIsRolledBackOnceNomadSaysItCannotPlaceIt(t *testing.T) {
	f := newFront(nil)
	h := setupSim(t, pinnedTrial("pack", "wait", 1, 8), harnessOptions{front: f, sim: nomadsim.Options{Nodes: []nomadsim.NodeSpec{gpuNodes}}})
	ids := h.nodeIDs()
	// The first attempt is planned, which makes the trial's kind known to
	// be placeable.
	h.startOn(ids[0])
	h.waitRunning(0, 0)
	require.NoError(t, h.d.Stop(context.Background(), h.trials[0].ID, 0, "next"))
	h.waitExited(0, 0)
	// The next is pinned where the snapshot was wrong: the node is half
	// taken by someone else.
	h.holdGPUs("other", ids[1], 4)
	require.NoError(t, h.d.Start(context.Background(), driver.StartRequest{Experiment: h.exp, Trial: h.trials[0], Attempt: 1,
		Assignment: &planner.Assignment{Allocs: []planner.AllocAssignment{{Group: "rank", NodeID: ids[1]}}}}))

	exit, evs := h.waitExited(0, 1)

	assert.Equal(t, []driver.EventKind{driver.EventExited}, kinds(evs))
	assert.True(t, exit.Unplaced)
	assert.Equal(t, "placed 0 of 1 allocation in 1s", exit.Message)
	assert.Equal(t, 1, f.count(http.MethodPut, "/v1/job/"+h.jobID(0)+"/plan"), "the second attempt was registered without a dry run")
	h.jobMissing(0)
}
