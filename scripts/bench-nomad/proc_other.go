//go:build !linux

package main

import "os/exec"

// setParentDeathSignal does nothing where the kernel cannot kill a child
// with its parent; stop still ends it on every ordinary exit.
func setParentDeathSignal(*exec.Cmd) {}
