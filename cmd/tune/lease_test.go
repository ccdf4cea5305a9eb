package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/test/nomadsim"
)

// leaseExperiment is one short mock_driver trial.
const leaseExperiment = `experiment "lease" {
  resources {
    cpu    = 0.5
    memory = 64
  }
  task "t" {
    driver = "mock_driver"
    config {
      run_for = "10ms"
    }
  }
}
`

func TestApplyWithoutPermissionForTheLeaseSaysWhatIsMissingAndLockFalseGoesOn(t *testing.T) {
	srv, err := nomadsim.Start(nomadsim.Options{Seed: 1, DenyVariableWrites: true})
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	dir := t.TempDir()
	file := filepath.Join(dir, "exp.hcl")
	require.NoError(t, os.WriteFile(file, []byte(leaseExperiment), 0o644))
	results := filepath.Join(dir, "results")

	apply := func(extra ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		env := &cliEnv{stdout: &stdout, stderr: &stderr, stdin: strings.NewReader(""), getenv: func(string) string { return "" }}
		args := append([]string{"apply", file, "-address", srv.URL(), "-results", results, "-progress", "none"}, extra...)
		return run(env, args), stdout.String(), stderr.String()
	}

	code, _, stderr := apply()
	assert.Equal(t, exitError, code)
	assert.Contains(t, stderr, `variables capabilities read, write and destroy on path "tune/*"`)
	assert.Contains(t, stderr, "tune/lease/lease")
	assert.Contains(t, stderr, "-lock=false")
	_, err = os.Stat(results)
	assert.True(t, os.IsNotExist(err), "nothing was started: no results folder")

	code, stdout, stderr := apply("-lock=false")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.Contains(t, stderr, "running without the experiment's lease")
}

func TestApplyRefusesALeaseTimeToLiveOutsideNomadsBounds(t *testing.T) {
	for _, ttl := range []string{"1s", "25h"} {
		t.Run(ttl, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			env := &cliEnv{stdout: &stdout, stderr: &stderr, stdin: strings.NewReader(""), getenv: func(string) string { return "" }}
			code := run(env, []string{"apply", "-lease-ttl", ttl, "exp.hcl"})
			assert.Equal(t, exitError, code)
			assert.Contains(t, stderr.String(), "-lease-ttl must be between 10s and 24h0m0s; got "+ttl)
		})
	}
}
