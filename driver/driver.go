// Package driver is the boundary between the controller, which decides
// what runs when, and a target that runs it: processes on this machine
// (driver/local) or batch jobs on a Nomad cluster. The two are peers
// behind the Driver interface, so every rule of admission, retry and
// stopping lives once, in the controller.
//
// A driver must not decide placement, admission, retries or stopping; it
// starts what it is told, stops what it is told, and reports what happens.
package driver

import (
	"context"
	"errors"
	"time"

	"github.com/nomad-tune/tune/experiment"
	"github.com/nomad-tune/tune/planner"
)

// Driver runs trials on one target.
type Driver interface {
	// Capacity is a snapshot of the target's nodes and what is already in
	// use on them (by anything other than this experiment's trials).
	Capacity(ctx context.Context) (*planner.Capacity, error)
	// Start launches one attempt of a trial: every allocation of it, or
	// none. A driver may return before the target has the attempt (the
	// Nomad driver submits in the background): from the moment Start
	// returns nil, the attempt is the driver's, and everything else about
	// it arrives as events, in order, ending with one EventExited. A
	// launch that fails after Start returned ends the attempt with an
	// EventExited with Failed and a Message that starts "could not start:
	// " (or with NeverRuns or Unplaced when the target says so), nothing
	// of it left running. Stop and Close end an attempt whose launch is
	// still under way like any other, and leave nothing of it behind.
	//
	// An error means the attempt was not started at all: nothing of it
	// runs or will run, and no event of it follows.
	Start(ctx context.Context, req StartRequest) error
	// Stop ends a running attempt (TERM, then KILL after a grace period on
	// the local target). An EventExited with Stopped set follows. Stopping
	// an attempt that already ended is not an error.
	Stop(ctx context.Context, trialID string, attempt int, reason string) error
	// Events delivers the events of every attempt, in order per attempt,
	// until Close.
	Events() <-chan Event
	// Close stops every attempt still running, waits for them to end, and
	// closes the event channel.
	Close() error
}

// Adopter is implemented by drivers whose trials outlive the tune process
// that started them: Nomad jobs keep running when `tune apply` is killed,
// crashes or loses its machine, so the next `tune apply` of the same
// experiment must take them over instead of submitting them again (which
// would run a trial twice). The local target does not implement it: its
// trials end with the process that started them.
type Adopter interface {
	// Existing lists the attempts the target holds for the experiment's
	// trials: one per trial, its latest attempt, whether still running or
	// already ended. An attempt that was stopped (its job stopped by tune
	// or by a person) is not listed: nothing of it is left to follow, and
	// the trial runs again as after any interruption. An error means the
	// target could not say; the caller must not start trials then, or it
	// may start one that is already running. Each attempt says whether it
	// was made from another definition of its trial than trials holds now.
	Existing(ctx context.Context, e *experiment.Experiment, trials []*planner.Trial) ([]Existing, error)
	// Adopt attaches to an existing attempt instead of submitting it: the
	// driver follows the attempt's allocations, running or already ended,
	// and delivers the events Start's attempt would: EventRunning once it
	// runs (or ran), EventReport for every @tune line of its output from
	// the start of its logs, so the results of the whole attempt are
	// collected again, and EventExited when it has ended (at once, after
	// its output is read, when it ended while nobody watched). Output goes
	// to req.Stdout and req.Stderr as for Start. From then on Stop and
	// Close treat the attempt as one of their own. An error means it is
	// not followed (nothing was changed on the target).
	Adopt(ctx context.Context, req StartRequest) error
}

// Specifier is implemented by targets that can say what an attempt of a
// trial runs, as a hash that changes whenever what runs does (on Nomad,
// the hash of the trial's job). The controller records it with the
// trial's results, so that a later run of a changed definition never
// takes them as its own, even when the target no longer holds the
// attempts (Nomad collects dead jobs after a few hours).
type Specifier interface {
	// Spec is the hash of what an attempt of the trial runs now.
	Spec(e *experiment.Experiment, t *planner.Trial) (string, error)
}

// Existing is an attempt the target holds from an earlier run.
type Existing struct {
	TrialID string
	Attempt int
	// Running says the attempt has not ended yet; false when every
	// allocation of it is terminal.
	Running bool
	// Submitted is when the attempt was submitted, zero when the target
	// does not say: a resumed trial_timeout counts from it.
	Submitted time.Time
	// Changed says the attempt was made from another definition of the
	// trial (the experiment file or its variables changed since): its
	// results are not the trial's as defined now, and it must never be
	// adopted as if they were.
	Changed bool
}

