//go:build unix

package main

import (
	"errors"

	"golang.org/x/sys/unix"
)

// processGone says whether no process of this machine has the pid: a
// signal 0 to it fails with ESRCH. A process of another user answers
// EPERM, which means it is there.
func processGone(pid int) bool {
	if pid <= 0 {
		return false
	}
	return errors.Is(unix.Kill(pid, 0), unix.ESRCH)
}
