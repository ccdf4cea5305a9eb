package results

import (
	"fmt"
	"io/fs"
	"os"
)

// Links in a results folder are never followed: whoever can write there
// could otherwise make tune truncate or overwrite a file elsewhere (.lock
// pointing at a victim file, a trial's folder pointing at another
// folder). The Store opens the experiment's folder once and reaches every
// trial folder and file relative to it (openat, mkdirat, renameat with
// O_NOFOLLOW: see folder), new files are created exclusively and renamed
// into place (a rename replaces a link, it does not write through it),
// and readers open files with O_NOFOLLOW. A link found is refused with an
// error that names it; tune never removes what it did not make.

// LinkError says tune refused to write through a symbolic link.
type LinkError struct{ Path string }

func (e *LinkError) Error() string {
	return fmt.Sprintf("%s is a symbolic link; tune does not write through links in a results folder: remove it", e.Path)
}

// openNoFollow opens path without following a link at its last element;
// new files get 0666 and the umask decides. A link is a *LinkError.
func openNoFollow(path string, flag int) (*os.File, error) {
	if noFollow == 0 {
		if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return nil, &LinkError{Path: path}
		}
	}
	f, err := os.OpenFile(path, flag|noFollow, 0o666)
	if err != nil {
		// Systems differ in the errno of O_NOFOLLOW on a link (ELOOP,
		// EMLINK, EFTYPE): ask the file system instead.
		if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return nil, &LinkError{Path: path}
		}
		return nil, err
	}
	return f, nil
}
