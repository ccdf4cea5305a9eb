package jobs

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/nomad/api"

	"github.com/nomad-tune/tune/experiment"
	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/trialenv"
)

// Options are the inputs of a compile that are not in the experiment or
// the trial.
type Options struct {
	// MHzPerCore converts a cpu request in cores into Nomad's MHz shares
	// (cpu = 0.5 at 2400 MHz per core is 1200 MHz). It must be greater
	// than 0: the driver chooses it from the experiment's cpu_mhz_per_core
	// or from the nodes.
	MHzPerCore int64
	// Attempt counts runs of a retried trial from 0. It is written to the
	// job's meta, so that each attempt is a changed version of the job and
	// Nomad places it afresh instead of treating it as already run.
	Attempt int
}

const (
	// mergedGroupName names the one task group of a strict_pack trial.
	mergedGroupName = "trial"
	// envTemplatePath is where a task's env template is rendered; it lives
	// in the task's own local/ folder, so tasks never share it.
	envTemplatePath = "local/tune.env"

	// restartDelay is shorter than Nomad's batch default (15s): a trainer
	// that crashed at start usually crashes again, and the trial's
	// resources sit idle while Nomad waits.
	restartDelay = 5 * time.Second
	// restartInterval is as long as Nomad's batch default, so that
	// failure.restarts counts restarts over the whole trial.
	restartInterval = 24 * time.Hour
	// killTimeout gives a trainer time to write a checkpoint after SIGINT
	// while an early-stopped trial still frees its resources promptly. It
	// stays under Nomad clients' default max_kill_timeout (30s).
	killTimeout = 10 * time.Second
	// Nomad's own log defaults, written out so that `nomad job inspect`
	// shows what the trial's logs keep.
	logMaxFiles      = 10
	logMaxFileSizeMB = 10
	// spreadWeight is the spread's share of the spread score; it is the
	// only spread of the job, so the maximum says "as far as possible".
	spreadWeight = 100
)

// nvidiaDeviceEnv is how the NVIDIA device plugin names a task's GPUs.
const nvidiaDeviceEnv = "NVIDIA_VISIBLE_DEVICES"

// Compile builds the Nomad batch job of one trial, with its Spec in meta.
// The job is returned only when there are no error diagnostics; warnings
// may come with it.
func Compile(e *experiment.Experiment, t *planner.Trial, opts Options) (*api.Job, hcl.Diagnostics) {
	job, diags := compile(e, t, opts)
	if diags.HasErrors() {
		return nil, diags
	}
	base := job
	if opts.Attempt != 0 {
		// The spec is the same for every attempt: it is taken from the
		// job of attempt 0.
		first := opts
		first.Attempt = 0
		base, _ = compile(e, t, first)
	}
	spec, d := specOfTrial(e, t, base)
	diags = append(diags, d...)
	if diags.HasErrors() {
		return nil, diags
	}
	job.Meta[trialenv.MetaSpec] = spec
	return job, diags
}

