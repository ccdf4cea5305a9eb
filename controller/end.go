package controller

import (
	"fmt"
	"strings"

	"github.com/nomad-tune/tune/driver"
	"github.com/nomad-tune/tune/experiment"
	"github.com/nomad-tune/tune/results"
)

// endNext is what the loop does with a trial after one of its attempts
// ended.
type endNext int

const (
	// endDone: nothing more in this run; the trial is finished, or it is
	// pending for a resume (an interrupted attempt).
	endDone endNext = iota
	// endBackoff: the target could not place it; it is queued again after
	// unplacedBackoff.
	endBackoff
	// endRetry: it failed within max_failures; it is queued again after
	// the retry delay.
	endRetry
	// endFailFast: it failed and fail_fast ends the experiment.
	endFailFast
)

// errorTailLines is how many of the last lines of a failed attempt's stderr
// its error ends with: enough for a traceback's last line and what led to
// it, short enough for one line of progress.
const errorTailLines = 3

// attemptEnd is what decideEnd needs to know of an attempt that ended.
type attemptEnd struct {
	Event driver.Event
	// Stopping says tune asked for the stop; StopReason says why, and
	// Success whether the stop ends the trial well (a stop rule, its
	// timeout, the time budget) rather than interrupting it.
	Stopping   bool
	StopReason string
	Success    bool
	// Failures is how many attempts of the trial failed before this one.
	Failures int
	// StderrTail are the last lines the attempt wrote to stderr, cleaned
	// for a terminal: a failure's error ends with them, since they
	// usually say why (a traceback's last line).
	StderrTail []string
}

// endDecision is what becomes of a trial when an attempt ends.
type endDecision struct {
	Status results.Status
	// Uncounted says the attempt counts for nothing: the target never
	// placed it, or it was interrupted, and the trial's next attempt
	// takes its number.
	Uncounted bool
	// Unplaced says the target could not place the attempt.
	Unplaced bool
	// Failed says the attempt counts as a failure of the trial's; Error
	// is what the record keeps of it.
	Failed bool
	Error  string
	// StopReason is recorded when tune stopped the attempt.
	StopReason string
	// Kind and Message are the change reporters are told of.
	Kind    ChangeKind
	Message string
	Next    endNext
}

// decideEnd settles an attempt's end from the event, what tune asked of the
// attempt, and the failure policy. It has no side effects: ended applies
// what it returns.
func decideEnd(in attemptEnd, policy experiment.Failure) endDecision {
	ev := in.Event
	switch {
	case ev.Unplaced && !in.Stopping:
		// Not a failure: the target had less room than the snapshot said.
		return endDecision{Status: results.Pending, Uncounted: true, Unplaced: true, Kind: TrialStopped,
			Message: "not placed in time: " + ev.Message + "; queued again", Next: endBackoff}
	case in.Stopping && in.Success:
		return endDecision{Status: results.Terminated, StopReason: in.StopReason, Kind: TrialStopped, Message: in.StopReason}
	case in.Stopping:
		// Interrupted: the trial runs again from the start on resume, and
		// this attempt counts for nothing.
		return endDecision{Status: results.Pending, Uncounted: true, StopReason: in.StopReason, Kind: TrialStopped, Message: in.StopReason}
	case ev.Failed && ev.NeverRuns:
		return endDecision{Status: results.Error, Failed: true, Error: ev.Message, Kind: TrialFailed,
			Message: ev.Message + "; not retried: no attempt could ever be placed"}
	case ev.Failed:
		errText := ev.Message
		if tail := shortTail(in.StderrTail); tail != "" {
			errText += ": " + tail
		}
		d := endDecision{Failed: true, Error: errText, Kind: TrialFailed}
		failures := in.Failures + 1
		max := policy.MaxFailures
		cannotRun := cannotRun(ev)
		switch {
		case policy.FailFast:
			d.Status, d.Next = results.Error, endFailFast
			d.Message = errText + "; fail_fast stops the experiment"
		case cannotRun != "":
			d.Status = results.Error
			d.Message = errText + "; not retried: " + cannotRun
		case max < 0 || failures <= max:
			d.Status, d.Next = results.Pending, endRetry
			d.Message = fmt.Sprintf("%s; retrying (%d of %s)", errText, failures, retryCount(max))
		default:
			d.Status, d.Message = results.Error, errText
			if max > 0 {
				d.Message = fmt.Sprintf("%s; no retries left (max_failures = %d)", errText, max)
			}
		}
		return d
	default:
		return endDecision{Status: results.Terminated, Kind: TrialFinished}
	}
}

