package local

import "syscall"

// setParentDeathSignal asks Linux to kill the task when the thread that
// started it exits, which for Go's runtime means when tune itself exits:
// the runtime does not end threads that started processes.
func setParentDeathSignal(attr *syscall.SysProcAttr) {
	attr.Pdeathsig = syscall.SIGKILL
}