// compile builds the job without its spec.
func compile(e *experiment.Experiment, t *planner.Trial, opts Options) (*api.Job, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	if opts.MHzPerCore <= 0 {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Unknown CPU speed",
			Detail:   fmt.Sprintf("Compiling trial %s needs the MHz of one CPU core to turn cpu requests into Nomad MHz; got %d. Set nomad { cpu_mhz_per_core = 2400 } or let tune read it from the nodes.", t.ID, opts.MHzPerCore),
			Subject:  e.DefRange.Ptr(),
		}}
	}
	if w := e.WaitForGPU; w != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "wait_for_gpu does not run on Nomad",
			Detail:   "wait_for_gpu polls GPUs through NVML on the machine tune runs on. On Nomad a trial's GPUs are on the node it is placed on, which tune cannot poll, and Nomad grants a GPU device to one allocation at a time, freeing it once the previous allocation's tasks have exited. Remove the block to run on Nomad, or run the experiment on this machine (without NOMAD_ADDR or -address).",
			Subject:  w.DefRange.Ptr(),
		}}
	}
	shape := t.Shape
	if shape == nil {
		var d hcl.Diagnostics
		shape, d = e.ResolveShape(t.Vars())
		diags = append(diags, d...)
	}
	// What Nomad interpolates is evaluated with the parameters escaped.
	vars, escaped := escapedVars(t.Vars())
	specs, d := e.ResolveTasks(vars)
	diags = append(diags, d...)
	groupSpecs, d := e.ResolveGroups(t.Vars())
	diags = append(diags, d...)
	if diags.HasErrors() {
		return nil, diags
	}
	if err := matchShape(shape, specs); err != nil {
		return nil, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Trial shape does not match its tasks",
			Detail:   fmt.Sprintf("Trial %s: %s.", t.ID, err),
			Subject:  e.DefRange.Ptr(),
		})
	}

	params := t.Params(&e.Space)
	config, err := trialenv.ConfigValue(params)
	if err != nil {
		return nil, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Parameters are not JSON",
			Detail:   fmt.Sprintf("Trial %s: TUNE_CONFIG holds the parameters as JSON, and these cannot be encoded: %s.", t.ID, err),
			Subject:  e.DefRange.Ptr(),
		})
	}
	c := &compiler{
		e:          e,
		t:          t,
		opts:       opts,
		shape:      shape,
		specs:      specs,
		groupSpecs: groupSpecs,
		config:     config,
		escape:     escaped || needsEscape(config),
		world:      shape.Allocs(),
		seen:       map[string]bool{},
	}
	job := c.job()
	diags = append(diags, c.diags...)
	if diags.HasErrors() {
		return nil, diags
	}
	return job, diags
}

// matchShape checks that the shape and the resolved tasks describe the same
// groups and tasks in the same order; both come from the experiment's
// groups, so a mismatch means a shape from another experiment.
func matchShape(shape *experiment.Shape, specs [][]experiment.TaskSpec) error {
	if len(shape.Groups) != len(specs) {
		return fmt.Errorf("the shape has %d groups and the experiment %d", len(shape.Groups), len(specs))
	}
	for i, g := range shape.Groups {
		if len(g.Tasks) != len(specs[i]) {
			return fmt.Errorf("group %q has %d tasks in the shape and %d in the experiment", g.Name, len(g.Tasks), len(specs[i]))
		}
		for j, task := range g.Tasks {
			if task.Task != specs[i][j].Name {
				return fmt.Errorf("group %q: task %d is %q in the shape and %q in the experiment", g.Name, j, task.Task, specs[i][j].Name)
			}
		}
	}
	return nil
}

type compiler struct {
	e     *experiment.Experiment
	t     *planner.Trial
	opts  Options
	shape *experiment.Shape
	specs [][]experiment.TaskSpec
	// groupSpecs are the groups' volumes and networks.
	groupSpecs []experiment.GroupSpec
	// config is TUNE_CONFIG: the parameters as compact JSON.
	config string
	// escape says that parameter text is escaped somewhere in the job, so
	// the job needs dollarMeta.
	escape bool
	// world is TUNE_WORLD_SIZE: the trial's allocations.
	world int
	diags hcl.Diagnostics
	// seen keeps one diagnostic per source range when a strict_pack merge
	// repeats a task.
	seen map[string]bool
}

