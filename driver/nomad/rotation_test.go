package nomad

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/clock"
	"github.com/nomad-tune/tune/test/nomadsim"
)

func TestOutputPastTheLogRotationIsReadOnce(t *testing.T) {
	// 110,001 lines of 100 bytes: 11 MB, past the first of Nomad's 10 MiB
	// log files. The task writes them all at once and keeps running on
	// the simulator's clock until the test moves it.
	line := "step " + strings.Repeat("x", 94)
	const repeats = 110_000
	clk := clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	h := setupSim(t, mockTrial(`      run_for                = "1h"
      stdout_string          = "`+line+`\n"
      stdout_repeat          = `+itoa(repeats)+`
      stdout_repeat_duration = "0s"`, ""), harnessOptions{sim: nomadsim.Options{Clock: clk}})

	stdout, _ := h.start(0, 0)
	h.waitRunning(0, 0)
	// The driver has followed the log past the rotation ...
	require.Eventually(t, func() bool { return len(stdout.all()) >= repeats+1 }, waitLimit, time.Millisecond,
		"the followed log reaches its end")
	// ... when the task ends, and the rest is read from the offset reached.
	require.NoError(t, clk.WaitForWaiters(t.Context(), 1))
	clk.Advance(time.Hour)
	exit, _ := h.waitExited(0, 0)

	assert.False(t, exit.Failed, exit.Message)
	lines := stdout.all()
	assert.Len(t, lines, repeats+1, "no line is read twice")
	for i, l := range lines {
		if l != line {
			t.Fatalf("line %d is %q", i, l)
		}
	}
}
