package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nomad-tune/tune/driver"
	"github.com/nomad-tune/tune/experiment"
	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/trialenv"
)

var _ driver.Driver = (*Driver)(nil)

// Options configure the local driver.
type Options struct {
	// Capacity is what the user declares this machine offers (the
	// -local-* flags); New detects the rest once.
	Capacity CapacityOptions
	// Logger hears about processes starting and ending; nil is quiet.
	Logger hclog.Logger
	// KillGrace is how long a stopped task has between SIGTERM and
	// SIGKILL; 0 means DefaultKillGrace.
	KillGrace time.Duration
	// GPUPoll says what fraction of a GPU's memory is in use, for
	// wait_for_gpu; nil means GPUMemoryUsed. Tests stand in for NVML here.
	GPUPoll func(index int) (usedFraction float64, err error)
}

// DefaultKillGrace is the time between SIGTERM and SIGKILL when stopping a
// trial: long enough for a trainer to write a checkpoint, short enough
// that an early-stopped trial frees its resources promptly.
const DefaultKillGrace = 5 * time.Second

const (
	// envDeviceOrder makes CUDA number GPUs in PCI bus order, as NVML
	// does; otherwise CUDA_VISIBLE_DEVICES=1 may name another GPU than
	// the one the planner granted and wait_for_gpu measured.
	envDeviceOrder = "CUDA_DEVICE_ORDER"
	pciBusOrder    = "PCI_BUS_ID"

	// closeReason is the stop message of attempts ended by Close.
	closeReason = "stopped: the local driver is closing"
	// defaultStopReason is the stop message when Stop gives none.
	defaultStopReason = "stopped"
	// defaultGPUInterval paces wait_for_gpu when the experiment gives no
	// interval, so that a zero value cannot become a busy loop.
	defaultGPUInterval = time.Second
)

// Driver runs trials as processes on this machine. It is safe for use by
// several goroutines.
type Driver struct {
	log       hclog.Logger
	killGrace time.Duration
	gpuPoll   func(int) (float64, error)
	capacity  *planner.Capacity
	events    *driver.EventQueue

	closeOnce sync.Once

	mu       sync.Mutex
	closed   bool
	attempts map[attemptKey]*attempt
	// live counts attempts from Start until their EventExited is queued,
	// so that Close can wait for all of them.
	live sync.WaitGroup
}

type attemptKey struct {
	trialID string
	attempt int
}

// New detects this machine's capacity and returns a driver ready to start
// trials.
func New(opts Options) (*Driver, error) {
	if opts.KillGrace < 0 {
		return nil, fmt.Errorf("the kill grace period must not be negative, got %s", opts.KillGrace)
	}
	log := orNullLogger(opts.Logger)
	capOpts := opts.Capacity
	if capOpts.Logger == nil {
		capOpts.Logger = log
	}
	c, err := DetectCapacity(capOpts)
	if err != nil {
		return nil, err
	}
	d := &Driver{
		log:       log,
		killGrace: opts.KillGrace,
		gpuPoll:   opts.GPUPoll,
		capacity:  c,
		events:    driver.NewEventQueue(),
		attempts:  map[attemptKey]*attempt{},
	}
	if d.killGrace == 0 {
		d.killGrace = DefaultKillGrace
	}
	if d.gpuPoll == nil {
		d.gpuPoll = GPUMemoryUsed
	}
	return d, nil
}

// Capacity is this machine as New detected it. Trials of this driver are
// not subtracted: the controller accounts for what it runs itself.
func (d *Driver) Capacity(context.Context) (*planner.Capacity, error) {
	return d.capacity.Clone(), nil
}

// Events delivers every attempt's events. Reports wait for room in a
// bounded queue (driver.MaxQueuedReports), so a trial that reports faster
// than they are read waits on its output; other events never wait. After Close
// the channel is closed once the events queued before it are received.
func (d *Driver) Events() <-chan driver.Event {
	return d.events.Out()
}