// errorTailMax bounds, in runes, the stderr an error ends with.
const errorTailMax = 240

// shortTail joins the last lines of stderr into one short line, keeping
// the end: a traceback's last line says the most.
func shortTail(lines []string) string {
	s := strings.Join(lines, " | ")
	if r := []rune(s); len(r) > errorTailMax {
		s = "…" + string(r[len(r)-errorTailMax+1:])
	}
	return s
}

// cannotRun says why a failed attempt's command could not run at all, so
// that retrying it is pointless: the driver could not execute it, or it
// exited with the status a shell gives a command it cannot execute (126)
// or find (127). "" for any other failure.
func cannotRun(ev driver.Event) string {
	switch {
	case ev.CannotRun:
		return "the command cannot be executed"
	case ev.ExitCode == 126:
		return "exit status 126 means a command could not be executed"
	case ev.ExitCode == 127:
		return "exit status 127 means a command was not found"
	}
	return ""
}

func retryCount(max int) string {
	if max < 0 {
		return "unlimited"
	}
	return fmt.Sprint(max)
}

// ended closes an attempt and applies what decideEnd makes of its trial.
func (c *controller) ended(r *run, ev driver.Event) {
	rec := r.rec
	delete(c.running, rec.ID)
	if r.assignment != nil {
		c.capacity.Release(r.assignment)
	}
	rec.FinishedAt = ev.Time
	if rec.FinishedAt.IsZero() {
		rec.FinishedAt = c.clock.Now()
	}
	if h := rec.Latest(); h != nil && h.Attempt == r.attempt && h.EndedAt.IsZero() {
		h.EndedAt = rec.FinishedAt
	}
	in := attemptEnd{Event: ev, Stopping: r.stopping, StopReason: r.stopReason, Success: r.success, Failures: rec.Failures}
	if ev.Failed && !r.stopping {
		in.StderrTail = c.opts.Store.StderrTail(rec, errorTailLines)
	}
	d := decideEnd(in, c.exp.Failure)
	if d.Status == results.Terminated {
		c.ranFor(r, rec.FinishedAt)
	}
	c.setStatus(rec, d.Status)
	if d.Uncounted {
		rec.Attempts--
	}
	if d.Unplaced {
		c.unplaced[rec.ID]++
	}
	if d.Failed {
		rec.Failures++
		rec.Error = d.Error
		rec.ExitCode = max(ev.ExitCode, 0)
	}
	if d.StopReason != "" {
		rec.StopReason = d.StopReason
	}
	// The record is saved after the next admission: the trials waiting
	// for this one's resources start without waiting on the disk.
	c.unsaved = append(c.unsaved, rec)
	c.scheduleEnd(rec)
	c.updateBest(rec)
	c.observe(rec)
	c.remember(rec)
	c.notify(d.Kind, rec, d.Message)

	switch d.Next {
	case endBackoff:
		c.delayed[rec.ID] = true
		c.addTimer(timer{at: c.clock.Now().Add(unplacedBackoff(c.unplaced[rec.ID])), kind: timerRetry, trialID: rec.ID})
	case endFailFast:
		c.fail(fmt.Sprintf("trial %s failed and fail_fast is set", rec.ID))
	case endRetry:
		if d := c.exp.Failure.RetryDelay; d > 0 {
			c.delayed[rec.ID] = true
			c.addTimer(timer{at: c.clock.Now().Add(d), kind: timerRetry, trialID: rec.ID})
		} else {
			c.requeue(rec)
		}
	}
	c.maybeWriteSummary(false)
}
