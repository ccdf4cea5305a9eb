package results

import (
	"time"

	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/pyjson"
)

// Status is a trial's state, with Ray Tune's names so that tools reading
// trials.csv find what they expect.
type Status string

const (
	// Pending: not started yet, or waiting to be retried.
	Pending Status = "PENDING"
	// Running: an attempt is running.
	Running Status = "RUNNING"
	// Terminated: the trial finished: it exited 0 or a stop rule ended it.
	Terminated Status = "TERMINATED"
	// Error: the trial failed and has no retries left, or was never able
	// to start.
	Error Status = "ERROR"
)

// Finished reports whether a trial in this state is done for good: a
// resumed experiment does not run it again.
func (s Status) Finished() bool { return s == Terminated || s == Error }

// Interrupted is the status Load gives an experiment whose summary says it
// is running when no tune process holds its folder any more.
const Interrupted = "interrupted"

// TrialRecord is what is known of one trial; it is persisted in the
// trial's folder (trial.json) whenever an attempt ends, so a resumed
// experiment knows which trials are done.
type TrialRecord struct {
	ID     string         `json:"trial_id"`
	Index  int            `json:"index"`
	Params map[string]any `json:"params"`
	Status Status         `json:"status"`
	// Attempts counts attempts started; Failures the ones that failed.
	Attempts int `json:"attempts"`
	Failures int `json:"failures"`
	// Error is the last failure's message, ending with the last lines of
	// its stderr.
	Error string `json:"error,omitempty"`
	// ExitCode is the exit status of the last failed attempt, 0 when it
	// did not exit by itself (it could not start, or a signal ended it).
	ExitCode int `json:"exit_code,omitempty"`
	// StopReason says why a stop rule ended the trial early
	// ("loss <= 0.01", "trial_timeout 10m", "time_budget", "stopped").
	StopReason string `json:"stop_reason,omitempty"`
	// Iterations counts the reports of the last attempt.
	Iterations int `json:"iterations"`
	// LastResult is the last report of the last attempt, with the fields
	// tune adds (training_iteration, time_total_s, timestamp, trial_id).
	// Its numbers may be NaN or infinite: the files hold them as
	// Python's json module writes them.
	LastResult pyjson.Object `json:"last_result,omitempty"`
	StartedAt  time.Time     `json:"started_at,omitzero"`
	FinishedAt time.Time     `json:"finished_at,omitzero"`
	// Spec is what the last attempt ran, as its target said (the hash of
	// its Nomad job); empty when the target does not say. A resumed
	// experiment whose trial now runs something else does not keep the
	// record's results.
	Spec string `json:"spec,omitempty"`
	// History is when each attempt passed each stage and what it held,
	// oldest first, at most MaxHistory of the latest; what Measure makes
	// the experiment's scheduling figures of.
	History []AttemptTimes `json:"history,omitempty"`
}

// MaxHistory bounds a record's History, so that a trial retried without
// end keeps a trial.json of bounded size; its oldest attempts drop out of
// the figures.
const MaxHistory = 100

// AttemptTimes is one attempt of a trial as the scheduler saw it. A stage
// the attempt never reached, or one nobody can say the time of (the
// admission of an attempt an earlier run started), is left out.
type AttemptTimes struct {
	// Attempt is the attempt's number; one that counted for nothing (it
	// was interrupted, or the target could not place it) shares its
	// number with the next.
	Attempt int `json:"attempt"`
	// AdmittedAt is when tune decided to start it; RegisteredAt when the
	// target accepted it (Nomad registered its job; the local target
	// started its processes); PlacedAt when every allocation of it had a
	// node; RunningAt when every allocation of it ran; EndedAt when it
	// ended, every allocation of it.
	AdmittedAt   time.Time `json:"admitted_at,omitzero"`
	RegisteredAt time.Time `json:"registered_at,omitzero"`
	PlacedAt     time.Time `json:"placed_at,omitzero"`
	RunningAt    time.Time `json:"running_at,omitzero"`
	EndedAt      time.Time `json:"ended_at,omitzero"`
	// Held is what tune placed it with on its capacity snapshot, which
	// it held from RunningAt to EndedAt; empty when it was submitted
	// without a place (on_unfit = "queue" with no room).
	Held planner.Amounts `json:"held,omitzero"`
}

// Latest is the latest attempt of the history, nil when there is none.
func (r *TrialRecord) Latest() *AttemptTimes {
	if len(r.History) == 0 {
		return nil
	}
	return &r.History[len(r.History)-1]
}

// Begin adds an attempt to the history, dropping the oldest beyond
// MaxHistory, and returns it.
func (r *TrialRecord) Begin(a AttemptTimes) *AttemptTimes {
	if len(r.History) >= MaxHistory {
		r.History = append(r.History[:0], r.History[len(r.History)-MaxHistory+1:]...)
	}
	r.History = append(r.History, a)
	return r.Latest()
}

// Summary is the experiment-level state written to experiment.json.
type Summary struct {
	Name   string `json:"name"`
	File   string `json:"file"`
	Metric string `json:"metric,omitempty"`
	Mode   string `json:"mode,omitempty"`
	Seed   uint64 `json:"seed"`
	// Status is "running", "finished", "stopped" (interrupted or out of
	// time budget; resumable) or "failed" (fail_fast). Load makes it
	// "interrupted" when it says running but no tune holds the folder:
	// the tune that ran it was killed.
	Status string `json:"status"`
	// PID is the process id of the tune that wrote the summary.
	PID        int            `json:"pid,omitempty"`
	Counts     map[Status]int `json:"counts"`
	NumTrials  int            `json:"num_trials"`
	BestTrial  string         `json:"best_trial,omitempty"`
	BestResult pyjson.Object  `json:"best_result,omitempty"`
	BestParams map[string]any `json:"best_params,omitempty"`
	StartedAt  time.Time      `json:"started_at,omitzero"`
	UpdatedAt  time.Time      `json:"updated_at,omitzero"`
	Target     string         `json:"target"`
	// Scheduling is what the scheduler did, from every trial's History
	// (Measure); absent until an attempt has been made.
	Scheduling *Scheduling `json:"scheduling,omitempty"`
}
