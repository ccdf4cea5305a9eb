package results

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// tempMarker is in the name of every temporary file, so one left behind
// by a crash can be recognised and removed.
const tempMarker = ".tmp-"

// writeFileAtomic replaces the file name of d with data so that a reader,
// or tune after a crash of its own, sees either the old file or the whole
// new one. The temporary file is in the same folder because rename is
// only atomic within one file system; a rename replaces a link at name
// rather than writing through it.
//
// durable adds an fsync before the rename, so that a power loss cannot
// leave an empty file under the final name either. Per-trial files skip
// it: it costs more than the rest of starting a trial, and a trial file
// lost to a power cut is read as absent, so the trial runs again rather
// than being misreported.
func writeFileAtomic(d *folder, name string, data []byte, durable bool) (err error) {
	f, tmp, err := createTemp(d, name)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = d.remove(tmp)
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
	return d.rename(tmp, name)
}

// createTemp creates a new temporary file beside name, exclusively (so
// never through a link), with 0666 for the umask to restrict as it does
// for every file the user makes.
func createTemp(d *folder, name string) (*os.File, string, error) {
	var buf [8]byte
	for range 100 {
		_, _ = rand.Read(buf[:])
		tmp := "." + name + tempMarker + hex.EncodeToString(buf[:])
		f, err := d.open(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, tmp, err
	}
	return nil, "", fmt.Errorf("cannot create a temporary file beside %s", d.join(name))
}

// isTempName reports whether name is one of writeFileAtomic's temporary
// files.
func isTempName(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, tempMarker)
}
