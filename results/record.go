package results

import (
	"time"

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
}