// StartRequest is one attempt of one trial.
type StartRequest struct {
	Experiment *experiment.Experiment
	Trial      *planner.Trial
	// Attempt counts from 0; a retried trial starts again with the next.
	Attempt int
	// Assignment is where the controller placed the trial on its capacity
	// snapshot: on the local target it says which GPUs each task gets.
	Assignment *planner.Assignment
	// Stdout and Stderr receive the trial's output, every line of every
	// task (for a multi-allocation trial, lines are prefixed with the
	// allocation's rank: "[1] ..."). @tune report lines are also parsed
	// into events; they are written to Stdout as well.
	Stdout LineWriter
	Stderr LineWriter
	// Dir is the trial's folder of results, where a driver may keep files
	// of the attempt (the local target renders templates under it); empty
	// when there is none, and the driver then uses a folder of its own.
	Dir string
}

// LineWriter takes whole lines of output, without their line ending.
// Drivers call it from one goroutine per stream.
type LineWriter interface {
	WriteLine(line string)
}

// EventKind says what happened to an attempt.
type EventKind int

const (
	// EventRunning: every allocation of the attempt is running.
	EventRunning EventKind = iota + 1
	// EventReport: the trial printed a valid @tune line; Metrics holds it.
	EventReport
	// EventWarning: something the user should hear of once, such as an
	// invalid @tune line, which is kept as ordinary output.
	EventWarning
	// EventExited: the attempt ended, every allocation of it.
	EventExited
)

func (k EventKind) String() string {
	switch k {
	case EventRunning:
		return "running"
	case EventReport:
		return "report"
	case EventWarning:
		return "warning"
	case EventExited:
		return "exited"
	}
	return "unknown"
}

// Event is one thing that happened to one attempt of a trial.
type Event struct {
	Kind    EventKind
	TrialID string
	Attempt int
	// Time is when it happened. For EventRunning it is when the last
	// allocation of the attempt began to run, and for EventExited when
	// the last one ended: for an attempt adopted after that happened, the
	// target's own time of it when it can say, else when the driver saw
	// it.
	Time time.Time

	// Registered and Placed, on EventRunning, are when the target accepted
	// the attempt (Nomad registered its job; the local target started its
	// processes) and when every allocation of it had a node (on the local
	// target, the same moment). A zero time is one the target cannot say,
	// such as the placement of an adopted attempt whose allocations Nomad
	// no longer holds; drivers never guess one. Registered ≤ Placed ≤ Time
	// when all three are known.
	Registered time.Time
	Placed     time.Time

	// Rank is the allocation that printed a report (0 for single-process
	// trials).
	Rank int
	// Metrics is the JSON object of a @tune line; numbers are float64.
	Metrics map[string]any

	// ExitCode is the attempt's exit status: 0 when every process exited
	// 0, otherwise the first non-zero status (-1 when killed by a signal
	// or never started).
	ExitCode int
	// Failed says the attempt did not succeed: a non-zero exit, a failure
	// to start, a lost allocation.
	Failed bool
	// Stopped says the attempt was stopped rather than ending by itself:
	// by Stop, or by someone outside tune (a Nomad job stopped with tune
	// stop or nomad job stop), which the controller takes as a request to
	// stop the experiment.
	Stopped bool
	// Unplaced says the target could not place the whole attempt in time
	// (a gang that Nomad placed only in part) and the driver rolled it
	// back: nothing of it ran, it is no failure of the trial, and the
	// controller queues it again after a backoff.
	Unplaced bool
	// CannotRun says, with Failed, that the attempt's command could not be
	// executed at all (not found, not executable): every attempt would
	// fail the same way, so the controller does not retry it.
	CannotRun bool
	// NeverRuns says, with Failed, that the target can never place the
	// attempt (no node has what it needs: a driver, a device, matching
	// constraints): every attempt would fail the same way, so the
	// controller does not retry it. Message says why.
	NeverRuns bool
	// Message explains a warning, a failure or a stop.
	Message string
}

// CannotRunError is a Start error, or the cause of a failed attempt, that
// says the attempt's command could not be executed at all (not found, not
// executable). Every attempt would fail the same way, so the controller
// does not retry it.
type CannotRunError struct{ Err error }

func (e *CannotRunError) Error() string { return e.Err.Error() }
func (e *CannotRunError) Unwrap() error { return e.Err }

// IsCannotRun reports whether err says a command could not be executed.
func IsCannotRun(err error) bool {
	var c *CannotRunError
	return errors.As(err, &c)
}

// ReportPrefix starts a line that reports metrics: "@tune {...}".
const ReportPrefix = "@tune "
