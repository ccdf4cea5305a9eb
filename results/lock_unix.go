//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris

package results

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// folderLock is an flock on the lock file. flock locks belong to the open
// file description, so the kernel drops it when the process dies: a crash
// never leaves a stale lock behind.
type folderLock struct{ f *os.File }

func acquireLock(d *folder) (*folderLock, error) {
	dir := d.Path()
	f, err := d.open(lockName, os.O_RDWR|os.O_CREATE)
	if err != nil {
		return nil, fmt.Errorf("locking results folder %s: %w", dir, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) || errors.Is(err, unix.EAGAIN) {
			return nil, inUse(dir, f)
		}
		return nil, fmt.Errorf("locking results folder %s: %w", dir, err)
	}
	writePID(f)
	return &folderLock{f: f}, nil
}

func (l *folderLock) release() error {
	// Closing the descriptor releases the flock.
	return l.f.Close()
}

// lockHeld probes the lock with a shared lock it drops at once; the probe
// is never held long enough to matter to a tune apply starting then.
func lockHeld(path string) bool {
	f, err := openNoFollow(path, os.O_RDONLY)
	if err != nil {
		return false
	}
	defer f.Close()
	err = unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB)
	if err != nil {
		return errors.Is(err, unix.EWOULDBLOCK) || errors.Is(err, unix.EAGAIN)
	}
	_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
	return false
}