func (c *compiler) job() *api.Job {
	id := JobID(c.e.Name, c.t.ID)
	n := c.e.Nomad
	job := &api.Job{
		ID:          new(id),
		Name:        new(id),
		Type:        new(api.JobTypeBatch),
		Datacenters: n.Datacenters,
		Meta:        c.meta(),
		UI:          c.ui(),
	}
	if n.Namespace != "" {
		job.Namespace = new(n.Namespace)
	}
	if n.Region != "" {
		job.Region = new(n.Region)
	}
	if n.NodePool != "" {
		job.NodePool = new(n.NodePool)
	}
	if n.Priority > 0 {
		job.Priority = new(n.Priority)
	}
	switch c.e.Placement {
	case experiment.PlacementStrictSpread:
		// A job-level distinct_hosts covers every allocation of every
		// group, which is what "each bundle on its own node" means.
		job.Constraints = append(job.Constraints, &api.Constraint{Operand: "distinct_hosts", RTarget: "true"})
	case experiment.PlacementSpread:
		job.Spreads = append(job.Spreads, &api.Spread{Attribute: "${node.unique.id}", Weight: new(int8(spreadWeight))})
	}
	job.TaskGroups = c.groups()
	return job
}

func (c *compiler) meta() map[string]string {
	meta := map[string]string{}
	for k, v := range c.e.Nomad.Meta {
		meta[k] = v
	}
	for i, p := range c.e.Space.Params {
		meta[trialenv.MetaParamPrefix+p.Name] = paramText(experiment.GoValue(c.t.Values[i]))
	}
	// tune's own keys are written last: the driver finds its jobs by them,
	// so user meta must not shadow them.
	if c.escape {
		meta[dollarMeta] = "$"
		meta[percentMeta] = "%"
	}
	meta[trialenv.MetaManagedBy] = trialenv.ManagedBy
	meta[trialenv.MetaExperiment] = c.e.Name
	meta[trialenv.MetaTrialID] = c.t.ID
	meta[trialenv.MetaTrialIndex] = strconv.Itoa(c.t.Index)
	meta[trialenv.MetaParams] = c.config
	meta[trialenv.MetaAttempt] = strconv.Itoa(c.opts.Attempt)
	return meta
}

// rank says how a task learns TUNE_RANK: ranks number the trial's
// allocations from 0, group after group, so a group's ranks start at the
// sum of the counts of the groups before it.
type rank struct {
	offset int
	// perAlloc is set when the group has several allocations, which
	// differ only by NOMAD_ALLOC_INDEX.
	perAlloc bool
	// portHere is set in rank 0's task group, which holds the
	// rendezvous port.
	portHere bool
}

func (c *compiler) groups() []*api.TaskGroup {
	offsets, _ := trialenv.RankOffsets(c.shape)
	if c.e.Placement == experiment.PlacementStrictPack && c.world > 1 {
		return []*api.TaskGroup{c.merged(offsets)}
	}
	out := make([]*api.TaskGroup, 0, len(c.shape.Groups))
	for gi, g := range c.shape.Groups {
		tg := c.group(g.Name, g.Count, g.Constraints)
		r := rank{offset: offsets[gi], perAlloc: g.Count > 1, portHere: gi == 0}
		tg.Volumes = volumes(c.groupSpecs[gi].Volumes)
		tg.Networks = c.groupNetworks(c.groupSpecs[gi].Network, r.portHere, gi)
		for ti, spec := range c.specs[gi] {
			tg.Tasks = append(tg.Tasks, c.task(spec.Name, spec, g.Tasks[ti], r))
		}
		out = append(out, tg)
	}
	return out
}

