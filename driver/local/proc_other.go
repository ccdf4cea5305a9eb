//go:build !unix

package local

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
)

// taskCommand runs the task directly: without Unix process groups,
// stopping a task ends only its own process, and nothing ties the task's
// life to tune's.
func taskCommand(path, argv0 string, args []string) (*exec.Cmd, *supervision) {
	cmd := exec.Command(path, args...)
	cmd.Args[0] = argv0
	return cmd, nil
}

// MaybeSupervise does nothing here: there is no supervisor.
func MaybeSupervise() {}

// terminateGroup kills at once: there is no SIGTERM to send first.
func terminateGroup(cmd *exec.Cmd) error { return killGroup(cmd) }

// continueGroup does nothing: a process here cannot be stopped by a
// signal.
func continueGroup(*exec.Cmd) error { return nil }

func killGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	err := cmd.Process.Kill()
	if errors.Is(err, os.ErrProcessDone) {
		return nil
	}
	return err
}

func exitStatus(ps *os.ProcessState) (int, string) {
	code := ps.ExitCode()
	if code == -1 {
		return -1, "was killed"
	}
	return code, fmt.Sprintf("exited with status %d", code)
}
