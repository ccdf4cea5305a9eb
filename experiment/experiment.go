package experiment

import (
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Mode says whether a lower or a higher value of the metric is better.
type Mode string

const (
	// ModeNone means no metric is optimised: there is no best trial.
	ModeNone Mode = ""
	// ModeMin means the trial with the lowest metric is best.
	ModeMin Mode = "min"
	// ModeMax means the trial with the highest metric is best.
	ModeMax Mode = "max"
)

// Placement is how the allocations of one multi-allocation trial are laid
// out on nodes, after Ray Tune's placement group strategies.
type Placement string

const (
	// PlacementPack puts allocations on as few nodes as the scheduler can
	// (soft: they may still spread).
	PlacementPack Placement = "pack"
	// PlacementSpread spreads allocations over nodes where it can (soft).
	PlacementSpread Placement = "spread"
	// PlacementStrictPack puts every allocation of the trial on one node.
	PlacementStrictPack Placement = "strict_pack"
	// PlacementStrictSpread puts every allocation on a different node.
	PlacementStrictSpread Placement = "strict_spread"
)

// OnUnfit says what happens to a trial that does not fit the free capacity.
type OnUnfit string

const (
	// OnUnfitWait holds the trial in tune's own queue until it fits.
	OnUnfitWait OnUnfit = "wait"
	// OnUnfitQueue submits it anyway so Nomad's blocked evaluation can drive
	// a cluster autoscaler. Gang trials still never hold a partial placement.
	OnUnfitQueue OnUnfit = "queue"
)

// Admission is the order in which waiting trials start when they do not
// all fit at once.
type Admission string

const (
	// AdmissionReserve gives the oldest waiting trial that does not fit a
	// reservation: the nodes where it fits soonest, as running trials end.
	// Later trials start before it only where they do not delay it
	// (backfill, as Slurm does it), so a big trial never waits for ever
	// behind a stream of small ones.
	AdmissionReserve Admission = "reserve"
	// AdmissionGreedy starts any waiting trial that fits, in order, as Ray
	// Tune does: no GPU stays idle while a trial could use it, but a big
	// trial can wait for as long as small ones keep coming.
	AdmissionGreedy Admission = "greedy"
)

// DefaultGPUDevice is the Nomad device a `gpu = N` request asks for.
// MaxTrials bounds the trials of one experiment (grid points ×
// num_samples), so that a typo in num_samples is an error instead of
// minutes of work and gigabytes of memory.
const MaxTrials = 250_000

// MaxAllocations bounds the allocations of one trial, all groups' counts
// together: a trial is placed all or nothing, and a count of a billion is
// a mistake, not a gang.
const MaxAllocations = 1000

const DefaultGPUDevice = "nvidia/gpu"

// DefaultMemoryMiB is the memory a task gets when it asks for none; it is
// Nomad's own default for a task's resources.
const DefaultMemoryMiB = 300

// DefaultCPU is the number of cores a task gets when it asks for none, the
// same default as Ray Tune's (1 CPU, 0 GPU per trial).
const DefaultCPU = 1.0

// Experiment is one decoded experiment file.
type Experiment struct {
	Name string
	// Description is shown in plan output and in the Nomad UI.
	Description string

	Metric string
	Mode   Mode
	// NumSamples is how often the space is sampled; OpenEnded (-1) keeps
	// sampling until stop.time_budget or stop.max_trials ends the run.
	NumSamples int
	// MaxConcurrentTrials caps how many trials run at once; 0 means as many
	// as fit.
	MaxConcurrentTrials int
	Seed                uint64
	Placement           Placement
	OnUnfit             OnUnfit
	// Admission orders the start of trials that do not all fit at once.
	Admission Admission

	Space  Space
	Groups []*Group
	// Constraints apply to every group of every trial.
	Constraints []*ConstraintSpec

	Failure Failure
	Stop    Stop
	Search  Search
	// Scheduler stops trials early; nil runs every trial to its end.
	Scheduler  *Scheduler
	Nomad      Nomad
	WaitForGPU *WaitForGPU

	// Filename is the file the experiment was read from; Dir is the folder
	// local tasks run in.
	Filename string
	Dir      string
	// DefRange is the `experiment "name"` header.
	DefRange hcl.Range
	// Ranges of attributes whose values later stages may reject (for
	// example the placement, which a target may not support).
	Ranges map[string]hcl.Range

	// Context holds variables, locals and functions; per-trial evaluation
	// adds `trial` to a child of it.
	Context *hcl.EvalContext
	// Budget bounds what one evaluation builds; TrialContext refills it
	// for each trial. Nil means unbounded.
	Budget *Budget
	// Sources maps file names to their bytes, so runtime interpolations
	// (${attr.x}, ${NOMAD_ALLOC_DIR}) can be passed through to Nomad as
	// written.
	Sources map[string][]byte

	// shapes memoises resolved shapes (see PrepareShapes); nil resolves
	// every trial afresh.
	shapes *shapeMemo
}

// Failure is the retry policy for failed trials.
type Failure struct {
	// MaxFailures is how many times a failed trial is retried; -1 retries
	// without end.
	MaxFailures int
	// FailFast stops the whole experiment at the first trial failure.
	FailFast bool
	// Restarts is how often Nomad restarts a failed task in place before
	// the allocation counts as failed (the task group's restart policy).
	Restarts int
	// RetryDelay is the pause before a failed trial is tried again.
	RetryDelay time.Duration
}

// Stop holds the rules that end trials and the experiment.
type Stop struct {
	// TimeBudget ends the experiment after this long; 0 means no budget.
	TimeBudget time.Duration
	// TrialTimeout ends one trial after this long (Nomad
	// max_run_duration); 0 means no limit.
	TrialTimeout time.Duration
	// AtLeast stops a trial when a reported metric reaches or passes the
	// value from below (as Ray Tune's stop={"training_iteration": 10}).
	AtLeast map[string]float64
	// AtMost stops a trial when a reported metric reaches or passes the
	// value from above (stop when loss <= 0.01).
	AtMost map[string]float64
	// MaxTrials ends an open-ended experiment (num_samples = -1) once this
	// many trials were generated; 0 means MaxTrials, the hard ceiling.
	MaxTrials int
}

// OpenEnded is num_samples = -1: trials are generated as the run goes
// on, until the time budget or the trial cap ends it.
const OpenEnded = -1

// OpenEnded says num_samples is -1.
func (e *Experiment) OpenEnded() bool { return e.NumSamples == OpenEnded }

// EndsWhen says what ends an open-ended experiment, for plan and apply:
// "until 1h has passed or 500 trials were generated, whichever is first".
func (e *Experiment) EndsWhen() string {
	budget := e.Stop.TimeBudget
	switch {
	case budget > 0 && e.Stop.MaxTrials > 0:
		return fmt.Sprintf("until %s has passed (stop.time_budget) or %s were generated (stop.max_trials), whichever is first", ShortDuration(budget), Count(e.Stop.MaxTrials, "trial"))
	case budget > 0:
		return fmt.Sprintf("until %s has passed (stop.time_budget), at most %s", ShortDuration(budget), Count(MaxTrials, "trial"))
	default:
		return fmt.Sprintf("until %s were generated (stop.max_trials)", Count(e.Stop.MaxTrials, "trial"))
	}
}

// ShortDuration is a duration as Go writes it, without zero minutes and
// seconds: "1h", "1h30m", "90s" is "1m30s".
func ShortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// TrialCap is the most trials an open-ended experiment generates:
// stop.max_trials, or the hard ceiling.
func (e *Experiment) TrialCap() int {
	if e.Stop.MaxTrials > 0 {
		return e.Stop.MaxTrials
	}
	return MaxTrials
}

// Nomad holds the settings that only the Nomad target reads.
type Nomad struct {
	Datacenters []string
	NodePool    string
	Namespace   string
	Region      string
	// Priority of trial jobs; 0 leaves Nomad's default (50).
	Priority int
	// GPUDevice is the device name `gpu = N` asks for.
	GPUDevice string
	// CPUMHzPerCore converts fractional cores to Nomad MHz; 0 means use the
	// slowest per-core speed of the eligible nodes.
	CPUMHzPerCore int
	// Purge removes finished trial jobs from Nomad instead of leaving them
	// dead and visible.
	Purge bool
	// Meta is added to every trial job's meta.
	Meta map[string]string
	// GangTimeout is how long a multi-allocation trial may wait for all its
	// allocations before it is rolled back and requeued.
	GangTimeout time.Duration
	// UILinks are shown on each trial job in the Nomad UI.
	UILinks []UILink
}

// UILink is one link in a trial job's Nomad UI block.
type UILink struct {
	Label string
	URL   string
}

// WaitForGPU is `tune.utils.wait_for_gpu`: before a trial starts, poll the
// granted GPUs until their memory use falls to MaxUsed.
type WaitForGPU struct {
	// MaxUsed is the fraction (0..1) of GPU memory that may be in use.
	MaxUsed  float64
	Timeout  time.Duration
	Interval time.Duration
	// DefRange is the block's header, for errors about it.
	DefRange hcl.Range
}

// Group is one group of allocations of every trial: a Nomad task group with
// a count. A trial of one group of count 1 is the usual single-process
// trial.
type Group struct {
	Name     string
	DefRange hcl.Range
	// Count is a per-trial expression; nil means 1.
	Count hcl.Expression
	// Resources declared on the group apply to its only task.
	Tasks       []*Task
	Constraints []*ConstraintSpec
	// Volumes and Network are the group's volume and network blocks.
	Volumes []*VolumeSpec
	Network *NetworkSpec
}

// Task is one process of a group.
type Task struct {
	Name     string
	DefRange hcl.Range
	// Driver is the Nomad task driver (raw_exec, exec, docker, mock_driver
	// ...). The local target runs Command directly whatever the driver.
	Driver      string
	DriverRange hcl.Range
	Command     hcl.Expression
	Args        hcl.Expression
	// Env is the task's environment; each value may depend on the trial.
	Env []*Attr
	// Config is the driver's config block, passed to Nomad as written after
	// per-trial evaluation.
	Config    *ConfigBody
	Resources *ResourcesSpec
	// Leader marks the task whose exit ends its group (Nomad `leader`).
	Leader bool
	// Lifecycle makes the task a prestart, poststart or poststop task;
	// nil is a main task.
	Lifecycle *LifecycleSpec
	// The rest of Nomad's task vocabulary, each nil or empty when unset.
	User          hcl.Expression
	KillSignal    hcl.Expression
	KillTimeout   hcl.Expression
	ShutdownDelay hcl.Expression
	Logs          *LogsSpec
	Artifacts     []*ArtifactSpec
	Templates     []*TemplateSpec
	VolumeMounts  []*VolumeMountSpec
}

// Attr is one named per-trial expression.
type Attr struct {
	Name  string
	Expr  hcl.Expression
	Range hcl.Range
}

// ConfigBody is a driver config block: attributes and nested blocks.
type ConfigBody struct {
	Attrs  []*Attr
	Blocks []*ConfigBlock
}

// ConfigBlock is one nested block of a driver config.
type ConfigBlock struct {
	Type   string
	Labels []string
	Body   *ConfigBody
}

// ResourcesSpec is a task's resource request before per-trial evaluation.
// A nil expression means the attribute was not set.
type ResourcesSpec struct {
	DefRange  hcl.Range
	CPU       hcl.Expression
	Cores     hcl.Expression
	Memory    hcl.Expression
	MemoryMax hcl.Expression
	GPU       hcl.Expression
	Devices   []*DeviceSpec
}

// DeviceSpec is a `device "vendor/type[/name]"` request.
type DeviceSpec struct {
	Name        string
	DefRange    hcl.Range
	Count       hcl.Expression
	Constraints []*ConstraintSpec
}

// ConstraintSpec is a Nomad-style constraint before per-trial evaluation.
type ConstraintSpec struct {
	DefRange  hcl.Range
	Attribute hcl.Expression
	Operator  hcl.Expression
	Value     hcl.Expression
}
