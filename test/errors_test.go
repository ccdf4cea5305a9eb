//go:build unix

package test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAnErroredTrialSaysWhyAndACommandThatCannotRunIsNotRetried(t *testing.T) {
	w := newWorkspace(t)
	// A Python-like traceback, coloured as some loggers do: the error must
	// end with its last lines, without the escape sequences.
	w.write(t, "trial.sh", `case "$1" in
broken)
  echo 'Traceback (most recent call last):' >&2
  echo '  File "train.py", line 3, in <module>' >&2
  printf '\033[31mValueError: lr must be positive\033[0m\n' >&2
  echo >&2
  exit 1 ;;
missing)
  exec no-such-command-anywhere ;;
esac
`)
	w.write(t, "exp.hcl", `experiment "why" {
  space {
    kind = grid(["broken", "missing", "unexecutable"])
  }
  resources {
    memory = 64
  }
  task "train" {
    command = trial.kind == "unexecutable" ? "./no-such-script.sh" : "sh"
    args    = ["trial.sh", trial.kind]
  }
  failure {
    max_failures = 2
  }
}
`)
	r := w.apply(t, "-local-cpus", "1", "-local-memory", "64GiB")
	assert.Equal(t, 1, r.code, "trials ended in error\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	assert.NotContains(t, r.stdout, "\x1b", "no escape sequence of a trial reaches the terminal")
	assert.Contains(t, r.stdout, "exited with status 1: Traceback (most recent call last): | File \"train.py\", line 3, in <module> | ValueError: lr must be positive), retrying (1 of 2)",
		"the progress line of a failure ends with the last lines of stderr")

	res := w.resultsOf(t, "why")
	require.Len(t, res.Trials, 3)
	byKind := map[string]trialRecord{}
	for _, rec := range res.Trials {
		byKind[rec.Params["kind"].(string)] = rec
	}
	broken, missing, unexecutable := byKind["broken"], byKind["missing"], byKind["unexecutable"]
	assert.Equal(t, 3, broken.Attempts, "an ordinary failure is retried max_failures times")
	assert.True(t, strings.HasSuffix(broken.Error, "ValueError: lr must be positive"), broken.Error)
	for _, rec := range []trialRecord{missing, unexecutable} {
		assert.Equal(t, "ERROR", rec.Status)
		assert.Equal(t, 1, rec.Attempts, "a command that cannot run is not retried: %+v", rec)
	}
	assert.Contains(t, missing.Error, "exited with status 127")
	assert.Contains(t, missing.Error, "no-such-command-anywhere", "the shell's complaint ends the error")
	assert.Contains(t, unexecutable.Error, "no-such-script.sh")
	assert.Contains(t, r.stdout, "not retried: exit status 127 means a command was not found")
	assert.Contains(t, r.stdout, "not retried: the command cannot be executed")

	// The final summary and tune results name the cause.
	for _, out := range []string{r.stdout, tune(t, w.dir, "results", "why", "-results", w.results).stdout} {
		assert.Contains(t, out, broken.ID+" (3 attempts): task train exited with status 1: Traceback")
		assert.Contains(t, out, "ValueError: lr must be positive")
	}

	// error.txt, as Ray Tune writes it, has the exit status and the tail.
	errTxt := w.trialLog(t, "why", broken.ID, "error.txt")
	assert.Contains(t, errTxt, "attempt 2")
	assert.Contains(t, errTxt, "Exit status: 1\n")
	assert.Contains(t, errTxt, "\n  Traceback (most recent call last):\n")
	assert.Contains(t, errTxt, "\n  ValueError: lr must be positive\n")
	assert.NotContains(t, errTxt, "\x1b")
	assert.FileExists(t, filepath.Join(w.results, "why", missing.ID, "error.txt"))
}

func TestStatusSaysAnExperimentWhoseTuneWasKilledIsInterrupted(t *testing.T) {
	w := newWorkspace(t)
	w.write(t, "exp.hcl", `experiment "killed" {
  task "t" {
    command = "sh"
    args    = ["-c", "echo started >> started; exec sleep 60"]
  }
}
`)
	bg := w.start(t, "-local-cpus", "1")
	require.Eventually(t, func() bool { return len(w.logLines(t, "started")) == 1 }, 10*time.Second, 10*time.Millisecond, "the trial started")
	status := tune(t, w.dir, "status", "killed", "-results", w.results)
	require.Equal(t, 0, status.code, status.stderr)
	assert.Contains(t, status.stdout, `Experiment "killed" (`+w.results+`): running; `)

	require.NoError(t, bg.cmd.Process.Kill())
	bg.wait(t, 10*time.Second)
	status = tune(t, w.dir, "status", "killed", "-results", w.results)
	require.Equal(t, 0, status.code, status.stderr)
	assert.Contains(t, status.stdout, fmt.Sprintf("interrupted: tune is no longer running (pid %d); tune apply resumes it; 1 trial: 0 running, 1 pending", bg.cmd.Process.Pid))
	res := w.resultsOf(t, "killed")
	assert.Equal(t, "interrupted", res.Summary.Status)
}
