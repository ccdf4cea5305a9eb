package results

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// tempMarker is in the name of every temporary file, so one left behind
// by a crash can be recognised and removed.
const tempMarker = ".tmp-"

// writeFileAtomic replaces path with data so that a reader, or tune after
// a crash of its own, sees either the old file or the whole new one. The
// temporary file is in the same folder because rename is only atomic
// within one file system.
//
// durable adds an fsync before the rename, so that a power loss cannot
// leave an empty file under the final name either. Per-trial files skip
// it: it costs more than the rest of starting a trial, and a trial file
// lost to a power cut is read as absent, so the trial runs again rather
// than being misreported.
func writeFileAtomic(path string, data []byte, durable bool) (err error) {
	f, tmp, err := createTemp(path)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if durable {
		if err = f.Sync(); err != nil {
			return err
		}
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// createTemp creates a new temporary file beside path, exclusively (so
// never through a link), with 0666 for the umask to restrict as it does
// for every file the user makes.
func createTemp(path string) (*os.File, string, error) {
	dir, base := filepath.Split(path)
	var buf [8]byte
	for range 100 {
		_, _ = rand.Read(buf[:])
		tmp := filepath.Join(dir, "."+base+tempMarker+hex.EncodeToString(buf[:]))
		f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL|noFollow, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, tmp, err
	}
	return nil, "", fmt.Errorf("cannot create a temporary file beside %s", path)
}

// isTempName reports whether name is one of writeFileAtomic's temporary
// files.
func isTempName(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, tempMarker)
}

// removeTemps deletes the temporary files a crash left in dir, so that
// they do not pile up over resumes.
func removeTemps(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() && isTempName(e.Name()) {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
