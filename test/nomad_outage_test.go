//go:build unix

package test

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is output the test reads while tune still writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitOutput waits until out holds want, or fails the test.
func waitOutput(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), want) }, 60*time.Second, 10*time.Millisecond,
		"no %q in:\n%s", want, out.String())
}

func TestNomadAnOutageDuringARunIsOneLineAndItsEndAnother(t *testing.T) {
	w := newNomadWorkspace(t)
	sim := w.ownCluster(t) // it is made to fail
	release := filepath.Join(w.dir, "release")
	w.write(t, "exp.hcl", heldExperiment(w.name, 1, 1, 0, release))

	cmd := exec.Command(tuneBin, w.applyArgs("-address", w.addr)...)
	cmd.Dir, cmd.Env = w.dir, localEnv()
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	waitOutput(t, &stdout, "started")
	sim.SetFailureRate(1, 503)
	waitOutput(t, &stderr, "Nomad unreachable since")
	sim.SetFailureRate(0, 0)
	waitOutput(t, &stderr, "Nomad reachable again")
	w.write(t, "release", "")
	select {
	case err := <-exited:
		assert.NoError(t, err, "stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("tune apply did not end\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
	assert.Equal(t, 1, strings.Count(stderr.String(), "Nomad unreachable since"), stderr.String())
	assert.Regexp(t, `tune: Nomad unreachable since \d\d:\d\d:\d\d \(it answered 503 Service Unavailable\); retrying`, stderr.String())
	assert.NotContains(t, stderr.String(), "[WARN]", "the outage is told once, not logged per retry")
}
