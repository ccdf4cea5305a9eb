//go:build unix

package local

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// processGroup makes a task the leader of a process group of its own, so
// that signalling the group reaches everything it started (a shell's
// children, a data loader's workers) and nothing of tune's.
func processGroup() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

func terminateGroup(cmd *exec.Cmd) error { return signalGroup(cmd, syscall.SIGTERM) }

func killGroup(cmd *exec.Cmd) error { return signalGroup(cmd, syscall.SIGKILL) }

func continueGroup(cmd *exec.Cmd) error { return signalGroup(cmd, syscall.SIGCONT) }

// signalGroup signals the process group the task leads. A group that is
// gone is not an error. Its ID cannot be taken by a new process while any
// member lives, so a signal sent after the leader was reaped reaches only
// what is left of the task.
func signalGroup(cmd *exec.Cmd, sig syscall.Signal) error {
	if cmd.Process == nil {
		return nil
	}
	err := syscall.Kill(-cmd.Process.Pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// exitStatus is a process's exit code (-1 when a signal ended it) and how
// it ended, in words.
func exitStatus(ps *os.ProcessState) (int, string) {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		name := unix.SignalName(ws.Signal())
		if name == "" {
			name = ws.Signal().String()
		}
		return -1, "was killed by " + name
	}
	code := ps.ExitCode()
	return code, fmt.Sprintf("exited with status %d", code)
}
