package nomad

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/hashicorp/nomad/api"

	"github.com/nomad-tune/tune/driver"
)

// maxLineBytes is the longest line passed on whole; a longer one is passed
// on in pieces of this size, so a progress bar that never prints a newline
// is neither dropped nor held in memory without bound. Only the first
// piece of a line can be a report: what follows "@tune " after a megabyte
// of output on the same line is no report.
const maxLineBytes = 1 << 20

// lineSplitter cuts a stream of output into lines; a line may span frames,
// so what follows the last newline is kept for the next one.
type lineSplitter struct {
	rest []byte
	// cut says a piece of the line in rest was already passed on.
	cut bool
	// max is maxLineBytes, smaller in tests.
	max int
}

func newLineSplitter() *lineSplitter { return &lineSplitter{max: maxLineBytes} }

// emitLine takes a line, or a piece of an overlong one; start says it
// begins a line.
type emitLine func(line string, start bool)

// write passes on every line that data completes, without its line ending.
func (s *lineSplitter) write(data []byte, emit emitLine) {
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			s.rest = append(s.rest, data...)
			s.cutPieces(emit)
			return
		}
		s.rest = append(s.rest, data[:i]...)
		s.cutPieces(emit)
		line := strings.TrimSuffix(string(s.rest), "\r")
		start := !s.cut
		s.rest, s.cut = s.rest[:0], false
		emit(line, start)
		data = data[i+1:]
	}
}

// cutPieces passes on whole pieces of an overlong line.
func (s *lineSplitter) cutPieces(emit emitLine) {
	for len(s.rest) > s.max {
		emit(string(s.rest[:s.max]), !s.cut)
		s.cut = true
		s.rest = append(s.rest[:0], s.rest[s.max:]...)
	}
}

// flush passes on an unfinished last line when the stream ends.
func (s *lineSplitter) flush(emit emitLine) {
	if len(s.rest) > 0 {
		line := strings.TrimSuffix(string(s.rest), "\r")
		start := !s.cut
		s.rest, s.cut = nil, false
		emit(line, start)
	}
}

// taskLog is one output stream of one task of one allocation.
type taskLog struct {
	allocID string
	nodeID  string
	task    string
	rank    int
	stdout  bool
	// name says which task this is in warnings.
	name string
	// dead is closed once the task is dead: what is left of its output is
	// then read to the end instead of followed.
	dead     chan struct{}
	deadDone bool
	// unreachable is set when the allocation's node is lost: its output
	// can no longer be read, so a failed read is not tried again.
	unreachable atomic.Bool
}

// follow passes a task's output on line by line. Nothing holds a
// connection while the task runs: the log is read from the offset reached
// so far, through the driver's bounded pool of log readers, at a pace that
// slows while the task prints nothing and quickens when it does; once the
// task is dead what is left is read at once, to the end. Transient
// failures are retried for as long as the task runs (and a bounded number
// of times after), resuming from the offset reached, so no line is lost
// or repeated.
func (a *attempt) follow(l *taskLog) {
	defer a.logs.Done()
	split := newLineSplitter()
	emit := func(line string, start bool) { a.line(l, line, start) }
	kind := "stderr"
	if l.stdout {
		kind = "stdout"
	}
	alloc := &api.Allocation{ID: l.allocID, NodeID: l.nodeID, Namespace: a.d.namespace()}
	var offset int64
	// failures counts failed reads in a row; quiet counts reads in a row
	// that found nothing new, to pace the next.
	failures, quiet := 0, 0
	for a.logCtx.Err() == nil {
		dead := false
		select {
		case <-l.dead:
			dead = true
		default:
		}
		before := offset
		err := a.readLog(alloc, l, kind, &offset, split, emit)
		if offset > before {
			failures, quiet = 0, 0
		}
		switch {
		case err == nil:
			a.d.health.answered()
		case transient(err) && !l.unreachable.Load() && a.logCtx.Err() == nil:
			a.d.health.failed(err)
		}
		switch {
		case err == nil && dead:
			split.flush(emit)
			return
		case err == nil:
			failures = 0
			wait := a.d.logPoll.delay(quiet)
			if offset == before {
				quiet++
			}
			select {
			case <-l.dead:
			case <-a.logCtx.Done():
			case <-a.d.clock.After(wait):
			}
		case a.logCtx.Err() != nil:
		case !transient(err) || l.unreachable.Load() || dead && failures >= a.d.backoff.Retries:
			// While the task runs, an outage is waited out: giving up
			// would lose the rest of its output.
			a.d.log.Debug("cannot read a task's output", "job", a.jobID, "alloc", l.allocID, "task", l.task, "stream", kind, "error", err)
			split.flush(emit)
			return
		default:
			wait := a.d.backoff.delay(failures)
			failures++
			select {
			case <-a.logCtx.Done():
			case <-a.d.clock.After(wait):
			}
		}
	}
	split.flush(emit)
}

// readLog reads the log from offset to its current end, holding one of
// the driver's log readers meanwhile. offset counts the bytes passed on
// so far.
func (a *attempt) readLog(alloc *api.Allocation, l *taskLog, kind string, offset *int64, split *lineSplitter, emit emitLine) error {
	select {
	case a.d.logReaders <- struct{}{}:
	case <-a.logCtx.Done():
		return a.logCtx.Err()
	}
	defer func() { <-a.d.logReaders }()
	ctx, cancelReq := context.WithCancel(a.logCtx)
	defer cancelReq()
	cancel := make(chan struct{})
	defer close(cancel)
	frames, errs := a.d.logStream(alloc, false, l.task, kind, *offset, cancel, a.d.queryOpts(ctx, nil))
	take := func(f *api.StreamFrame) {
		if f != nil && len(f.Data) > 0 {
			*offset += int64(len(f.Data))
			split.write(f.Data, emit)
		}
	}
	for {
		select {
		case f, ok := <-frames:
			if !ok {
				return nil
			}
			take(f)
		case err := <-errs:
			// Frames sent before the error are still queued; the sender
			// has stopped, so taking them cannot block.
			for {
				select {
				case f, ok := <-frames:
					if !ok {
						return err
					}
					take(f)
				default:
					return err
				}
			}
		}
	}
}

// line passes on one line of output, or a piece of an overlong one, and a
// report or warning when it is a @tune line; start says it begins a line.
func (a *attempt) line(l *taskLog, line string, start bool) {
	w := a.stderr
	if l.stdout {
		w = a.stdout
	}
	text := line
	if a.prefix {
		text = "[" + strconv.Itoa(l.rank) + "] " + line
	}
	// One lock for both streams: the writers need not be safe for
	// concurrent use, and may well be the same one.
	a.outMu.Lock()
	w.WriteLine(text)
	a.outMu.Unlock()
	if !l.stdout || !start {
		return
	}
	metrics, ok, err := driver.ParseReport(line)
	switch {
	case ok:
		a.emit(driver.Event{Kind: driver.EventReport, Rank: l.rank, Metrics: metrics})
	case err != nil && a.warned.CompareAndSwap(false, true):
		a.emit(driver.Event{
			Kind: driver.EventWarning,
			Rank: l.rank,
			Message: fmt.Sprintf("%s printed an invalid @tune line, kept as ordinary output: %v (further invalid @tune lines of this attempt are not reported)",
				l.name, err),
		})
	}
}
