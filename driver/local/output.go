package local

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/nomad-tune/tune/driver"
)

// maxLineBytes is the longest line passed on whole; a longer one is passed
// on in pieces of this size. A @tune line that long is not expected, but a
// progress bar that never prints a newline is, and must not be dropped or
// held in memory without bound. Only the first piece of a line can be a
// report (and, longer than a report may be, it is refused): what follows
// "@tune " after a megabyte of output on the same line is no report.
const maxLineBytes = 1 << 20

// read passes one output stream of a process on line by line, until end of
// file or until the drain deadline after the process exited.
func (a *attempt) read(p *process, f *os.File, stdout bool) {
	defer f.Close()
	r := bufio.NewReaderSize(f, maxLineBytes)
	// start says the next piece read begins a line.
	start := true
	for {
		chunk, err := r.ReadSlice('\n')
		if len(chunk) > 0 {
			line := chunk
			if err == nil {
				line = bytes.TrimSuffix(line[:len(line)-1], []byte("\r"))
			}
			a.line(p, string(line), stdout, start)
		}
		start = !errors.Is(err, bufio.ErrBufferFull)
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF), errors.Is(err, os.ErrDeadlineExceeded):
			return
		default:
			a.d.log.Warn("cannot read a task's output", "trial", a.key.trialID, "task", p.plan.task, "rank", p.plan.rank, "error", err)
			return
		}
	}
}

// line passes on one line of output, or a piece of an overlong one, and a
// report or warning when it is a @tune line; start says it begins a line.
func (a *attempt) line(p *process, line string, stdout, start bool) {
	w := a.stderr
	if stdout {
		w = a.stdout
	}
	text := line
	if a.prefix {
		text = "[" + strconv.Itoa(p.plan.rank) + "] " + line
	}
	// One lock for both streams: the writers need not be safe for
	// concurrent use, and may well be the same one.
	a.outMu.Lock()
	w.WriteLine(text)
	a.outMu.Unlock()
	if !stdout || !start {
		return
	}
	metrics, ok, err := driver.ParseReport(line)
	switch {
	case ok:
		a.emit(driver.Event{Kind: driver.EventReport, Rank: p.plan.rank, Metrics: metrics})
	case err != nil && a.warned.CompareAndSwap(false, true):
		a.emit(driver.Event{
			Kind: driver.EventWarning,
			Rank: p.plan.rank,
			Message: fmt.Sprintf("%s printed an invalid @tune line, kept as ordinary output: %v (further invalid @tune lines of this attempt are not reported)",
				p.plan.name, err),
		})
	}
}
