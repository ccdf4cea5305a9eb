package controller

import (
	"time"

	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/results"
)

// Snapshot is the state of a running experiment as a reporter shows it.
// The controller builds a fresh one for every update; a reporter may keep
// it.
type Snapshot struct {
	Experiment string
	Metric     string
	Mode       string
	// ParamNames are the search space's parameters, in file order.
	ParamNames []string
	Target     string
	// ResultsDir is the experiment's results folder.
	ResultsDir string

	Elapsed time.Duration
	// TimeBudget is stop.time_budget, 0 when there is none.
	TimeBudget time.Duration

	Total      int
	Pending    int
	Running    int
	Terminated int
	Errored    int

	// InUse is what running trials hold; Capacity what the target has.
	InUse    planner.Totals
	Capacity planner.Totals

	// Best is the best trial so far by Metric and Mode; nil when there is
	// none yet or no metric.
	Best *TrialView
	// Active are the running trials, in index order.
	Active []TrialView
	// Recent are the last trials to finish, newest first (at most
	// RecentLimit).
	Recent []TrialView
}

// RecentLimit is how many finished trials a snapshot carries.
const RecentLimit = 10

// TrialView is one trial as a reporter shows it.
type TrialView struct {
	ID      string
	Index   int
	Status  results.Status
	Params  map[string]any
	Attempt int
	// Iterations is the number of reports of the current attempt.
	Iterations int
	// Last is the last reported row (with training_iteration and
	// time_total_s), nil before the first report.
	Last map[string]any
	// Runtime is how long the current or last attempt has run.
	Runtime    time.Duration
	Error      string
	StopReason string
}

// Change is one thing that happened, for reporters that print lines
// rather than redraw a table.
type Change struct {
	Time    time.Time
	Kind    ChangeKind
	Trial   TrialView
	Message string
}

// ChangeKind names a Change.
type ChangeKind string

const (
	// TrialStarted: an attempt of the trial started.
	TrialStarted ChangeKind = "started"
	// TrialReported: the trial reported a result.
	TrialReported ChangeKind = "reported"
	// TrialFinished: the trial ended well (exit 0 or a stop rule).
	TrialFinished ChangeKind = "finished"
	// TrialFailed: an attempt failed; Message says whether it is retried.
	TrialFailed ChangeKind = "failed"
	// TrialStopped: the controller stopped the trial (timeout, stop rule,
	// time budget, interrupt).
	TrialStopped ChangeKind = "stopped"
	// Warning: something the user should hear of once.
	Warning ChangeKind = "warning"
	// ExperimentDone: the experiment ended; Message says how.
	ExperimentDone ChangeKind = "done"
)

// Reporter shows progress. The controller calls it from its own loop, so
// a reporter must return quickly; it is never called concurrently.
type Reporter interface {
	// Changed is called for every change, with the snapshot after it.
	// Snapshots of reports may be coalesced: the controller may pass
	// several changes' worth of state in one snapshot.
	Changed(c Change, s *Snapshot)
	// Tick is called about every 250 ms with the current snapshot, so a
	// live display can update elapsed times.
	Tick(s *Snapshot)
	// Done is called once at the end with the final snapshot.
	Done(s *Snapshot)
}
