package results

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// lockName is the file the lock is taken on. It stays after Close: removing
// it would let a process that opened it just before block on a file that
// nobody else can find any more.
const lockName = ".lock"

// InUseError is Open's error when another process holds the experiment's
// folder.
type InUseError struct {
	Dir string
	// PID is the holder's process id, 0 when it could not be read.
	PID int
}

func (e *InUseError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("results folder %s is in use by another tune process (pid %d)", e.Dir, e.PID)
	}
	return fmt.Sprintf("results folder %s is in use by another tune process", e.Dir)
}

func inUse(dir string, f *os.File) error {
	pid := 0
	if b, err := os.ReadFile(f.Name()); err == nil {
		pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	return &InUseError{Dir: dir, PID: pid}
}

// writePID records the holder in the lock file, for the message another
// process prints.
func writePID(f *os.File) {
	if err := f.Truncate(0); err != nil {
		return
	}
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
}

func lockPath(dir string) string { return filepath.Join(dir, lockName) }

// Holder says whether a tune process holds the folder of experiment name
// under root now, and the pid the lock file names: the holder's, or the
// last holder's when none holds it. A summary that says "running" while
// nobody holds the folder was left by a tune that was killed. Where the
// system cannot tell, held is true.
func Holder(root, name string) (held bool, pid int) {
	if checkName("experiment name", name) != nil {
		return false, 0
	}
	path := lockPath(filepath.Join(root, name))
	if b, err := readNoFollow(path); err == nil {
		pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	return lockHeld(path), pid
}
