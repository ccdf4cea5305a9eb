//go:build unix

package results

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// openFolder opens the folder at path, which must not be a link.
func openFolder(path string) (*folder, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		if isLink(unix.AT_FDCWD, path) {
			return nil, &LinkError{Path: path}
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return &folder{path: path, dir: os.NewFile(uintptr(fd), path)}, nil
}

func (d *folder) fd() int { return int(d.dir.Fd()) }

func (d *folder) sub(name string, create bool) (*folder, bool, error) {
	made := false
	if create {
		err := unix.Mkdirat(d.fd(), name, 0o777)
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return nil, false, &os.PathError{Op: "mkdir", Path: d.join(name), Err: err}
		}
		made = err == nil
	}
	fd, err := unix.Openat(d.fd(), name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		if isLink(d.fd(), name) {
			return nil, false, &LinkError{Path: d.join(name)}
		}
		return nil, false, &os.PathError{Op: "open", Path: d.join(name), Err: err}
	}
	return &folder{path: d.join(name), dir: os.NewFile(uintptr(fd), d.join(name))}, made, nil
}

// open opens the file name of d without following a link; a new file
// gets 0666 and the umask decides.
func (d *folder) open(name string, flag int) (*os.File, error) {
	fd, err := unix.Openat(d.fd(), name, flag|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o666)
	if err != nil {
		if isLink(d.fd(), name) {
			return nil, &LinkError{Path: d.join(name)}
		}
		return nil, &os.PathError{Op: "open", Path: d.join(name), Err: err}
	}
	return os.NewFile(uintptr(fd), d.join(name)), nil
}

func (d *folder) remove(name string) error {
	if err := unix.Unlinkat(d.fd(), name, 0); err != nil {
		return &os.PathError{Op: "remove", Path: d.join(name), Err: err}
	}
	return nil
}

func (d *folder) rename(from, to string) error {
	if err := unix.Renameat(d.fd(), from, d.fd(), to); err != nil {
		return &os.LinkError{Op: "rename", Old: d.join(from), New: d.join(to), Err: err}
	}
	return nil
}

// names lists the folder's entries.
func (d *folder) names() ([]string, error) {
	// A fresh descriptor: reading one moves its offset.
	fd, err := unix.Openat(d.fd(), ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: d.path, Err: err}
	}
	f := os.NewFile(uintptr(fd), d.path)
	defer f.Close()
	return f.Readdirnames(-1)
}

func (d *folder) close() error { return d.dir.Close() }

// isLink reports whether name, relative to dirfd, is a symbolic link.
func isLink(dirfd int, name string) bool {
	var st unix.Stat_t
	return unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK
}
