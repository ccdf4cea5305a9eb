//go:build windows

package results

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/windows"
)

// folderLock is a LockFileEx lock on one byte far past the pid the file
// holds: Windows locks are mandatory, and locking the pid itself would
// keep another process from reading who holds the folder.
type folderLock struct{ f *os.File }

const lockOffsetHigh = 1 // the byte at 4 GiB

func acquireLock(d *folder) (*folderLock, error) {
	dir := d.Path()
	f, err := d.open(lockName, os.O_RDWR|os.O_CREATE)
	if err != nil {
		return nil, fmt.Errorf("locking results folder %s: %w", dir, err)
	}
	ol := &windows.Overlapped{OffsetHigh: lockOffsetHigh}
	err = windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	if err != nil {
		defer f.Close()
		if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
			return nil, inUse(dir, f)
		}
		return nil, fmt.Errorf("locking results folder %s: %w", dir, err)
	}
	writePID(f)
	return &folderLock{f: f}, nil
}

func (l *folderLock) release() error {
	ol := &windows.Overlapped{OffsetHigh: lockOffsetHigh}
	_ = windows.UnlockFileEx(windows.Handle(l.f.Fd()), 0, 1, 0, ol)
	return l.f.Close()
}

// lockHeld probes the lock with a lock it drops at once.
func lockHeld(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	ol := &windows.Overlapped{OffsetHigh: lockOffsetHigh}
	err = windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	if err != nil {
		return errors.Is(err, windows.ERROR_LOCK_VIOLATION)
	}
	_ = windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, ol)
	return false
}
