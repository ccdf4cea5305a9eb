//go:build unix

package test

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestApplyKeepsRunningWhenTheReaderOfItsOutputGoesAway(t *testing.T) {
	w := newWorkspace(t)
	// The trial reports only after the reader of tune's output is gone,
	// so tune writes to a closed pipe.
	w.write(t, "exp.hcl", `experiment "piped" {
  metric = "loss"
  mode   = "min"
  task "t" {
    command = "sh"
    args    = ["-c", "while [ ! -e go ]; do sleep 0.01; done; echo '@tune {\"loss\": 1}'"]
  }
}
`)
	r, pw, err := os.Pipe()
	require.NoError(t, err)
	cmd := exec.Command(tuneBin, w.applyArgs("-local-cpus", "1")...)
	cmd.Dir, cmd.Env, cmd.Stdout = w.dir, localEnv(), pw
	require.NoError(t, cmd.Start())
	pw.Close()
	// What `| head -2` does: read two lines, then go.
	lines := bufio.NewReader(r)
	for range 2 {
		_, err := lines.ReadString('\n')
		require.NoError(t, err)
	}
	require.NoError(t, r.Close())
	require.NoError(t, os.WriteFile(w.path("go"), nil, 0o644))

	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("tune apply did not end after its trial did")
	}
	require.NoError(t, err, "tune is not killed by SIGPIPE: %v", cmd.ProcessState)

	b, err := os.ReadFile(filepath.Join(w.results, "piped", "experiment.json"))
	require.NoError(t, err)
	var sum struct {
		Status    string `json:"status"`
		BestTrial string `json:"best_trial"`
	}
	require.NoError(t, json.Unmarshal(b, &sum))
	assert.Equal(t, "finished", sum.Status, "experiment.json says how the run ended")
	assert.NotEmpty(t, sum.BestTrial, "the trial's report was recorded")
}

func TestCommandsReadOnlyExperimentsInTheResultsFolder(t *testing.T) {
	w := newWorkspace(t)
	require.NoError(t, os.MkdirAll(filepath.Join(w.dir, "x"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(w.dir, "x", "experiment.json"), []byte(`{"name": "x", "status": "finished"}`), 0o644))
	for _, args := range [][]string{
		{"results", "../x", "-results", w.results},
		{"results", "../x", "-results", w.results, "-csv"},
		{"status", "../x", "-results", w.results},
	} {
		r := tune(t, w.dir, args...)
		assert.Equal(t, 1, r.code, "%v: %s", args, r.stdout)
		assert.Contains(t, r.stderr, `"../x" is not an experiment name`, args)
		assert.Empty(t, r.stdout, args)
	}
}