// merged builds the one task group of a strict_pack trial. Only a task
// group is sure to land on one node, so every allocation of every group
// becomes its own set of tasks, named "<group>-<i>-<task>", with its rank
// written out.
//
// A leader would now end every allocation's tasks, not only its own, so no
// task keeps the flag: in a group that had a leader, the leader stays a
// main task and the others become sidecars, which Nomad stops once every
// main task of the merged group has ended; a group without a leader keeps
// all its tasks as main tasks, as each had to end for its allocation to.
func (c *compiler) merged(offsets []int) *api.TaskGroup {
	var cons []experiment.Constraint
	have := map[experiment.Constraint]bool{}
	for _, g := range c.shape.Groups {
		for _, con := range g.Constraints {
			if !have[con] {
				have[con] = true
				cons = append(cons, con)
			}
		}
	}
	tg := c.group(mergedGroupName, 1, cons)
	c.mergeGroupBlocks(tg)
	for gi, g := range c.shape.Groups {
		hasLeader := false
		for _, spec := range c.specs[gi] {
			hasLeader = hasLeader || spec.Leader
		}
		for i := 0; i < g.Count; i++ {
			for ti, spec := range c.specs[gi] {
				name := fmt.Sprintf("%s-%d-%s", g.Name, i, spec.Name)
				task := c.task(name, spec, g.Tasks[ti], rank{offset: offsets[gi] + i, portHere: true})
				task.Leader = false
				if hasLeader && !spec.Leader && spec.Lifecycle == nil {
					task.Lifecycle = &api.TaskLifecycle{Hook: api.TaskLifecycleHookPrestart, Sidecar: true}
				}
				tg.Tasks = append(tg.Tasks, task)
			}
		}
	}
	return tg
}

func (c *compiler) group(name string, count int, cons []experiment.Constraint) *api.TaskGroup {
	tg := &api.TaskGroup{
		Name:        new(name),
		Count:       new(count),
		Constraints: constraints(cons),
		RestartPolicy: &api.RestartPolicy{
			Attempts:        new(c.e.Failure.Restarts),
			Interval:        new(restartInterval),
			Delay:           new(restartDelay),
			Mode:            new(api.RestartPolicyModeFail),
			RenderTemplates: new(false),
		},
		// tune retries failed trials itself (failure.max_failures), as a
		// whole gang and with a new attempt number; a Nomad reschedule
		// would rerun one allocation of the gang behind its back.
		ReschedulePolicy: &api.ReschedulePolicy{
			Attempts:  new(0),
			Unlimited: new(false),
		},
	}
	if d := c.e.Stop.TrialTimeout; d > 0 {
		tg.MaxRunDuration = new(d)
	}
	return tg
}

func constraints(cons []experiment.Constraint) []*api.Constraint {
	var out []*api.Constraint
	for _, con := range cons {
		out = append(out, &api.Constraint{LTarget: con.Attribute, Operand: con.Operator, RTarget: con.Value})
	}
	return out
}