// Start launches every process of the attempt, or none of them. With
// wait_for_gpu and GPUs granted, it returns once the wait has begun; the
// processes start when the GPUs are free, and a wait that times out ends
// the attempt with a failed EventExited.
func (d *Driver) Start(ctx context.Context, req driver.StartRequest) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if req.Experiment == nil || req.Trial == nil {
		return errors.New("local driver: a start request needs an experiment and a trial")
	}
	dir, scratch, err := taskFolders(req)
	if err != nil {
		return fmt.Errorf("trial %s attempt %d: %w", req.Trial.ID, req.Attempt, err)
	}
	tasks, err := planTasks(req, dir)
	if err == nil {
		err = writeAllTaskFiles(tasks)
	}
	if err != nil {
		if scratch {
			os.RemoveAll(dir)
		}
		return fmt.Errorf("trial %s attempt %d: %w", req.Trial.ID, req.Attempt, err)
	}
	a := newAttempt(d, req, tasks)
	if scratch {
		a.scratch = dir
	}

	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return errors.New("local driver: closed")
	}
	if _, running := d.attempts[a.key]; running {
		d.mu.Unlock()
		return fmt.Errorf("trial %s attempt %d is already running", req.Trial.ID, req.Attempt)
	}
	d.attempts[a.key] = a
	d.live.Add(1)
	d.mu.Unlock()

	if gpus := a.gpuIndices(); req.Experiment.WaitForGPU != nil && len(gpus) > 0 {
		go a.waitThenRun(req.Experiment.WaitForGPU, gpus)
		return nil
	}
	if err := a.launch(); err != nil {
		a.cancelWait()
		d.forget(a)
		d.live.Done()
		return fmt.Errorf("trial %s attempt %d: %w", req.Trial.ID, req.Attempt, err)
	}
	go a.run()
	return nil
}

// Stop ends a running attempt: SIGTERM to each of its process groups, then
// SIGKILL to those still there after the kill grace period. It returns
// without waiting; the EventExited follows. An attempt that has already
// failed, or whose processes have all exited, keeps its own outcome.
func (d *Driver) Stop(_ context.Context, trialID string, attempt int, reason string) error {
	d.mu.Lock()
	a := d.attempts[attemptKey{trialID, attempt}]
	d.mu.Unlock()
	if a == nil {
		return nil
	}
	if reason == "" {
		reason = defaultStopReason
	}
	a.stop(reason)
	return nil
}

// Close stops every attempt still running, waits until each has ended and
// queued its EventExited, and then closes the event channel (after those
// events are received). Later calls do nothing.
func (d *Driver) Close() error {
	d.closeOnce.Do(func() {
		d.events.DropReports()
		d.mu.Lock()
		d.closed = true
		running := make([]*attempt, 0, len(d.attempts))
		for _, a := range d.attempts {
			running = append(running, a)
		}
		d.mu.Unlock()
		for _, a := range running {
			a.stop(closeReason)
		}
		d.live.Wait()
		d.events.Close()
	})
	return nil
}

// forget removes an attempt that has ended, before its EventExited is
// queued, so that a controller reacting to the event finds it gone.
func (d *Driver) forget(a *attempt) {
	d.mu.Lock()
	delete(d.attempts, a.key)
	d.mu.Unlock()
}

// taskPlan is one process of an attempt: one task of one allocation.
type taskPlan struct {
	group   string
	task    string
	rank    int
	leader  bool
	command string
	args    []string
	env     []string
	// gpus are the GPU instance IDs (NVML indices) granted to the task.
	gpus []string
	// name says which process this is in messages.
	name string
	// hook is the task's lifecycle hook, "" for a main task; a sidecar
	// runs beside the main tasks and is stopped when they end.
	hook    string
	sidecar bool
	// grace is the time between SIGTERM and SIGKILL (kill_timeout); 0
	// means the driver's.
	grace time.Duration
	// files are the task's rendered templates, written under
	// allocDir/task before the attempt starts.
	files    []renderedFile
	allocDir string
}

