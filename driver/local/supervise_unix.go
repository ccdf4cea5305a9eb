//go:build unix && !linux

package local

import "os/exec"

// taskCommand runs the task directly in a process group of its own. This
// system cannot tie a child's life to its parent's, so a task here
// outlives a tune that is killed (see the package comment).
func taskCommand(path, argv0 string, args []string) (*exec.Cmd, *supervision) {
	cmd := exec.Command(path, args...)
	cmd.Args[0] = argv0
	cmd.SysProcAttr = processGroup()
	return cmd, nil
}

// MaybeSupervise does nothing here: there is no supervisor.
func MaybeSupervise() {}