func (c *compiler) task(name string, spec experiment.TaskSpec, res experiment.TaskResources, r rank) *api.Task {
	driver := spec.Driver
	if driver == "" {
		driver = "raw_exec"
	}
	task := &api.Task{
		Name:        name,
		Driver:      driver,
		User:        spec.User,
		Config:      taskConfig(driver, spec),
		Resources:   c.resources(res),
		Leader:      spec.Leader,
		KillTimeout: new(killTimeout),
		KillSignal:  spec.KillSignal,
		LogConfig: &api.LogConfig{
			MaxFiles:      new(logMaxFiles),
			MaxFileSizeMB: new(logMaxFileSizeMB),
			Disabled:      new(false),
		},
	}
	taskBlocks(task, spec)
	c.checkTemplates(spec)

	env := map[string]string{}
	for _, v := range spec.Env {
		env[v.Name] = v.Value
	}
	// tune's variables are its protocol with the trainable: they win over
	// a task env entry of the same name.
	base := trialenv.Task{
		Experiment: c.e.Name,
		TrialID:    c.t.ID,
		TrialIndex: c.t.Index,
		Config:     escapeText(c.config),
		Group:      spec.Group,
		CPUs:       trialenv.CPUsValue(res),
		Attempt:    c.opts.Attempt,
		World:      c.world,
	}
	setEnv(env, base.Env())

	// Nomad interpolates a task's env but cannot add to a number, and it
	// interpolates env before the device hook adds NVIDIA_VISIBLE_DEVICES;
	// a template rendered with env = true can do both, so what needs it
	// goes there, and only when it is needed.
	var tmpl []string
	switch {
	case !r.perAlloc:
		setEnv(env, trialenv.RankEnv(strconv.Itoa(r.offset)))
	case r.offset == 0:
		setEnv(env, trialenv.RankEnv("${NOMAD_ALLOC_INDEX}"))
	default:
		for _, name := range trialenv.RankNames {
			delete(env, name)
			tmpl = append(tmpl, fmt.Sprintf(`%s={{ env "NOMAD_ALLOC_INDEX" | parseInt | add %d }}`, name, r.offset))
		}
	}
	rendezvous := ""
	switch {
	case r.portHere && !r.perAlloc:
		setEnv(env, ownPort(r.offset == 0))
	case r.portHere:
		rendezvous = ownPortTemplate(c.variablePath(), c.opts.Attempt)
	default:
		rendezvous = fromVariable(c.variablePath(), c.opts.Attempt)
	}
	if rendezvous != "" {
		delete(env, trialenv.MasterAddr)
		delete(env, trialenv.MasterPort)
	}
	switch gpuKind(res, c.gpuDevice()) {
	case nvidiaGPUs:
		// The NVIDIA device plugin exposes the granted GPUs only as
		// NVIDIA_VISIBLE_DEVICES (UUIDs, which CUDA accepts); raw_exec
		// tasks see every GPU unless CUDA_VISIBLE_DEVICES narrows them.
		delete(env, trialenv.CUDADevices)
		tmpl = append(tmpl, fmt.Sprintf(`%s={{ env "%s" }}`, trialenv.CUDADevices, nvidiaDeviceEnv))
	case otherGPUs:
		// Another vendor's plugin sets its own visibility variables, and
		// ROCm also reads CUDA_VISIBLE_DEVICES: an empty one would hide
		// the GPUs the task was given.
		delete(env, trialenv.CUDADevices)
	default:
		// As in Ray Tune: a trial without GPUs must not see any.
		env[trialenv.CUDADevices] = ""
	}
	task.Env = env
	if len(tmpl) > 0 || rendezvous != "" {
		sort.Strings(tmpl)
		text := ""
		if len(tmpl) > 0 {
			text = strings.Join(tmpl, "\n") + "\n"
		}
		task.Templates = append(task.Templates, &api.Template{
			EmbeddedTmpl: new(text + rendezvous),
			DestPath:     new(envTemplatePath),
			Envvars:      new(true),
			// The values never change while the task runs: nothing to
			// watch, nothing to restart for.
			ChangeMode: new("noop"),
			// An item missing from the rendezvous variable is an earlier
			// attempt's variable: fail rather than start without rank
			// 0's address.
			ErrMissingKey: new(rendezvous != ""),
		})
	}
	return task
}

// variablePath is the trial's rendezvous variable. A job ID that cannot
// name a variable is an error once per compile, and only for trials whose
// ranks need the variable.
func (c *compiler) variablePath() string {
	id := JobID(c.e.Name, c.t.ID)
	path, ok := RendezvousPath(id)
	if !ok && !c.seen["rendezvous"] {
		c.seen["rendezvous"] = true
		c.diags = append(c.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Experiment name cannot hold a rendezvous on Nomad",
			Detail: fmt.Sprintf("Trial %s has ranks in several allocations, which find rank 0 through the Nomad Variable %q; Nomad's variable paths hold only letters, digits, '-', '_' and '~', and at most 128 characters. Rename the experiment.",
				c.t.ID, path),
			Subject: c.e.DefRange.Ptr(),
		})
	}
	return path
}

// setEnv sets vars in env, replacing what was there.
func setEnv(env map[string]string, vars []trialenv.Var) {
	for _, v := range vars {
		env[v.Name] = v.Value
	}
}

