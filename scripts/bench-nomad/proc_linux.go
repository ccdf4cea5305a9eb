package main

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal has the kernel kill the child should this process
// die without stopping it.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
