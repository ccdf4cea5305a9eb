package nomadsim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFaults(t *testing.T) {
	t.Run("requests fail at the injected rate with the injected status and change nothing", func(t *testing.T) {
		_, c := startSim(t, Options{})
		srvFaulty, c2 := startSim(t, Options{Faults: Faults{FailureRate: 1, FailureStatus: 503}})
		_, _, err := c2.Jobs().Register(mockJob("x", 1, longRunning), nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "503")
		srvFaulty.SetFailureRate(0, 0)
		_, _, err = c2.Jobs().Info("x", nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "job not found", "the failed write was not applied")
		_, _, err = c.Jobs().List(nil)
		require.NoError(t, err)
	})

	t.Run("about the injected fraction of requests fails", func(t *testing.T) {
		srv, c := startSim(t, Options{})
		srv.SetFailureRate(0.3, 0)
		failed := 0
		for i := 0; i < 200; i++ {
			if _, _, err := c.Jobs().List(nil); err != nil {
				assert.Contains(t, err.Error(), "500")
				failed++
			}
		}
		assert.InDelta(t, 60, failed, 30)
	})

	t.Run("a write whose answer is lost is applied, and enforce-index registration makes the retry safe", func(t *testing.T) {
		srv, c := startSim(t, Options{})
		srv.SetLostWriteRate(1)
		_, _, err := c.Jobs().EnforceRegister(mockJob("lost", 1, longRunning), 0, nil)
		require.Error(t, err)
		srv.SetLostWriteRate(0)
		_, _, err = c.Jobs().EnforceRegister(mockJob("lost", 1, longRunning), 0, nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "job already exists")
		waitIdle(t, srv)
		assert.Len(t, jobAllocs(t, c, "lost"), 1)
	})

	t.Run("injected latency delays every answer", func(t *testing.T) {
		srv, c := startSim(t, Options{})
		srv.SetLatency(80 * time.Millisecond)
		start := time.Now()
		_, _, err := c.Jobs().List(nil)
		require.NoError(t, err)
		assert.GreaterOrEqual(t, time.Since(start), 80*time.Millisecond)
	})
}
