//go:build unix

package nomadsim

import (
	"errors"
	"os/exec"
	"strings"
	"syscall"
)

// setProcessGroup makes the task's process lead a group of its own, so a
// kill reaches everything it started, as Nomad's executor kills the whole
// task.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

var signals = map[string]syscall.Signal{
	"SIGINT": syscall.SIGINT, "SIGTERM": syscall.SIGTERM, "SIGKILL": syscall.SIGKILL,
	"SIGHUP": syscall.SIGHUP, "SIGQUIT": syscall.SIGQUIT, "SIGUSR1": syscall.SIGUSR1, "SIGUSR2": syscall.SIGUSR2,
}

// signalGroup sends a task's kill_signal (raw_exec's default is SIGINT)
// to its process group; a group that is gone is not an error.
func signalGroup(cmd *exec.Cmd, name string) {
	if cmd.Process == nil {
		return
	}
	sig, ok := signals[strings.ToUpper(name)]
	if !ok {
		sig = syscall.SIGINT
	}
	syscall.Kill(-cmd.Process.Pid, sig)
}

// exitFromWait reads a process's end as Nomad's executor does: a process
// ended by a signal exits with 128+signal.
func exitFromWait(err error) *exitResult {
	res := &exitResult{}
	if err == nil {
		return res
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		res.code, res.err = 1, err
		return res
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok {
		res.code = ws.ExitStatus()
		if ws.Signaled() {
			res.signal = int(ws.Signal())
			res.code = 128 + res.signal
		}
		return res
	}
	res.code = ee.ExitCode()
	return res
}
