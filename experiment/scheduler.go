package experiment

import "github.com/hashicorp/hcl/v2"

// SchedulerKind names a trial scheduler: the rule that stops trials
// early, after Ray Tune's schedulers of the same names.
type SchedulerKind string

const (
	// SchedulerASHA is asynchronous successive halving.
	SchedulerASHA SchedulerKind = "asha"
	// SchedulerHyperBand is synchronous HyperBand; a trial it would pause
	// is stopped instead.
	SchedulerHyperBand SchedulerKind = "hyperband"
	// SchedulerMedian is the median stopping rule.
	SchedulerMedian SchedulerKind = "median"
)

// Ray Tune's defaults for each scheduler.
const (
	DefaultASHAMaxT            = 100
	DefaultASHAGracePeriod     = 1
	DefaultASHAReductionFactor = 4
	DefaultASHABrackets        = 1

	DefaultHyperBandMaxT            = 81
	DefaultHyperBandReductionFactor = 3

	DefaultMedianGracePeriod        = 60
	DefaultMedianMinSamplesRequired = 3
)

// Scheduler is the experiment's trial scheduler; nil on the experiment
// means every trial runs to its end.
type Scheduler struct {
	Kind SchedulerKind
	// TimeAttr is the reported field that measures a trial's progress:
	// training_iteration, time_total_s or any metric that grows.
	TimeAttr string
	// MaxT (asha, hyperband) is the progress at which a trial ends.
	MaxT float64
	// GracePeriod (asha, median) is the progress before which no trial
	// is stopped.
	GracePeriod float64
	// ReductionFactor (asha, hyperband) is how many trials reach a rung
	// for each that passes it.
	ReductionFactor float64
	// Brackets (asha) is how many brackets of rungs trials are spread
	// over.
	Brackets int
	// MinSamplesRequired (median) is how many other trials must have
	// reached a trial's progress before it is compared with them.
	MinSamplesRequired int
	DefRange           hcl.Range
}