// planTasks lists the processes of an attempt, with their environments
// and rendered templates; dir is the folder their task folders go in.
func planTasks(req driver.StartRequest, dir string) ([]*taskPlan, error) {
	e, t := req.Experiment, req.Trial
	specs, diags := e.ResolveTasks(t.Vars())
	if diags.HasErrors() {
		return nil, diags
	}
	shape := t.Shape
	if shape == nil {
		shape, diags = e.ResolveShape(t.Vars())
		if diags.HasErrors() {
			return nil, diags
		}
	}
	if len(shape.Groups) != len(specs) {
		return nil, fmt.Errorf("the trial's shape has %d groups and the experiment %d", len(shape.Groups), len(specs))
	}
	config, err := trialenv.ConfigValue(t.Params(&e.Space))
	if err != nil {
		return nil, fmt.Errorf("TUNE_CONFIG holds the parameters as JSON, and these cannot be encoded: %w", err)
	}
	_, world := trialenv.RankOffsets(shape)
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	master := trialenv.MasterEnv(loopback, port)
	base := inheritedEnv(os.Environ())
	var tasks []*taskPlan
	rank := 0
	for gi, g := range shape.Groups {
		if len(g.Tasks) != len(specs[gi]) {
			return nil, fmt.Errorf("group %q has %d tasks in the trial's shape and %d in the experiment", g.Name, len(g.Tasks), len(specs[gi]))
		}
		for i := 0; i < g.Count; i++ {
			alloc := findAlloc(req.Assignment, g.Name, i)
			for ti, spec := range specs[gi] {
				res := g.Tasks[ti]
				if spec.Command == "" {
					return nil, fmt.Errorf("task %q of group %q has no command: the local target runs a task's command and args directly, whatever its Nomad driver", spec.Name, g.Name)
				}
				var gpus []string
				if alloc != nil {
					gpus = alloc.GPUIDs(spec.Name)
				}
				if res.GPU > 0 && len(gpus) == 0 {
					// Running it would silently train on the CPU, with
					// CUDA_VISIBLE_DEVICES hiding every GPU.
					return nil, fmt.Errorf("task %q of group %q asks for gpu = %s, but the assignment grants it no GPU", spec.Name, g.Name, experiment.FormatNumber(res.GPU))
				}
				env := make([]string, 0, len(base)+len(spec.Env)+12)
				env = append(env, base...)
				if e.Dir != "" {
					// The inherited PWD names tune's folder; shells and
					// libraries that trust it would otherwise look there.
					env = append(env, "PWD="+e.Dir)
				}
				for _, v := range spec.Env {
					env = append(env, v.Name+"="+v.Value)
				}
				// Later entries win in exec.Cmd, so tune's variables, its
				// protocol with the trainable, override the task's own.
				vars := trialenv.Task{
					Experiment: e.Name,
					TrialID:    t.ID,
					TrialIndex: t.Index,
					Config:     config,
					Group:      g.Name,
					CPUs:       trialenv.CPUsValue(res),
					Attempt:    req.Attempt,
					World:      world,
				}.Env()
				vars = append(vars, trialenv.RankEnv(strconv.Itoa(rank))...)
				vars = append(vars, master...)
				vars = append(vars,
					trialenv.Var{Name: trialenv.CUDADevices, Value: strings.Join(gpus, ",")},
					trialenv.Var{Name: envDeviceOrder, Value: pciBusOrder},
				)
				plan := &taskPlan{allocDir: filepath.Join(dir, fmt.Sprintf("alloc-%d", rank))}
				if l := spec.Lifecycle; l != nil {
					plan.hook, plan.sidecar = l.Hook, l.Sidecar
				}
				if spec.KillTimeout != nil {
					plan.grace = *spec.KillTimeout
				}
				if len(spec.Templates) > 0 {
					taskDir := filepath.Join(plan.allocDir, spec.Name)
					vars = append(vars, trialenv.Var{Name: EnvTaskDir, Value: taskDir})
					// Templates see the task's environment, as Nomad's
					// env function does; what env templates set comes
					// before tune's variables, which still win.
					lookup := envLookup(env, vars)
					for _, tm := range spec.Templates {
						f, err := renderTemplate(e.Dir, tm, lookup)
						if err != nil {
							return nil, fmt.Errorf("task %q, template at %s: %w", spec.Name, tm.Range, err)
						}
						plan.files = append(plan.files, f)
						if tm.Env {
							kv, err := templateEnv(f.data)
							if err != nil {
								return nil, fmt.Errorf("task %q, template at %s: %w", spec.Name, tm.Range, err)
							}
							env = append(env, kv...)
						}
					}
				}
				for _, v := range vars {
					env = append(env, v.Name+"="+v.Value)
				}
				name := fmt.Sprintf("task %s", spec.Name)
				if world > 1 {
					name = fmt.Sprintf("task %s (rank %d)", spec.Name, rank)
				}
				plan.group, plan.task, plan.rank, plan.leader = g.Name, spec.Name, rank, spec.Leader
				plan.command, plan.args, plan.env, plan.gpus, plan.name = spec.Command, slices.Clone(spec.Args), env, gpus, name
				tasks = append(tasks, plan)
			}
			rank++
		}
	}
	return tasks, nil
}

