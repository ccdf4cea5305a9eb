package hcl

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/nomad-tune/tune/experiment"
)

var experimentSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "description"},
		{Name: "metric"},
		{Name: "mode"},
		{Name: "num_samples"},
		{Name: "max_concurrent_trials"},
		{Name: "seed"},
		{Name: "placement"},
		{Name: "on_unfit"},
		{Name: "admission"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "space"},
		{Type: "resources"},
		{Type: "task", LabelNames: []string{"name"}},
		{Type: "group", LabelNames: []string{"name"}},
		{Type: "constraint"},
		{Type: "failure"},
		{Type: "stop"},
		{Type: "search", LabelNames: []string{"algorithm"}},
		{Type: "nomad"},
		{Type: "wait_for_gpu"},
		{Type: "scheduler", LabelNames: []string{"kind"}},
		{Type: "volume", LabelNames: []string{"name"}},
		{Type: "network"},
	},
}

var groupSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "count"}},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "resources"},
		{Type: "task", LabelNames: []string{"name"}},
		{Type: "constraint"},
		{Type: "volume", LabelNames: []string{"name"}},
		{Type: "network"},
	},
}

var taskSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "driver"},
		{Name: "command"},
		{Name: "args"},
		{Name: "leader"},
		{Name: "user"},
		{Name: "kill_signal"},
		{Name: "kill_timeout"},
		{Name: "shutdown_delay"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "env"},
		{Type: "config"},
		{Type: "resources"},
		{Type: "artifact"},
		{Type: "template"},
		{Type: "volume_mount"},
		{Type: "lifecycle"},
		{Type: "logs"},
	},
}

// Blocks of which a task may have several.
var repeatedTaskBlocks = map[string]bool{"artifact": true, "template": true, "volume_mount": true}

var artifactSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "source"}, {Name: "destination"}, {Name: "mode"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "options"}, {Type: "headers"}},
}

var templateSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "data"}, {Name: "source"}, {Name: "destination"}, {Name: "env"},
		{Name: "change_mode"}, {Name: "change_signal"}, {Name: "perms"},
		{Name: "left_delimiter"}, {Name: "right_delimiter"},
	},
}

var volumeMountSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "volume", Required: true}, {Name: "destination"}, {Name: "read_only"}},
}

var lifecycleSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "hook", Required: true}, {Name: "sidecar"}},
}

var logsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "max_files"}, {Name: "max_file_size"}},
}

var volumeSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"}, {Name: "source"}, {Name: "read_only"},
		{Name: "access_mode"}, {Name: "attachment_mode"}, {Name: "per_alloc"},
	},
}

var networkSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "mode"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "port", LabelNames: []string{"label"}}},
}

var portSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "static"}, {Name: "to"}},
}

var resourcesSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "cpu"},
		{Name: "cores"},
		{Name: "memory"},
		{Name: "memory_max"},
		{Name: "gpu"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "device", LabelNames: []string{"name"}}},
}

var deviceSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "count"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "constraint"}},
}

var constraintSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "attribute"}, {Name: "operator"}, {Name: "value"}},
}

var failureSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "max_failures"}, {Name: "fail_fast"}, {Name: "restarts"}, {Name: "retry_delay"}},
}

var stopSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "time_budget"}, {Name: "trial_timeout"}, {Name: "at_least"}, {Name: "at_most"}, {Name: "max_trials"}},
}

var nomadSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "datacenters"},
		{Name: "node_pool"},
		{Name: "namespace"},
		{Name: "region"},
		{Name: "priority"},
		{Name: "gpu_device"},
		{Name: "cpu_mhz_per_core"},
		{Name: "purge"},
		{Name: "meta"},
		{Name: "gang_timeout"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "ui_link"}},
}

var uiLinkSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "label", Required: true}, {Name: "url", Required: true}},
}

var waitForGPUSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "max_used"}, {Name: "timeout"}, {Name: "interval"}},
}

