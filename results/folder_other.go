//go:build !unix

package results

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Without openat, a folder is its path, checked with Lstat before each
// use; a link swapped in between a check and a write is not caught here.

func openFolder(path string) (*folder, error) {
	if err := checkRealDir(path); err != nil {
		return nil, err
	}
	return &folder{path: path}, nil
}

func (d *folder) sub(name string, create bool) (*folder, bool, error) {
	path := d.join(name)
	made := false
	if create {
		err := os.Mkdir(path, 0o777)
		if err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, false, err
		}
		made = err == nil
	}
	f, err := openFolder(path)
	return f, made, err
}

func (d *folder) open(name string, flag int) (*os.File, error) {
	path := d.join(name)
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return nil, &LinkError{Path: path}
	}
	return os.OpenFile(path, flag, 0o666)
}

func (d *folder) remove(name string) error { return os.Remove(d.join(name)) }

func (d *folder) rename(from, to string) error { return os.Rename(d.join(from), d.join(to)) }

func (d *folder) names() ([]string, error) {
	entries, err := os.ReadDir(d.path)
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names, err
}

func (d *folder) close() error { return nil }

// checkRealDir checks that an existing dir is a folder and not a link.
func checkRealDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return &LinkError{Path: dir}
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	return nil
}
