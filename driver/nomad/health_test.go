package nomad

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/clock"
	"github.com/nomad-tune/tune/driver"
)

func TestAnOutageIsToldOnceAndSoIsItsEnd(t *testing.T) {
	notices := make(chan string, 16)
	h := setupSim(t, mockTrial(`      run_for = "100ms"`, ""), harnessOptions{driver: Options{
		Notify:  func(msg string) { notices <- msg },
		Backoff: Backoff{Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond, Retries: 1000},
	}})
	h.sim.SetFailureRate(1, 503)

	started := make(chan error, 1)
	go func() {
		started <- h.d.Start(context.Background(), driver.StartRequest{Experiment: h.exp, Trial: h.trials[0], Attempt: 0})
	}()
	select {
	case msg := <-notices:
		assert.Regexp(t, `^Nomad unreachable since \d\d:\d\d:\d\d \(it answered 503 Service Unavailable\); retrying$`, msg)
	case <-time.After(waitLimit):
		t.Fatal("the outage was not told")
	}
	h.sim.SetFailureRate(0, 0)
	select {
	case msg := <-notices:
		assert.Regexp(t, `^Nomad reachable again \(unreachable for \d+s\)$`, msg)
	case <-time.After(waitLimit):
		t.Fatal("the recovery was not told")
	}
	require.NoError(t, <-started, "the start outlived the outage")
	exit, _ := h.waitExited(0, 0)
	assert.False(t, exit.Failed, exit.Message)
	assert.Empty(t, notices, "one line for the outage, one for its end")
}

func TestHealthNeedsTwoFailuresInARowToCallNomadUnreachable(t *testing.T) {
	start := time.Date(2026, 5, 1, 12, 3, 0, 0, time.UTC)
	c := clock.NewManual(start)
	var told []string
	h := &health{clock: c, notify: func(msg string) { told = append(told, msg) }}
	refused := fmt.Errorf("dial: %w", syscall.ECONNREFUSED)

	h.failed(refused)
	h.answered()
	assert.Empty(t, told, "a blip that its retry hid")

	h.failed(refused)
	c.Advance(40 * time.Second)
	h.failed(refused)
	h.failed(errors.New("later"))
	c.Advance(20 * time.Second)
	h.answered()
	h.answered()
	assert.Equal(t, []string{
		"Nomad unreachable since 12:03:00 (connection refused); retrying",
		"Nomad reachable again (unreachable for 1m0s)",
	}, told)
}

func TestShortCausesNameWhatFailed(t *testing.T) {
	assert.Equal(t, "connection refused", shortCause(fmt.Errorf("x: %w", syscall.ECONNREFUSED)))
	assert.Equal(t, "no answer in time", shortCause(context.DeadlineExceeded))
}