// experimentName keeps names usable in Nomad job IDs, file names and
// filters.
var experimentName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$`)

// deviceName allows spaces in the model part: NVIDIA names its models
// "NVIDIA H100 80GB HBM3", and Nomad matches on that name.
var deviceName = regexp.MustCompile(`^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+(/[A-Za-z0-9_.() -]*[A-Za-z0-9_.()-])?)?$`)

// Defaults that are not Nomad's or Ray Tune's own.
const (
	defaultGangTimeout = 2 * time.Minute
	defaultGPUMaxUsed  = 0.01
	defaultGPUTimeout  = 100 * time.Second
	defaultGPUInterval = 5 * time.Second
)

// decoder decodes one experiment block.
type decoder struct {
	static
	// perTrial collects every expression that is evaluated per trial, to
	// check its references to trial.<name> once the space is known.
	perTrial []hcl.Expression
	// maxTrials is stop's max_trials, checked against num_samples.
	maxTrials *hcl.Attribute
}

func (l *loader) decodeExperiment(block *hcl.Block, ctx *hcl.EvalContext) (*experiment.Experiment, hcl.Diagnostics) {
	d := &decoder{static: static{ctx: ctx, budget: l.budget}}
	exp := &experiment.Experiment{
		Name:       block.Labels[0],
		DefRange:   block.DefRange,
		NumSamples: 1,
		Placement:  experiment.PlacementPack,
		OnUnfit:    experiment.OnUnfitWait,
		Admission:  experiment.AdmissionReserve,
		Ranges:     map[string]hcl.Range{},
		Nomad:      experiment.Nomad{GPUDevice: experiment.DefaultGPUDevice, GangTimeout: defaultGangTimeout},
	}
	if !experimentName.MatchString(exp.Name) {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid experiment name",
			Detail:   "An experiment name starts with a letter or digit and holds only letters, digits, '_', '.' and '-' (at most 80): it names Nomad jobs and the results folder.",
			Subject:  block.LabelRanges[0].Ptr(),
		})
	}
	content, diags := block.Body.Content(experimentSchema)
	d.diags = append(d.diags, diags...)
	attrs := content.Attributes

	if a, ok := attrs["description"]; ok {
		exp.Description, _ = d.str(a)
	}
	if a, ok := attrs["metric"]; ok {
		if m, ok := d.str(a); ok {
			if m == "" {
				d.fail(a, "Invalid value for metric", "metric must name a reported metric such as \"loss\".")
			}
			exp.Metric = m
		}
	}
	if a, ok := attrs["mode"]; ok {
		m, _ := d.enum(a, "min", "max")
		exp.Mode = experiment.Mode(m)
		if _, hasMetric := attrs["metric"]; !hasMetric {
			d.diags = append(d.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Missing metric",
				Detail:   "mode says whether a lower or higher metric is better, but no metric is named: add metric = \"loss\" (or the name your trials report).",
				Subject:  a.Range.Ptr(),
			})
		}
	}
	if a, ok := attrs["metric"]; ok {
		if _, hasMode := attrs["mode"]; !hasMode {
			d.diags = append(d.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Missing mode",
				Detail:   "A metric needs a mode: add mode = \"min\" if lower is better, or mode = \"max\" if higher is better.",
				Subject:  a.Range.Ptr(),
			})
		}
	}
	if a, ok := attrs["num_samples"]; ok {
		if n, ok := d.number(a); ok && n == experiment.OpenEnded {
			exp.NumSamples = experiment.OpenEnded
		} else if ok {
			if n, ok := d.integer(a, 1, experiment.MaxTrials); ok {
				exp.NumSamples = int(n)
			}
		}
	}
	if a, ok := attrs["max_concurrent_trials"]; ok {
		if n, ok := d.integer(a, 0, math.MaxInt32); ok {
			exp.MaxConcurrentTrials = int(n)
		}
	}
	if a, ok := attrs["seed"]; ok {
		if n, ok := d.integer(a, 0, math.MaxInt64); ok {
			exp.Seed = uint64(n)
		}
	}
	if a, ok := attrs["placement"]; ok {
		p, _ := d.enum(a, "pack", "spread", "strict_pack", "strict_spread")
		if p != "" {
			exp.Placement = experiment.Placement(p)
		}
		exp.Ranges["placement"] = a.Range
	}
	if a, ok := attrs["on_unfit"]; ok {
		v, _ := d.enum(a, "wait", "queue")
		if v != "" {
			exp.OnUnfit = experiment.OnUnfit(v)
		}
		exp.Ranges["on_unfit"] = a.Range
	}
	if a, ok := attrs["admission"]; ok {
		if v, _ := d.enum(a, "reserve", "greedy"); v != "" {
			exp.Admission = experiment.Admission(v)
		}
	}

	blocks := map[string][]*hcl.Block{}
	for _, b := range content.Blocks {
		blocks[b.Type] = append(blocks[b.Type], b)
	}
	for _, single := range []string{"space", "resources", "failure", "stop", "search", "nomad", "wait_for_gpu", "network"} {
		for _, b := range blocks[single][min(1, len(blocks[single])):] {
			d.diags = append(d.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate " + single + " block",
				Detail:   fmt.Sprintf("An experiment has at most one %s block; the first is at %s.", single, blocks[single][0].DefRange),
				Subject:  b.DefRange.Ptr(),
			})
		}
	}

	if bs := blocks["space"]; len(bs) > 0 {
		space, diags := decodeSpace(bs[0], ctx)
		d.diags = append(d.diags, diags...)
		exp.Space = space
	}
	for _, b := range blocks["constraint"] {
		exp.Constraints = append(exp.Constraints, d.constraint(b))
	}

	// Trials are either groups, or the shorthand of one group of one task
	// written at the top level.
	shorthand := append(append([]*hcl.Block{}, blocks["resources"]...), blocks["task"]...)
	switch {
	case len(blocks["group"]) > 0 && len(shorthand) > 0:
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Groups and top-level tasks together",
			Detail:   fmt.Sprintf("Write either group blocks, or the shorthand of top-level resources and task blocks for a one-group trial, not both. The first group is at %s.", blocks["group"][0].DefRange),
			Subject:  shorthand[0].DefRange.Ptr(),
		})
	case len(blocks["group"]) > 0:
		for _, t := range []string{"volume", "network"} {
			if bs := blocks[t]; len(bs) > 0 {
				d.diags = append(d.diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "A " + t + " block outside a group",
					Detail:   fmt.Sprintf("With group blocks, a %s block belongs inside the group whose tasks use it; at the top level it is the shorthand of a one-group trial.", t),
					Subject:  bs[0].DefRange.Ptr(),
				})
			}
		}
		seen := map[string]*hcl.Block{}
		for _, b := range blocks["group"] {
			name := b.Labels[0]
			if first, ok := seen[name]; ok {
				d.diags = append(d.diags, duplicate("group", name, b.DefRange, first.DefRange))
				continue
			}
			seen[name] = b
			if g := d.group(b); g != nil {
				exp.Groups = append(exp.Groups, g)
			}
		}
	default:
		g := &experiment.Group{Name: "trial", DefRange: block.DefRange}
		d.groupBlocks(g, blocks["volume"], blocks["network"])
		var res *experiment.ResourcesSpec
		if rs := blocks["resources"]; len(rs) > 0 {
			res = d.resources(rs[0])
		}
		d.tasks(g, blocks["task"], res, blocks["resources"], block.DefRange)
		exp.Groups = append(exp.Groups, g)
	}

	if bs := blocks["failure"]; len(bs) > 0 {
		exp.Failure = d.failure(bs[0])
	}
	if bs := blocks["stop"]; len(bs) > 0 {
		exp.Stop = d.stop(bs[0])
	}
	exp.Scheduler = d.scheduler(blocks["scheduler"], exp)
	d.checkOpenEnded(exp, attrs["num_samples"], blocks["stop"])
	_, hasMetric := attrs["metric"]
	exp.Search = d.search(blocks["search"], &exp.Space, hasMetric)
	if bs := blocks["nomad"]; len(bs) > 0 {
		d.nomad(bs[0], &exp.Nomad)
	}
	if bs := blocks["wait_for_gpu"]; len(bs) > 0 {
		exp.WaitForGPU = d.waitForGPU(bs[0])
	}

	d.checkTrialRefs(&exp.Space)
	return exp, d.diags
}

func (d *decoder) trialExpr(expr hcl.Expression) hcl.Expression {
	d.perTrial = append(d.perTrial, expr)
	return expr
}

// checkTrialRefs finds references to parameters the space does not
// define; without it they would surface as a less helpful "unsupported
// attribute" on every trial.
func (d *decoder) checkTrialRefs(space *experiment.Space) {
	known := append(space.Names(), "id", "index")
	for _, expr := range d.perTrial {
		for _, tr := range expr.Variables() {
			if tr.RootName() != "trial" || len(tr) < 2 {
				continue
			}
			var name string
			switch step := tr[1].(type) {
			case hcl.TraverseAttr:
				name = step.Name
			case hcl.TraverseIndex:
				if step.Key.Type().FriendlyName() == "string" {
					name = step.Key.AsString()
				}
			}
			if name == "" || space.Lookup(name) != nil || name == "id" || name == "index" {
				continue
			}
			detail := fmt.Sprintf("trial.%s is not a parameter of this experiment%s.", name, suggest(name, known))
			if len(space.Params) == 0 {
				detail += " The experiment has no space block, so only trial.id and trial.index exist."
			} else {
				detail += " Parameters: " + strings.Join(space.Names(), ", ") + "; and trial.id, trial.index."
			}
			d.diags = append(d.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Reference to undefined parameter",
				Detail:   detail,
				Subject:  tr.SourceRange().Ptr(),
			})
		}
	}
}

func (d *decoder) group(b *hcl.Block) *experiment.Group {
	g := &experiment.Group{Name: b.Labels[0], DefRange: b.DefRange}
	if !hclsyntax.ValidIdentifier(g.Name) {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid group name",
			Detail:   "A group name starts with a letter and holds only letters, digits, '_' and '-': it names a Nomad task group.",
			Subject:  b.LabelRanges[0].Ptr(),
		})
	}
	content, diags := b.Body.Content(groupSchema)
	d.diags = append(d.diags, diags...)
	if a, ok := content.Attributes["count"]; ok {
		g.Count = d.trialExpr(a.Expr)
	}
	var resBlocks, taskBlocks, volumeBlocks, networkBlocks []*hcl.Block
	for _, cb := range content.Blocks {
		switch cb.Type {
		case "resources":
			resBlocks = append(resBlocks, cb)
		case "task":
			taskBlocks = append(taskBlocks, cb)
		case "constraint":
			g.Constraints = append(g.Constraints, d.constraint(cb))
		case "volume":
			volumeBlocks = append(volumeBlocks, cb)
		case "network":
			networkBlocks = append(networkBlocks, cb)
		}
	}
	for _, nb := range networkBlocks[min(1, len(networkBlocks)):] {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Duplicate network block",
			Detail:   fmt.Sprintf("A group has at most one network block; the first is at %s.", networkBlocks[0].DefRange),
			Subject:  nb.DefRange.Ptr(),
		})
	}
	d.groupBlocks(g, volumeBlocks, networkBlocks)
	for _, rb := range resBlocks[min(1, len(resBlocks)):] {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Duplicate resources block",
			Detail:   fmt.Sprintf("A group has at most one resources block; the first is at %s.", resBlocks[0].DefRange),
			Subject:  rb.DefRange.Ptr(),
		})
	}
	var res *experiment.ResourcesSpec
	if len(resBlocks) > 0 {
		res = d.resources(resBlocks[0])
	}
	d.tasks(g, taskBlocks, res, resBlocks, b.DefRange)
	return g
}

// tasks decodes a group's tasks; shared are resources written beside them
// (on the group, or at the top level), which belong to the only task.
func (d *decoder) tasks(g *experiment.Group, blocks []*hcl.Block, shared *experiment.ResourcesSpec, sharedBlocks []*hcl.Block, where hcl.Range) {
	if len(blocks) == 0 {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing task",
			Detail:   `Every trial runs at least one task: add a block such as task "train" { command = "python3"  args = ["train.py"] }.`,
			Subject:  where.Ptr(),
		})
		return
	}
	seen := map[string]*hcl.Block{}
	for _, b := range blocks {
		name := b.Labels[0]
		if first, ok := seen[name]; ok {
			d.diags = append(d.diags, duplicate("task", name, b.DefRange, first.DefRange))
			continue
		}
		seen[name] = b
		g.Tasks = append(g.Tasks, d.task(b))
	}
	d.checkTasks(g, where)
	if shared == nil {
		return
	}
	// Lifecycle tasks (a prestart step, a sidecar) run around the one that
	// trains: resources written beside them are the main task's.
	var owner *experiment.Task
	mains := 0
	for _, t := range g.Tasks {
		if t.Lifecycle == nil {
			owner = t
			mains++
		}
	}
	if len(g.Tasks) == 1 {
		owner = g.Tasks[0]
	}
	if owner == nil || mains > 1 {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Resources for several tasks",
			Detail:   fmt.Sprintf("These resources are written beside %d tasks, so it is not clear whose they are: put a resources block inside each task instead.", len(g.Tasks)),
			Subject:  sharedBlocks[0].DefRange.Ptr(),
		})
		return
	}
	if owner.Resources != nil {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Two resources blocks for one task",
			Detail:   fmt.Sprintf("Task %q has its own resources block at %s; remove one of the two.", owner.Name, owner.Resources.DefRange),
			Subject:  sharedBlocks[0].DefRange.Ptr(),
		})
		return
	}
	owner.Resources = shared
}

func (d *decoder) task(b *hcl.Block) *experiment.Task {
	t := &experiment.Task{Name: b.Labels[0], DefRange: b.DefRange, Driver: "raw_exec", DriverRange: b.DefRange}
	if !hclsyntax.ValidIdentifier(t.Name) {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid task name",
			Detail:   "A task name starts with a letter and holds only letters, digits, '_' and '-'.",
			Subject:  b.LabelRanges[0].Ptr(),
		})
	}
	content, diags := b.Body.Content(taskSchema)
	d.diags = append(d.diags, diags...)
	if a, ok := content.Attributes["driver"]; ok {
		if v, ok := d.str(a); ok {
			if v == "" {
				d.fail(a, "Invalid value for driver", "driver names a Nomad task driver such as \"raw_exec\", \"exec\" or \"docker\".")
			} else {
				t.Driver = v
			}
		}
		t.DriverRange = a.Expr.Range()
	}
	if a, ok := content.Attributes["command"]; ok {
		t.Command = d.trialExpr(a.Expr)
	}
	if a, ok := content.Attributes["args"]; ok {
		t.Args = d.trialExpr(a.Expr)
	}
	if a, ok := content.Attributes["leader"]; ok {
		t.Leader, _ = d.boolean(a)
	}
	for name, dst := range map[string]*hcl.Expression{"user": &t.User, "kill_signal": &t.KillSignal, "kill_timeout": &t.KillTimeout, "shutdown_delay": &t.ShutdownDelay} {
		if a, ok := content.Attributes[name]; ok {
			*dst = d.trialExpr(a.Expr)
		}
	}
	counts := map[string]int{}
	for _, cb := range content.Blocks {
		counts[cb.Type]++
		if counts[cb.Type] > 1 && !repeatedTaskBlocks[cb.Type] {
			d.diags = append(d.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate " + cb.Type + " block",
				Detail:   fmt.Sprintf("A task has at most one %s block.", cb.Type),
				Subject:  cb.DefRange.Ptr(),
			})
			continue
		}
		switch cb.Type {
		case "env":
			attrs, diags := cb.Body.JustAttributes()
			d.diags = append(d.diags, diags...)
			for _, a := range sortedAttributes(attrs) {
				t.Env = append(t.Env, &experiment.Attr{Name: a.Name, Expr: d.trialExpr(a.Expr), Range: a.Range})
			}
		case "config":
			t.Config = d.config(cb.Body)
		case "resources":
			t.Resources = d.resources(cb)
		case "artifact":
			t.Artifacts = append(t.Artifacts, d.artifact(cb))
		case "template":
			t.Templates = append(t.Templates, d.template(cb))
		case "volume_mount":
			t.VolumeMounts = append(t.VolumeMounts, d.volumeMount(cb))
		case "lifecycle":
			t.Lifecycle = d.lifecycle(cb)
		case "logs":
			t.Logs = d.logs(cb)
		}
	}
	_, hasConfigCommand := configAttr(t.Config, "command")
	if t.Command == nil && !hasConfigCommand && (t.Driver == "raw_exec" || t.Driver == "exec") {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing command",
			Detail:   fmt.Sprintf("Task %q has nothing to run: set command (and args), or a config block for its driver.", t.Name),
			Subject:  b.DefRange.Ptr(),
		})
	}
	return t
}

func configAttr(c *experiment.ConfigBody, name string) (*experiment.Attr, bool) {
	if c == nil {
		return nil, false
	}
	for _, a := range c.Attrs {
		if a.Name == name {
			return a, true
		}
	}
	return nil, false
}

// config keeps a driver config block as written: its schema is the
// driver's, which only Nomad knows.
func (d *decoder) config(body hcl.Body) *experiment.ConfigBody {
	out := &experiment.ConfigBody{}
	sb, ok := body.(*hclsyntax.Body)
	if !ok {
		// HCL JSON has no way to tell blocks from objects without a schema:
		// every property is an attribute.
		attrs, diags := body.JustAttributes()
		d.diags = append(d.diags, diags...)
		for _, a := range sortedAttributes(attrs) {
			out.Attrs = append(out.Attrs, &experiment.Attr{Name: a.Name, Expr: d.trialExpr(a.Expr), Range: a.Range})
		}
		return out
	}
	attrs := hcl.Attributes{}
	for name, a := range sb.Attributes {
		attrs[name] = a.AsHCLAttribute()
	}
	for _, a := range sortedAttributes(attrs) {
		out.Attrs = append(out.Attrs, &experiment.Attr{Name: a.Name, Expr: d.trialExpr(a.Expr), Range: a.Range})
	}
	for _, b := range sb.Blocks {
		out.Blocks = append(out.Blocks, &experiment.ConfigBlock{Type: b.Type, Labels: b.Labels, Body: d.config(b.Body)})
	}
	return out
}

func (d *decoder) resources(b *hcl.Block) *experiment.ResourcesSpec {
	r := &experiment.ResourcesSpec{DefRange: b.DefRange}
	content, diags := b.Body.Content(resourcesSchema)
	d.diags = append(d.diags, diags...)
	get := func(name string) hcl.Expression {
		if a, ok := content.Attributes[name]; ok {
			return d.trialExpr(a.Expr)
		}
		return nil
	}
	r.CPU, r.Cores, r.Memory, r.MemoryMax, r.GPU = get("cpu"), get("cores"), get("memory"), get("memory_max"), get("gpu")
	if r.CPU != nil && r.Cores != nil {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Both cpu and cores",
			Detail:   "Ask for cpu (cores that may be fractional, shared with other tasks) or cores (whole cores reserved for this task), not both.",
			Subject:  content.Attributes["cores"].Range.Ptr(),
		})
	}
	seen := map[string]*hcl.Block{}
	for _, db := range content.Blocks {
		name := db.Labels[0]
		if first, ok := seen[name]; ok {
			d.diags = append(d.diags, duplicate("device request", name, db.DefRange, first.DefRange))
			continue
		}
		seen[name] = db
		if !deviceName.MatchString(name) {
			d.diags = append(d.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid device name",
				Detail:   fmt.Sprintf("%q is not a device name: use \"type\", \"vendor/type\" or \"vendor/type/model\", such as \"nvidia/gpu\".", name),
				Subject:  db.LabelRanges[0].Ptr(),
			})
			continue
		}
		dev := &experiment.DeviceSpec{Name: name, DefRange: db.DefRange}
		dc, diags := db.Body.Content(deviceSchema)
		d.diags = append(d.diags, diags...)
		if a, ok := dc.Attributes["count"]; ok {
			dev.Count = d.trialExpr(a.Expr)
		}
		for _, cb := range dc.Blocks {
			dev.Constraints = append(dev.Constraints, d.constraint(cb))
		}
		r.Devices = append(r.Devices, dev)
	}
	return r
}

func (d *decoder) constraint(b *hcl.Block) *experiment.ConstraintSpec {
	c := &experiment.ConstraintSpec{DefRange: b.DefRange}
	content, diags := b.Body.Content(constraintSchema)
	d.diags = append(d.diags, diags...)
	if a, ok := content.Attributes["attribute"]; ok {
		c.Attribute = d.trialExpr(a.Expr)
	}
	if a, ok := content.Attributes["operator"]; ok {
		c.Operator = d.trialExpr(a.Expr)
	}
	if a, ok := content.Attributes["value"]; ok {
		c.Value = d.trialExpr(a.Expr)
	}
	if c.Attribute == nil && c.Operator == nil {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Empty constraint",
			Detail:   `A constraint needs an attribute (such as "${attr.cpu.arch}") and a value, or an operator such as "distinct_hosts".`,
			Subject:  b.DefRange.Ptr(),
		})
	}
	return c
}

func (d *decoder) failure(b *hcl.Block) experiment.Failure {
	var f experiment.Failure
	content, diags := b.Body.Content(failureSchema)
	d.diags = append(d.diags, diags...)
	if a, ok := content.Attributes["max_failures"]; ok {
		if n, ok := d.integer(a, -1, math.MaxInt32); ok {
			f.MaxFailures = int(n)
		}
	}
	if a, ok := content.Attributes["fail_fast"]; ok {
		f.FailFast, _ = d.boolean(a)
	}
	if a, ok := content.Attributes["restarts"]; ok {
		if n, ok := d.integer(a, 0, 100); ok {
			f.Restarts = int(n)
		}
	}
	if a, ok := content.Attributes["retry_delay"]; ok {
		f.RetryDelay, _ = d.duration(a)
	}
	return f
}

func (d *decoder) stop(b *hcl.Block) experiment.Stop {
	var s experiment.Stop
	content, diags := b.Body.Content(stopSchema)
	d.diags = append(d.diags, diags...)
	if a, ok := content.Attributes["time_budget"]; ok {
		s.TimeBudget, _ = d.duration(a)
	}
	if a, ok := content.Attributes["trial_timeout"]; ok {
		s.TrialTimeout, _ = d.duration(a)
	}
	if a, ok := content.Attributes["at_least"]; ok {
		s.AtLeast, _ = d.numberMap(a)
	}
	if a, ok := content.Attributes["at_most"]; ok {
		s.AtMost, _ = d.numberMap(a)
	}
	if a, ok := content.Attributes["max_trials"]; ok {
		if n, ok := d.integer(a, 1, experiment.MaxTrials); ok {
			s.MaxTrials = int(n)
		}
		d.maxTrials = a
	}
	return s
}

// checkOpenEnded checks what num_samples = -1 needs: something that ends
// the run, and no scheduler that must know the trial count up front. A
// trial cap is only for open-ended runs: with a count, it is the count.
func (d *decoder) checkOpenEnded(exp *experiment.Experiment, samples *hcl.Attribute, stop []*hcl.Block) {
	if !exp.OpenEnded() {
		if a := d.maxTrials; a != nil {
			d.fail(a, "max_trials without num_samples = -1", "max_trials ends an open-ended experiment (num_samples = -1); this one runs num_samples = %d times the grid, so remove max_trials or set num_samples = -1.", exp.NumSamples)
		}
		return
	}
	if exp.Stop.TimeBudget <= 0 && d.maxTrials == nil {
		where := samples.Range
		detail := "num_samples = -1 keeps starting trials until something ends the run: add stop { time_budget = \"2h\" } or stop { max_trials = 500 } (or both)."
		if len(stop) > 0 {
			where = stop[0].DefRange
		}
		d.diags = append(d.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Open-ended experiment that never ends", Detail: detail, Subject: where.Ptr()})
	}
	if s := exp.Scheduler; s != nil && s.Kind == experiment.SchedulerHyperBand {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "HyperBand needs a trial count",
			Detail:   "The hyperband scheduler divides a known number of trials into brackets, and num_samples = -1 has none: use scheduler \"asha\" (asynchronous, any number of trials) or set num_samples.",
			Subject:  s.DefRange.Ptr(),
		})
	}
}

func (d *decoder) nomad(b *hcl.Block, n *experiment.Nomad) {
	content, diags := b.Body.Content(nomadSchema)
	d.diags = append(d.diags, diags...)
	attrs := content.Attributes
	if a, ok := attrs["datacenters"]; ok {
		if dcs, ok := d.stringList(a); ok {
			if len(dcs) == 0 {
				d.fail(a, "Invalid value for datacenters", "datacenters must name at least one datacenter (\"*\" means all).")
			}
			n.Datacenters = dcs
		}
	}
	for name, dst := range map[string]*string{"node_pool": &n.NodePool, "namespace": &n.Namespace, "region": &n.Region} {
		if a, ok := attrs[name]; ok {
			*dst, _ = d.str(a)
		}
	}
	if a, ok := attrs["priority"]; ok {
		if p, ok := d.integer(a, 1, 100); ok {
			n.Priority = int(p)
		}
	}
	if a, ok := attrs["gpu_device"]; ok {
		if v, ok := d.str(a); ok {
			if !deviceName.MatchString(v) {
				d.fail(a, "Invalid value for gpu_device", "%q is not a device name: use \"type\", \"vendor/type\" or \"vendor/type/model\", such as \"nvidia/gpu\".", v)
			} else {
				n.GPUDevice = v
			}
		}
	}
	if a, ok := attrs["cpu_mhz_per_core"]; ok {
		if v, ok := d.integer(a, 1, 1_000_000); ok {
			n.CPUMHzPerCore = int(v)
		}
	}
	if a, ok := attrs["purge"]; ok {
		n.Purge, _ = d.boolean(a)
	}
	if a, ok := attrs["meta"]; ok {
		n.Meta, _ = d.stringMap(a)
	}
	if a, ok := attrs["gang_timeout"]; ok {
		if v, ok := d.duration(a); ok {
			n.GangTimeout = v
		}
	}
	for _, lb := range content.Blocks {
		lc, diags := lb.Body.Content(uiLinkSchema)
		d.diags = append(d.diags, diags...)
		var link experiment.UILink
		if a, ok := lc.Attributes["label"]; ok {
			link.Label, _ = d.str(a)
		}
		if a, ok := lc.Attributes["url"]; ok {
			link.URL, _ = d.str(a)
		}
		n.UILinks = append(n.UILinks, link)
	}
}

func (d *decoder) waitForGPU(b *hcl.Block) *experiment.WaitForGPU {
	w := &experiment.WaitForGPU{MaxUsed: defaultGPUMaxUsed, Timeout: defaultGPUTimeout, Interval: defaultGPUInterval, DefRange: b.DefRange}
	content, diags := b.Body.Content(waitForGPUSchema)
	d.diags = append(d.diags, diags...)
	if a, ok := content.Attributes["max_used"]; ok {
		if f, ok := d.number(a); ok {
			if f < 0 || f > 1 {
				d.fail(a, "Invalid value for max_used", "max_used is the fraction of GPU memory that may still be in use, between 0 and 1; got %s.", experiment.FormatNumber(f))
			} else {
				w.MaxUsed = f
			}
		}
	}
	if a, ok := content.Attributes["timeout"]; ok {
		if v, ok := d.duration(a); ok {
			w.Timeout = v
		}
	}
	if a, ok := content.Attributes["interval"]; ok {
		if v, ok := d.duration(a); ok {
			w.Interval = v
		}
	}
	return w
}
