//go:build unix && !linux

package local

import "syscall"

// setParentDeathSignal does nothing where the system cannot tie a child's
// life to its parent's; a task there outlives a tune that is killed.
func setParentDeathSignal(*syscall.SysProcAttr) {}
