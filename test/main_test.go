package test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// tuneBin is the binary under test, built once for the package.
var tuneBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tune-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tuneBin = filepath.Join(dir, "tune")
	if runtime.GOOS == "windows" {
		tuneBin += ".exe"
	}
	build := exec.Command("go", "build", "-o", tuneBin, "../cmd/tune")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building tune:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is one run of the binary.
type result struct {
	code   int
	stdout string
	stderr string
}

// tuneTimeout bounds one run of the binary: no test waits for ever on a
// tune that hangs, and the failure says which run it was.
const tuneTimeout = 5 * time.Minute

// tune runs the binary with args in dir (the repository root when empty).
func tune(t *testing.T, dir string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), tuneTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, tuneBin, args...)
	if dir == "" {
		dir = ".."
	}
	cmd.Dir = dir
	cmd.Env = localEnv()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("tune %v did not exit within %s\nstdout:\n%s\nstderr:\n%s", args, tuneTimeout, out.String(), errOut.String())
	}
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("running tune %v: %v", args, err)
	}
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// localEnv is this process's environment without NOMAD_ADDR, for the
// tests of the local target: with a cluster configured, tune would target
// it instead.
func localEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NOMAD_ADDR=") {
			env = append(env, kv)
		}
	}
	return append(env, "NO_COLOR=1")
}

// writeFile writes an experiment file into a fresh folder and returns its
// path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
