package nomad

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/driver"
)

func TestAnInterruptedStopDoesNotWaitForAHungNomad(t *testing.T) {
	h := setupSim(t, mockTrial(`      run_for = "1h"`, ""), harnessOptions{driver: Options{InterruptWait: 100 * time.Millisecond}})
	h.start(0, 0)
	h.waitRunning(0, 0)

	// From now on Nomad takes every request and answers none.
	h.sim.SetLatency(time.Hour)
	h.d.Interrupt()
	require.NoError(t, h.d.Stop(context.Background(), h.trials[0].ID, 0, "interrupted"))
	exit, _ := h.waitExited(0, 0)

	assert.True(t, exit.Stopped)
	assert.False(t, exit.Failed)
	assert.Equal(t, "interrupted (Nomad had not confirmed the stop of job "+h.jobID(0)+
		" within 100ms: it may still run; tune apply resumes it, tune stop stops it)", exit.Message)

	h.sim.SetLatency(0)
	job, _, err := h.client.Jobs().Info(h.jobID(0), nil)
	require.NoError(t, err)
	assert.False(t, *job.Stop, "the job was never stopped: a resume adopts it")
}

func TestAnInterruptedStopEndsOnceNomadHasStoppedTheJob(t *testing.T) {
	// The task would take an hour to die after its kill signal; an
	// interrupted run does not wait for it.
	h := setupSim(t, mockTrial(`      run_for = "1h"
      kill_after = "1h"`, ""), harnessOptions{driver: Options{InterruptWait: time.Hour}})
	h.start(0, 0)
	h.waitRunning(0, 0)

	h.d.Interrupt()
	require.NoError(t, h.d.Stop(context.Background(), h.trials[0].ID, 0, "interrupted"))
	exit, _ := h.waitExited(0, 0)

	assert.Equal(t, driver.Event{Kind: driver.EventExited, TrialID: h.trials[0].ID, Stopped: true, ExitCode: -1, Message: "interrupted", Time: exit.Time}, exit)
	job, _, err := h.client.Jobs().Info(h.jobID(0), nil)
	require.NoError(t, err)
	assert.True(t, *job.Stop, "the job is stopped in Nomad")
}
