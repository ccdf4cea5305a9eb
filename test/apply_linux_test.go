package test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// waitForPIDs waits for n process ids in the log "pids" the trials
// append to, and returns them.
func (w *workspace) waitForPIDs(t *testing.T, n int, what string) []int {
	t.Helper()
	var pids []int
	require.Eventually(t, func() bool {
		pids = pids[:0]
		for _, line := range w.logLines(t, "pids") {
			if pid, err := strconv.Atoi(strings.TrimSpace(line)); err == nil {
				pids = append(pids, pid)
			}
		}
		return len(pids) == n
	}, 10*time.Second, 10*time.Millisecond, what)
	return pids
}

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
	pids := w.waitForPIDs(t, 2, "both trials started")
	require.NoError(t, first.cmd.Process.Kill())
	first.wait(t, 10*time.Second)
	require.Eventually(t, func() bool { return allGone(pids) }, 30*time.Second, 10*time.Millisecond,
		"the trials of a killed tune do not run on unseen")
}

func TestATrialBehindAShellDiesWithATuneThatIsKilledAndIsNotRunTwice(t *testing.T) {
	w := newWorkspace(t)
	// The common case: a shell script that starts the trainer as a child
	// (not exec), here a sleep standing for python. The trainer prints
	// nothing, so nothing but tune's death can end it before its time. A
	// resumed attempt checks that the first attempt's trainer is gone.
	w.write(t, "train.sh", `if [ -s trainer.pid ] && kill -0 "$(cat trainer.pid)" 2>/dev/null; then
  echo "the first attempt's trainer still runs" >&2
  exit 1
fi
sleep 60 &
echo $! > trainer.pid
echo $$ >> pids
echo $! >> pids
if [ "$TUNE_ATTEMPT" != 0 ] || [ -e resumed ]; then kill $!; exit 0; fi
wait
`)
	w.write(t, "exp.hcl", `experiment "wrapped" {
  task "t" {
    command = "sh"
    args    = ["train.sh"]
  }
}
`)
	first := w.start(t, "-local-cpus", "1")
	pids := w.waitForPIDs(t, 2, "the shell and its trainer started")
	require.NoError(t, first.cmd.Process.Kill())
	first.wait(t, 10*time.Second)
	require.Eventually(t, func() bool { return allGone(pids) }, 10*time.Second, 10*time.Millisecond,
		"the shell and the trainer it started die with tune")

	w.write(t, "resumed", "")
	r := w.apply(t, "-local-cpus", "1")
	require.Equal(t, 0, r.code, "the resumed trial never saw the first attempt's trainer\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
}
