//go:build unix

package test

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	nomaddrv "github.com/nomad-tune/tune/driver/nomad"
)

func TestNomadASecondApplyOfARunningExperimentExitsAtOnceNamingTheHolder(t *testing.T) {
	w := newNomadWorkspace(t)
	w.needs(t, clusterNeeds{drivers: []string{"mock_driver"}})
	w.write(t, "exp.hcl", reportingExperiment(w.name, 2, "10m"))
	first := w.startNomad(t)
	lease := w.client(t).Variables()
	path := nomaddrv.LeasePath(w.name)
	var held *api.Variable
	ok := assert.Eventually(t, func() bool {
		v, _, err := lease.Peek(path, nil)
		held = v
		return err == nil && v != nil && len(w.jobsOf(t)) > 0
	}, 60*time.Second, 20*time.Millisecond, "the first apply holds the lease and runs trials")
	if !ok {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", first.stdout.String(), first.stderr.String())
	}
	assert.Equal(t, strconv.Itoa(first.cmd.Process.Pid), held.Items["pid"])

	other := filepath.Join(w.dir, "elsewhere")
	r := w.apply(t, "-results", other)
	assert.Equal(t, 4, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	host, err := os.Hostname()
	require.NoError(t, err)
	for _, want := range []string{"driven by another tune apply", "pid " + strconv.Itoa(first.cmd.Process.Pid), host, filepath.Join(w.results, w.name), path} {
		assert.Contains(t, r.stderr, want)
	}
	_, err = os.Stat(other)
	assert.True(t, os.IsNotExist(err), "the refused apply writes no results")

	r = w.tune(t, "status", w.name)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Driven by tune apply: pid "+strconv.Itoa(first.cmd.Process.Pid)+" on "+host)

	require.NoError(t, first.cmd.Process.Signal(syscall.SIGINT))
	assert.Equal(t, 130, first.wait(t, 60*time.Second), "stderr:\n%s", first.stderr.String())
	v, _, err := lease.Peek(path, nil)
	require.NoError(t, err)
	assert.Nil(t, v, "a clean exit releases the lease")
	r = w.tune(t, "status", w.name)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "No tune apply drives it now.")
}
