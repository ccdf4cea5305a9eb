//go:build !unix

package nomadsim

import (
	"errors"
	"os/exec"
)

// setProcessGroup has nothing to do where process groups do not exist.
func setProcessGroup(cmd *exec.Cmd) {}

// signalGroup can only kill the process outright on this platform.
func signalGroup(cmd *exec.Cmd, name string) {
	if cmd.Process != nil {
		cmd.Process.Kill()
	}
}

func exitFromWait(err error) *exitResult {
	res := &exitResult{}
	if err == nil {
		return res
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		res.code = ee.ExitCode()
		return res
	}
	res.code, res.err = 1, err
	return res
}
