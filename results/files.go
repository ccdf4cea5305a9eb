package results

import (
	"errors"
	"os"
	"sync"
)

// appendFile is a file that grows by whole lines: every line goes in one
// write, and a write that fails halfway is cut back, so the file only ever
// holds whole lines.
type appendFile struct {
	f    *os.File
	size int64
}

func createAppendFile(path string) (appendFile, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return appendFile{}, err
	}
	return appendFile{f: f}, nil
}

func (a *appendFile) write(b []byte) error {
	if a.f == nil {
		return os.ErrClosed
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
	mu  sync.Mutex
	f   *os.File
	buf []byte
	// err is the first write error: WriteLine has no way to return it, so
	// EndAttempt does.
	err error
}

func openLog(path string) (*logWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &logWriter{f: f}, nil
}

// WriteLine appends line and a newline; after the attempt ended it does
// nothing, since a driver may still deliver output while it stops.
func (w *logWriter) WriteLine(line string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return
	}
	w.buf = append(append(w.buf[:0], line...), '\n')
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
	if w.f == nil {
		return nil
	}
	err := errors.Join(w.err, w.f.Close())
	w.f = nil
	return err
}
