package test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestTrialsDieWithATuneThatIsKilled(t *testing.T) {
	w := newWorkspace(t)
	// The trial prints nothing, so nothing but the parent-death signal
	// can end it before its 60 seconds.
	w.write(t, "exp.hcl", `experiment "orphans" {
  num_samples = 2
  task "t" {
    command = "sh"
    args    = ["-c", "echo $$ >> pids; exec sleep 60"]
  }
}
`)
	first := w.start(t, "-local-cpus", "2")
	var pids []int
	require.Eventually(t, func() bool {
		pids = pids[:0]
		for _, line := range w.logLines(t, "pids") {
			if pid, err := strconv.Atoi(strings.TrimSpace(line)); err == nil {
				pids = append(pids, pid)
			}
		}
		return len(pids) == 2
	}, 10*time.Second, 10*time.Millisecond, "both trials started")
	require.NoError(t, first.cmd.Process.Kill())
	first.wait(t, 10*time.Second)
	require.Eventually(t, func() bool { return allGone(pids) }, 5*time.Second, 10*time.Millisecond,
		"the trials of a killed tune do not run on unseen")
}
