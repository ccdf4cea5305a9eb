//go:build unix

package test

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/test/nomadsim"
)

// ownCluster points the workspace at a simulated cluster of one node, of
// the test's own whatever NOMAD_ADDR says: the test injects faults into it.
func (w *nomadWorkspace) ownCluster(t *testing.T) *nomadsim.Server {
	t.Helper()
	sim, err := nomadsim.Start(nomadsim.Options{Seed: 3, Nodes: []nomadsim.NodeSpec{{Count: 1, Cores: 4, MemoryMiB: 8192}}})
	require.NoError(t, err)
	t.Cleanup(func() { sim.Close() })
	w.addr = sim.URL()
	return sim
}

func TestNomadCtrlCStopsTuneWhenNomadHangsAndTheRunResumes(t *testing.T) {
	const trials = 2
	w := newNomadWorkspace(t)
	sim := w.ownCluster(t) // it is made to hang
	release := filepath.Join(w.dir, "release")
	w.write(t, "exp.hcl", heldExperiment(w.name, trials, trials, 0, release))

	first := w.startNomad(t)
	w.waitAllRunning(t, first, trials)

	// Nomad now takes every request and answers none; Ctrl-C.
	sim.SetLatency(time.Hour)
	require.NoError(t, first.cmd.Process.Signal(syscall.SIGINT))
	code := first.wait(t, 60*time.Second)
	assert.Equal(t, 130, code, "stdout:\n%s\nstderr:\n%s", first.stdout.String(), first.stderr.String())
	assert.Contains(t, first.stderr.String(), "stopping the running trials")
	assert.Regexp(t, `Nomad did not confirm the stop of (1 trial job|2 trial jobs) in time`, first.stderr.String())
	assert.NotContains(t, first.stderr.String()+first.stdout.String(), "Too Many Requests")
	assert.NotContains(t, first.stderr.String(), "[ERROR]", "an interrupted stop Nomad did not confirm is no error")

	res := w.resultsOf(t, w.name)
	assert.Equal(t, "stopped", res.Summary.Status)
	for _, rec := range res.Trials {
		assert.Equal(t, "PENDING", rec.Status, "an interrupted trial runs again on resume")
	}

	// Nomad answers again: it never heard the stop, and the jobs it kept
	// running are adopted.
	sim.SetLatency(0)
	for id, s := range w.jobStates(t) {
		assert.Equal(t, "running", s, "job %s", id)
	}
	w.write(t, "release", "")
	r := w.apply(t)
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	w.assertRanOnce(t, trials)
}