// taskConfig is the driver config. command and args are the shorthand the
// local target runs; raw_exec and exec take them in the same form, so they
// fill those drivers' config where it does not set them. Other drivers'
// configs are the user's alone: docker's command, for one, replaces the
// image's default, which the shorthand does not mean to do.
func taskConfig(driver string, spec experiment.TaskSpec) map[string]any {
	cfg := map[string]any{}
	for k, v := range spec.Config {
		cfg[k] = v
	}
	if driver != "raw_exec" && driver != "exec" {
		if spec.Config == nil {
			return nil
		}
		return cfg
	}
	if _, ok := cfg["command"]; !ok && spec.Command != "" {
		cfg["command"] = spec.Command
		if _, ok := cfg["args"]; !ok && len(spec.Args) > 0 {
			cfg["args"] = spec.Args
		}
	}
	return cfg
}

func (c *compiler) resources(res experiment.TaskResources) *api.Resources {
	out := &api.Resources{MemoryMB: new(res.MemoryMiB)}
	if res.Cores > 0 {
		out.Cores = new(res.Cores)
	} else {
		out.CPU = new(max(1, int(math.Round(res.CPU*float64(c.opts.MHzPerCore)))))
	}
	if res.MemoryMaxMiB > 0 {
		out.MemoryMaxMB = new(res.MemoryMaxMiB)
	}
	if res.GPU > 0 {
		if res.GPU != math.Trunc(res.GPU) {
			c.fractionalGPU(res)
		} else {
			out.Devices = append(out.Devices, &api.RequestedDevice{Name: c.gpuDevice(), Count: new(uint64(res.GPU))})
		}
	}
	for _, d := range res.Devices {
		out.Devices = append(out.Devices, &api.RequestedDevice{
			Name:        d.Name,
			Count:       new(uint64(d.Count)),
			Constraints: constraints(d.Constraints),
		})
	}
	return out
}

func (c *compiler) fractionalGPU(res experiment.TaskResources) {
	var subject *hcl.Range
	if res.GPURange.Filename != "" {
		subject = res.GPURange.Ptr()
	}
	key := res.Task + "@" + res.GPURange.String()
	if c.seen[key] {
		return
	}
	c.seen[key] = true
	c.diags = append(c.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Fractional GPU on Nomad",
		Detail: fmt.Sprintf("Nomad devices are whole; gpu = %s cannot run on Nomad (trial %s, task %q). Ask for whole GPUs, or run the experiment on the local target, which shares GPUs between trials.",
			experiment.FormatNumber(res.GPU), c.t.ID, res.Task),
		Subject: subject,
	})
}

type gpus int

const (
	noGPUs gpus = iota
	nvidiaGPUs
	otherGPUs
)

// gpuKind says whether the task is granted GPUs, by gpu = N or by a device
// request of type gpu ("gpu", "nvidia/gpu", "nvidia/gpu/A100"), and whether
// they can be NVIDIA's: a request without a vendor may be granted any.
func gpuKind(res experiment.TaskResources, gpuDevice string) gpus {
	var names []string
	if res.GPU > 0 {
		names = append(names, gpuDevice)
	}
	for _, d := range res.Devices {
		if d.Count > 0 {
			names = append(names, d.Name)
		}
	}
	kind := noGPUs
	for _, name := range names {
		parts := strings.Split(name, "/")
		switch {
		case len(parts) == 1 && parts[0] == "gpu", len(parts) > 1 && parts[1] == "gpu" && parts[0] == "nvidia":
			return nvidiaGPUs
		case len(parts) > 1 && parts[1] == "gpu":
			kind = otherGPUs
		}
	}
	return kind
}

func (c *compiler) gpuDevice() string {
	if c.e.Nomad.GPUDevice != "" {
		return c.e.Nomad.GPUDevice
	}
	return experiment.DefaultGPUDevice
}

// paramText is one parameter as text: a string as it is, anything else as
// JSON (full precision, unlike the rounded numbers of plan output).
func paramText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	// Compile has already encoded every parameter in TUNE_CONFIG, so this
	// cannot fail for a value that reaches it.
	text, _ := trialenv.ConfigValue(v)
	return text
}
