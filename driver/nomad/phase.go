package nomad

import (
	"fmt"

	"github.com/nomad-tune/tune/driver"
)

// phase is where an attempt stands. It only moves forward, but for a
// submission an interrupt catches between its calls to Nomad, which waits
// again, nothing of it registered, for the stop that follows:
//
//	waiting ──▶ registering ──▶ queued ──▶ running
//	   │            │            │           │   the outcome is decided before the
//	   │            │            ▼           │   allocations end: deregister the job
//	   │            │         stopping ◀─────┘
//	   │            │            │ the deregistration returns, or someone else
//	   │            │            ▼ deregistered the job
//	   └────────────┴───────▶ stopped     (stopped before it was sent, the dry run
//	                             │         said no, or the submission failed:
//	                             │         nothing registered)
//	                             ▼ every allocation has ended, or the stop wait is over
//	                         finishing     (from queued or running too, when the
//	                                        allocations end on their own)
//
// waiting is a submission queued for a submitter; registering holds news
// until Nomad answers the registration; queued is a trial Nomad has but
// has not run whole (pending); running is every allocation having run;
// finishing reads the last output and reports.
type phase int

const (
	// phaseWaiting: the attempt waits for a submitter, or was held by an
	// interrupt; nothing of it has been sent to Nomad, so a stop ends it
	// at once.
	phaseWaiting phase = iota
	// phaseRegistering: the job is being planned and registered; news of its
	// allocations is held until Nomad says which version is this
	// attempt's.
	phaseRegistering
	// phaseQueued: Nomad has the job and not every allocation has run
	// yet; the trial is pending, not running.
	phaseQueued
	// phaseRunning: every allocation has run and EventRunning is queued.
	phaseRunning
	// phaseStopping: the outcome is decided and the job's deregistration
	// has been asked for; its allocations are still ending. The attempt
	// does not finish before the deregistration returns, with the job's
	// allocations read once after it: one Nomad placed just before, such
	// as a lost allocation's replacement, is waited for too.
	phaseStopping
	// phaseStopped: the job is deregistered, or was never registered;
	// what is left is for its allocations to end.
	phaseStopped
	// phaseFinishing: the attempt's end is decided and its last output
	// is being read before EventExited.
	phaseFinishing
)

var phaseNames = [...]string{"waiting", "registering", "queued", "running", "stopping", "stopped", "finishing"}

func (p phase) String() string {
	if p >= 0 && int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return fmt.Sprintf("phase(%d)", int(p))
}

// registered says whether Nomad has answered the registration.
func (p phase) registered() bool { return p > phaseRegistering }

// deregistering says whether tune or anyone else has taken the job back.
func (p phase) deregistering() bool { return p >= phaseStopping }

// outcomeKind is how an attempt ends.
type outcomeKind int

const (
	// outcomeOpen: nothing has decided the end yet; an attempt whose
	// allocations all complete with it ends cleanly.
	outcomeOpen outcomeKind = iota
	// outcomeTimedOut: an allocation reached max_run_duration. A clean
	// end, which a decisive outcome still overrides.
	outcomeTimedOut
	// outcomeStopped: the controller stopped the attempt.
	outcomeStopped
	// outcomeUnplaced: Nomad would not, or did not in time, place all of
	// the attempt.
	outcomeUnplaced
	// outcomeFailed: a task failed or an allocation was lost.
	outcomeFailed
	// outcomeJobStopped: the job was stopped outside tune (`tune stop`,
	// `nomad job stop`); reported as a stop the controller did not ask
	// for, which it takes as the experiment's end.
	outcomeJobStopped
	// outcomeNeverPlaced: Nomad's dry run says no node could ever hold
	// the job; nothing was registered, and no attempt would do better.
	outcomeNeverPlaced
	// outcomeEvicted: Nomad stopped an allocation on its own (a drain,
	// `nomad alloc stop`); the attempt failed, and whatever Nomad places
	// in its stead must be stopped too.
	outcomeEvicted
)

// outcome is how an attempt ends: the first decisive kind wins, and the
// allocations stopped because of it do not change it.
type outcome struct {
	kind    outcomeKind
	message string
	// exitCode is the first non-zero exit code of the attempt's tasks.
	exitCode int
	// cutOff says why the attempt was reported ended before its
	// allocations were seen to end; empty when they were.
	cutOff string
}

// decided says whether the end is settled short of every allocation
// finishing on its own.
func (o *outcome) decided() bool { return o.kind > outcomeTimedOut }

// decide settles the end unless it already is.
func (o *outcome) decide(kind outcomeKind, message string) {
	if o.decided() {
		return
	}
	o.kind, o.message = kind, message
}

// event is the EventExited that reports the outcome.
func (o *outcome) event() driver.Event {
	ev := driver.Event{Kind: driver.EventExited, ExitCode: o.exitCode, Message: o.message}
	switch o.kind {
	case outcomeStopped, outcomeJobStopped:
		ev.Stopped, ev.ExitCode = true, -1
	case outcomeUnplaced:
		ev.Unplaced, ev.ExitCode = true, -1
	case outcomeFailed:
		ev.Failed = true
		if ev.ExitCode == 0 {
			ev.ExitCode = -1
		}
	case outcomeEvicted:
		ev.Failed, ev.ExitCode = true, -1
	case outcomeNeverPlaced:
		ev.Failed, ev.NeverRuns, ev.ExitCode = true, true, -1
	case outcomeOpen, outcomeTimedOut:
		if o.cutOff != "" {
			ev.Failed, ev.ExitCode, ev.Message = true, -1, "the job's allocations did not end"
		}
	}
	if o.cutOff != "" && !ev.Unplaced {
		ev.Message += " (" + o.cutOff + ")"
	}
	return ev
}