// taskFolders is the folder tasks' folders go in: the trial's folder from
// the request, or, when there is none and a task renders templates, a
// scratch folder (scratch is true) that the attempt removes when it ends.
func taskFolders(req driver.StartRequest) (dir string, scratch bool, err error) {
	if req.Dir != "" {
		return req.Dir, false, nil
	}
	for _, g := range req.Experiment.Groups {
		for _, t := range g.Tasks {
			if len(t.Templates) > 0 {
				dir, err := os.MkdirTemp("", "tune-"+req.Trial.ID+"-")
				return dir, err == nil, err
			}
		}
	}
	return "", false, nil
}

// writeAllTaskFiles writes every task's rendered templates before any
// task starts, as Nomad renders them before a task runs.
func writeAllTaskFiles(tasks []*taskPlan) error {
	for _, t := range tasks {
		if err := writeTaskFiles(t.allocDir, t.task, t.files); err != nil {
			return fmt.Errorf("task %q: %w", t.task, err)
		}
	}
	return nil
}

// envLookup finds a variable in env (NAME=VALUE, later entries winning)
// and then vars, which win over env.
func envLookup(env []string, vars []trialenv.Var) func(string) string {
	return func(name string) string {
		for i := len(vars) - 1; i >= 0; i-- {
			if vars[i].Name == name {
				return vars[i].Value
			}
		}
		for i := len(env) - 1; i >= 0; i-- {
			if k, v, ok := strings.Cut(env[i], "="); ok && k == name {
				return v
			}
		}
		return ""
	}
}

// inheritedEnv is what a local trial inherits of tune's environment: all of
// it but the Nomad client's settings (NOMAD_TOKEN, NOMAD_HTTP_AUTH,
// NOMAD_CLIENT_KEY, ...). They are the user's credentials for a cluster,
// which a trainer has no business holding; a task that needs one passes it
// in its env block. On Nomad, a task's environment is Nomad's, so both
// targets agree.
func inheritedEnv(environ []string) []string {
	return slices.DeleteFunc(environ, func(kv string) bool { return strings.HasPrefix(kv, "NOMAD_") })
}

// findAlloc is the assignment of allocation index of group, looked up by
// name and index rather than position so that an assignment in another
// order still grants each allocation its own GPUs.
func findAlloc(a *planner.Assignment, group string, index int) *planner.AllocAssignment {
	if a == nil {
		return nil
	}
	for i := range a.Allocs {
		if a.Allocs[i].Group == group && a.Allocs[i].Index == index {
			return &a.Allocs[i]
		}
	}
	return nil
}
