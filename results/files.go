package results

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"sync"
)

// appendFile is a file that grows by whole lines: every line goes in one
// write, and a write that fails halfway is cut back, so the file only ever
// holds whole lines.
type appendFile struct {
	name string
	// folder makes the folder, the first time, and returns it.
	folder func() (*folder, error)
	f      *os.File
	size   int64
	closed bool
}

// write appends b, creating the file (empty) on the first write.
func (a *appendFile) write(b []byte) error {
	if a.closed {
		return os.ErrClosed
	}
	if a.f == nil {
		d, err := a.folder()
		if err != nil {
			return err
		}
		f, err := d.open(a.name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
		if err != nil {
			return err
		}
		a.f = f
	}
	n, err := a.f.Write(b)
	if err != nil {
		if n > 0 {
			// Disk full or similar: drop the partial line so readers never
			// see it, and write the next one where this one began.
			_ = a.f.Truncate(a.size)
			_, _ = a.f.Seek(a.size, 0)
		}
		return err
	}
	a.size += int64(n)
	return nil
}

func (a *appendFile) close() error {
	a.closed = true
	if a.f == nil {
		return nil
	}
	err := a.f.Close()
	a.f = nil
	return err
}

// logWriter appends a trial's output lines to its log. Each line is one
// write, so a crash leaves whole lines, and the mutex keeps lines whole
// when several goroutines write.
type logWriter struct {
	mu sync.Mutex
	// name is opened in the folder, and header written, at the first
	// line: a trial that prints nothing costs no file.
	name   string
	header string
	folder func() (*folder, error)
	f      *os.File
	closed bool
	buf    []byte
	// err is the first write error: WriteLine has no way to return it, so
	// EndAttempt does.
	err error
	// tail keeps the last lines, when the Store wants them (stderr).
	tail *tail
}

func newLog(name, header string, folder func() (*folder, error)) *logWriter {
	return &logWriter{name: name, header: header, folder: folder}
}

// WriteLine appends line and a newline; after the attempt ended it does
// nothing, since a driver may still deliver output while it stops.
func (w *logWriter) WriteLine(line string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	if w.tail != nil {
		w.tail.add(line)
	}
	if w.f == nil {
		d, err := w.folder()
		var f *os.File
		if err == nil {
			f, err = d.open(w.name, os.O_RDWR|os.O_CREATE|os.O_APPEND)
		}
		if err != nil {
			if w.err == nil {
				w.err = err
			}
			return
		}
		w.f = f
		w.buf = w.buf[:0]
		if !endsWithNewline(f) {
			// An earlier tune was killed, or the disk filled, in the
			// middle of a line: end it, so this attempt's header is a
			// line of its own.
			w.buf = append(w.buf, '\n')
		}
		w.buf = append(append(w.buf, w.header...), '\n')
	} else {
		w.buf = w.buf[:0]
	}
	w.buf = append(append(w.buf, line...), '\n')
	if _, err := w.f.Write(w.buf); err != nil && w.err == nil {
		w.err = err
	}
	// A trial that once printed a huge line should not keep its buffer.
	if cap(w.buf) > 1<<20 {
		w.buf = nil
	}
}

func (w *logWriter) close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	if w.f == nil {
		return w.err
	}
	err := errors.Join(w.err, w.f.Close())
	w.f = nil
	return err
}

// lastLines are up to n of the last non-empty lines written, cleaned for a
// terminal; nil when the log keeps none.
func (w *logWriter) lastLines(n int) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.tail == nil {
		return nil
	}
	return w.tail.last(n)
}

// endsWithNewline reports whether f is empty or ends with a newline.
func endsWithNewline(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return true
	}
	var last [1]byte
	if _, err := f.ReadAt(last[:], fi.Size()-1); err != nil {
		return true
	}
	return last[0] == '\n'
}

// dropPartialLine cuts a file that grows by lines back to its last whole
// line: what a tune killed in the middle of a write, or a full disk, left
// after it is no line at all, and readers (pandas, json) would fail on it.
func dropPartialLine(d *folder, name string) error {
	f, err := d.open(name, os.O_RDWR)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if endsWithNewline(f) {
		return nil
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	return f.Truncate(int64(bytes.LastIndexByte(b, '\n') + 1))
}

// readNoFollow reads a whole file, refusing a symbolic link.
func readNoFollow(path string) ([]byte, error) {
	f, err := openNoFollow(path, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}
