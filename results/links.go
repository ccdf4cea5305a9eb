package results

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Links in a results folder are never followed: whoever can write there
// could otherwise make tune truncate or overwrite a file elsewhere (.lock
// pointing at a victim file, a trial's folder pointing at another
// folder). Files are opened with O_NOFOLLOW where the system has it, new
// files are created exclusively and renamed into place (a rename replaces
// a link, it does not write through it), and folders are checked with
// Lstat before anything is written in them. A link found is refused with
// an error that names it; tune never removes what it did not make.

// LinkError says tune refused to write through a symbolic link.
type LinkError struct{ Path string }

func (e *LinkError) Error() string {
	return fmt.Sprintf("%s is a symbolic link; tune does not write through links in a results folder: remove it", e.Path)
}

// realDir makes dir when it does not exist (0777: the umask decides) and
// checks that it is a folder, not a link to one.
func realDir(dir string) error {
	err := os.Mkdir(dir, 0o777)
	if err == nil || !errors.Is(err, fs.ErrExist) {
		return err
	}
	return checkRealDir(dir)
}

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
