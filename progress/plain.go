package progress

import (
	"io"
	"time"

	"github.com/nomad-tune/tune/controller"
)

// plain writes one line per change that matters, for output read later
// rather than watched: no escape sequences, and reports summed up in a
// status line every StatusEvery instead of a line each, since a run can
// make thousands of them.
type plain struct {
	w    io.Writer
	opts Options
	// nextStatus is the Elapsed at which the next status line is due.
	nextStatus time.Duration
	// ended is set once the experiment's last line is written, so Done
	// does not write a second one.
	ended  bool
	closed bool
}

func (p *plain) Changed(c controller.Change, s *controller.Snapshot) {
	if p.closed {
		return
	}
	if line := changeLine(c, s, p.opts.Metrics); line != "" {
		if c.Kind != controller.Warning {
			line = stamp(s, line)
		}
		p.println(line)
	}
	if c.Kind == controller.ExperimentDone {
		p.ended = true
		return
	}
	p.status(s)
}

func (p *plain) Tick(s *controller.Snapshot) {
	if p.closed || p.ended {
		return
	}
	p.status(s)
}

func (p *plain) Done(s *controller.Snapshot) {
	if p.closed {
		return
	}
	p.closed = true
	if !p.ended {
		p.println(stamp(s, "experiment "+s.Experiment+" ended: "+counts(s)))
	}
}

// status writes a status line when one is due. The next one is due at the
// next multiple of StatusEvery, so a quiet spell with no calls yields one
// line, not a burst to catch up.
func (p *plain) status(s *controller.Snapshot) {
	if s.Elapsed < p.nextStatus {
		return
	}
	every := p.opts.StatusEvery
	p.nextStatus = (s.Elapsed/every + 1) * every
	line := counts(s)
	if best := bestText(s); best != "" {
		line += " · best " + best
	}
	p.println(stamp(s, line))
}

// println ignores write errors: progress is a courtesy, and a closed
// stdout must not stop the experiment. Each line is sanitized whole, so
// nothing a trial wrote reaches the terminal as it is.
func (p *plain) println(line string) {
	_, _ = io.WriteString(p.w, Sanitize(line)+"\n")
}
