package results

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// folder is a folder of an experiment's results, opened once. What is
// made, written and removed in it is reached relative to it and never
// through a symbolic link: where the system allows (folder_unix.go), with
// openat and O_NOFOLLOW on the open folder itself, so that even replacing
// the folder's path with a link while tune runs redirects nothing.
type folder struct {
	path string
	dir  *os.File
}

// Path is where the folder was opened, for messages.
func (d *folder) Path() string { return d.path }

// join is the path of name in the folder, for messages.
func (d *folder) join(name string) string { return filepath.Join(d.path, name) }

// openExisting opens the folder name of d; fs.ErrNotExist when there is
// none.
func (d *folder) openExisting(name string) (*folder, error) {
	f, _, err := d.sub(name, false)
	return f, err
}

// make opens the folder name of d, making it (0777: the umask decides)
// when it does not exist; made says it did.
func (d *folder) make(name string) (f *folder, made bool, err error) {
	return d.sub(name, true)
}

// removeTemps deletes the temporary files a crash left in d, so that they
// do not pile up over resumes.
func removeTemps(d *folder) {
	names, err := d.names()
	if err != nil {
		return
	}
	for _, n := range names {
		if isTempName(n) {
			_ = d.remove(n)
		}
	}
}

// removeIfThere removes name from d; a missing file is no error.
func removeIfThere(d *folder, name string) error {
	if err := d.remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
