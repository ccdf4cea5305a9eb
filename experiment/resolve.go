package experiment

import (
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/gocty"
)

// ResolveShape evaluates the trial's resource template: group counts,
// resources and constraints. With a trial of unknown values (UnknownTrial)
// it reports every error that does not depend on the values and fills
// unknowns with defaults.
//
// Trials whose values agree on every parameter the template reads share
// one *Shape (see PrepareShapes): callers must not modify it.
func (e *Experiment) ResolveShape(tv TrialVars) (*Shape, hcl.Diagnostics) {
	m := e.shapes
	if m == nil || tv.ID == "" {
		return e.resolveShape(tv)
	}
	key := m.key(tv.Values)
	m.mu.Lock()
	hit, ok := m.cache[key]
	m.mu.Unlock()
	if ok {
		return hit.shape, hit.diags
	}
	shape, diags := e.resolveShape(tv)
	m.mu.Lock()
	if len(m.cache) < maxShapeMemo {
		m.cache[key] = memoShape{shape, diags}
	}
	m.mu.Unlock()
	return shape, diags
}

func (e *Experiment) resolveShape(tv TrialVars) (*Shape, hcl.Diagnostics) {
	ctx := e.TrialContext(tv)
	r := resolver{e: e, ctx: ctx}
	shape := &Shape{Groups: make([]GroupShape, 0, len(e.Groups))}
	allocs := 0
	for _, g := range e.Groups {
		gs := GroupShape{Name: g.Name, Count: 1}
		if g.Count != nil {
			gs.Count = r.wholeNumber(g.Count, "count", 1, MaxAllocations, 1)
		}
		if allocs += gs.Count; allocs > MaxAllocations && allocs-gs.Count <= MaxAllocations {
			subject := g.DefRange
			if g.Count != nil {
				subject = g.Count.Range()
			}
			r.diags = append(r.diags, &hcl.Diagnostic{
				Severity:    hcl.DiagError,
				Summary:     "Too many allocations",
				Detail:      fmt.Sprintf("The groups of this trial add up to %d allocations, more than the %d tune places as one trial.", allocs, MaxAllocations),
				Subject:     subject.Ptr(),
				EvalContext: r.ctx,
			})
		}
		for _, c := range e.Constraints {
			gs.Constraints = append(gs.Constraints, r.constraint(c))
		}
		for _, c := range g.Constraints {
			gs.Constraints = append(gs.Constraints, r.constraint(c))
		}
		for _, t := range g.Tasks {
			gs.Tasks = append(gs.Tasks, r.resources(t.Name, t.Resources))
		}
		shape.Groups = append(shape.Groups, gs)
	}
	return shape, r.diags
}

// maxShapeMemo bounds the memo: a template that reads a continuous
// parameter has a shape per trial, and memoising those would only cost
// memory.
const maxShapeMemo = 4096

// shapeMemo remembers resolved shapes by the values of the parameters the
// resource template reads, so 100,000 trials over a few grid values
// evaluate the template a few times, and equal shapes share one value.
type shapeMemo struct {
	// params are the indices of the parameters the template reads.
	params []int
	mu     sync.Mutex
	cache  map[string]memoShape
}

type memoShape struct {
	shape *Shape
	diags hcl.Diagnostics
}

func (m *shapeMemo) key(vals []cty.Value) string {
	var b strings.Builder
	for _, i := range m.params {
		v := vals[i]
		switch {
		case !v.IsKnown() || v.IsNull():
			b.WriteString("?")
		case v.Type() == cty.String:
			b.WriteString("s")
			b.WriteString(v.AsString())
		case v.Type() == cty.Number:
			// Decimal text of a big.Float is slow; the exact binary form
			// is fast and just as distinct.
			b.WriteString("n")
			bf := v.AsBigFloat()
			if f, acc := bf.Float64(); acc == big.Exact {
				b.WriteString(strconv.FormatFloat(f, 'b', -1, 64))
			} else {
				b.WriteString(bf.Text('p', 0))
			}
		case v.Type() == cty.Bool:
			b.WriteString("b")
			b.WriteString(strconv.FormatBool(v.True()))
		default:
			b.WriteString(v.GoString())
		}
		b.WriteByte(0)
	}
	return b.String()
}

// PrepareShapes checks the resource template with unknown trial values,
// returning what fails for every trial, and sets up the shape memo: the
// template is memoised on the parameters it reads, unless it reads the
// trial's id or index or the whole trial object. The loader calls it after
// decoding.
func (e *Experiment) PrepareShapes() hcl.Diagnostics {
	var exprs []hcl.Expression
	cons := func(cs []*ConstraintSpec) {
		for _, c := range cs {
			exprs = append(exprs, c.Attribute, c.Operator, c.Value)
		}
	}
	cons(e.Constraints)
	for _, g := range e.Groups {
		exprs = append(exprs, g.Count)
		cons(g.Constraints)
		for _, t := range g.Tasks {
			if r := t.Resources; r != nil {
				exprs = append(exprs, r.CPU, r.Cores, r.Memory, r.MemoryMax, r.GPU)
				for _, d := range r.Devices {
					exprs = append(exprs, d.Count)
					cons(d.Constraints)
				}
			}
		}
	}
	e.shapes = nil
	_, diags := e.resolveShape(e.UnknownTrial())
	if params, ok := e.paramsRead(exprs); ok && !diags.HasErrors() {
		e.shapes = &shapeMemo{params: params, cache: map[string]memoShape{}}
	}
	return diags
}

// paramsRead lists the parameters the expressions read through
// trial.<name>; ok is false when they read anything else of the trial.
func (e *Experiment) paramsRead(exprs []hcl.Expression) ([]int, bool) {
	read := map[int]bool{}
	for _, expr := range exprs {
		if expr == nil {
			continue
		}
		for _, tr := range expr.Variables() {
			if tr.RootName() != "trial" {
				continue
			}
			if len(tr) < 2 {
				return nil, false
			}
			attr, ok := tr[1].(hcl.TraverseAttr)
			if !ok {
				return nil, false
			}
			found := false
			for i, p := range e.Space.Params {
				if p.Name == attr.Name {
					read[i], found = true, true
				}
			}
			if !found {
				return nil, false
			}
		}
	}
	params := make([]int, 0, len(read))
	for i := range e.Space.Params {
		if read[i] {
			params = append(params, i)
		}
	}
	return params, true
}

// TaskSpec is one task of a trial with every expression evaluated.
type TaskSpec struct {
	Group   string
	Name    string
	Driver  string
	Command string
	Args    []string
	// Env in name order.
	Env    []EnvVar
	Config map[string]any
	Leader bool
	// Lifecycle is nil for a main task.
	Lifecycle *LifecycleSpec
	User      string
	// KillSignal is empty for the driver's default (SIGINT on Nomad).
	KillSignal string
	// KillTimeout and ShutdownDelay are nil when not set.
	KillTimeout   *time.Duration
	ShutdownDelay *time.Duration
	Logs          *Logs
	Artifacts     []Artifact
	Templates     []Template
	VolumeMounts  []VolumeMount
}

// EnvVar is one environment variable.
type EnvVar struct {
	Name  string
	Value string
}

// ResolveTasks evaluates the trial's tasks (command, args, env, driver
// config), group by group in file order.
func (e *Experiment) ResolveTasks(tv TrialVars) ([][]TaskSpec, hcl.Diagnostics) {
	ctx := e.TrialContext(tv)
	r := resolver{e: e, ctx: ctx}
	out := make([][]TaskSpec, len(e.Groups))
	for gi, g := range e.Groups {
		for _, t := range g.Tasks {
			spec := TaskSpec{Group: g.Name, Name: t.Name, Driver: t.Driver, Leader: t.Leader}
			if t.Command != nil {
				spec.Command = r.str(t.Command, "command")
			}
			if t.Args != nil {
				spec.Args = r.strList(t.Args, "args")
			}
			for _, a := range t.Env {
				spec.Env = append(spec.Env, EnvVar{Name: a.Name, Value: r.str(a.Expr, "env "+a.Name)})
			}
			sort.SliceStable(spec.Env, func(i, j int) bool { return spec.Env[i].Name < spec.Env[j].Name })
			if t.Config != nil {
				spec.Config = r.config(t.Config)
			}
			r.resolveTaskBlocks(t, &spec)
			out[gi] = append(out[gi], spec)
		}
	}
	return out, r.diags
}

// resolver evaluates the template for one trial and gathers diagnostics.
type resolver struct {
	e     *Experiment
	ctx   *hcl.EvalContext
	diags hcl.Diagnostics
}

func (r *resolver) value(expr hcl.Expression) (cty.Value, bool) {
	v, d := r.e.Evaluate(expr, r.ctx)
	ExplainBudget(d)
	r.diags = append(r.diags, d...)
	if d.HasErrors() {
		return cty.DynamicVal, false
	}
	if r.e.Budget != nil {
		if err := r.e.Budget.ChargeValue(v, "this value is too large"); err != nil {
			r.errorf(expr, BudgetSummary, "%s.", err)
			return cty.DynamicVal, false
		}
	}
	return v, true
}

func (r *resolver) errorf(expr hcl.Expression, summary, detail string, args ...any) {
	r.diags = append(r.diags, &hcl.Diagnostic{
		Severity:    hcl.DiagError,
		Summary:     summary,
		Detail:      fmt.Sprintf(detail, args...),
		Subject:     expr.Range().Ptr(),
		Expression:  expr,
		EvalContext: r.ctx,
	})
}

// number evaluates a number; ok is false when it is unknown or invalid.
func (r *resolver) number(expr hcl.Expression, name string) (float64, bool) {
	v, ok := r.value(expr)
	if !ok {
		return 0, false
	}
	if v.IsKnown() && v.IsNull() {
		r.errorf(expr, "Invalid value for "+name, "The %s must be a number, not null.", name)
		return 0, false
	}
	// An unknown value still has a type: count = trial.opt == "adam" is a
	// bool for every trial, and that fails before any trial exists.
	nv, err := convert.Convert(v, cty.Number)
	if err != nil {
		r.errorf(expr, "Invalid value for "+name, "The %s must be a number; this is %s.", name, v.Type().FriendlyName())
		return 0, false
	}
	if !nv.IsKnown() {
		return 0, false
	}
	var f float64
	_ = gocty.FromCtyValue(nv, &f)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		r.errorf(expr, "Invalid value for "+name, "The %s must be a finite number.", name)
		return 0, false
	}
	return f, true
}

// wholeNumber evaluates an integer in [min, max]; def is used when the
// value is unknown or invalid.
func (r *resolver) wholeNumber(expr hcl.Expression, name string, min, max, def int) int {
	f, ok := r.number(expr, name)
	if !ok {
		return def
	}
	if f != math.Trunc(f) {
		r.errorf(expr, "Invalid value for "+name, "The %s must be a whole number; got %s.", name, FormatNumber(f))
		return def
	}
	if f < float64(min) {
		r.errorf(expr, "Invalid value for "+name, "The %s must be at least %d; got %s.", name, min, FormatNumber(f))
		return def
	}
	if f > float64(max) {
		if max == math.MaxInt32 {
			r.errorf(expr, "Invalid value for "+name, "The %s is too large: %s.", name, FormatNumber(f))
		} else {
			r.errorf(expr, "Invalid value for "+name, "The %s must be at most %d; got %s.", name, max, FormatNumber(f))
		}
		return def
	}
	return int(f)
}

func (r *resolver) str(expr hcl.Expression, name string) string {
	v, ok := r.value(expr)
	if !ok || !v.IsKnown() {
		return ""
	}
	if v.IsNull() {
		r.errorf(expr, "Invalid value for "+name, "The %s must be a string, not null.", name)
		return ""
	}
	sv, err := convert.Convert(v, cty.String)
	if err != nil {
		r.errorf(expr, "Invalid value for "+name, "The %s must be a string; this is %s.", name, v.Type().FriendlyName())
		return ""
	}
	if !sv.IsKnown() {
		return ""
	}
	return sv.AsString()
}

func (r *resolver) strList(expr hcl.Expression, name string) []string {
	v, ok := r.value(expr)
	if !ok || !v.IsKnown() {
		return nil
	}
	if v.IsNull() {
		return nil
	}
	t := v.Type()
	if !(t.IsListType() || t.IsTupleType() || t.IsSetType()) {
		r.errorf(expr, "Invalid value for "+name, "The %s must be a list of strings; this is %s.", name, t.FriendlyName())
		return nil
	}
	out := make([]string, 0, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		_, ev := it.Element()
		if !ev.IsKnown() {
			out = append(out, "")
			continue
		}
		sv, err := convert.Convert(ev, cty.String)
		if err != nil || sv.IsNull() {
			r.errorf(expr, "Invalid value for "+name, "Every element of %s must be a string; one is %s.", name, ev.Type().FriendlyName())
			return nil
		}
		out = append(out, sv.AsString())
	}
	return out
}

func (r *resolver) constraint(c *ConstraintSpec) Constraint {
	out := Constraint{Operator: "="}
	if c.Attribute != nil {
		out.Attribute = r.str(c.Attribute, "constraint attribute")
	}
	if c.Operator != nil {
		out.Operator = r.str(c.Operator, "constraint operator")
		if out.Operator != "" && !validOperators[out.Operator] {
			r.errorf(c.Operator, "Invalid constraint operator", "%q is not a constraint operator; use one of %s.", out.Operator, operatorList)
		}
	}
	if c.Value != nil {
		out.Value = r.str(c.Value, "constraint value")
	}
	return out
}

var validOperators = map[string]bool{
	"=": true, "==": true, "is": true, "!=": true, "not": true,
	">": true, ">=": true, "<": true, "<=": true,
	"regexp": true, "version": true, "semver": true,
	"set_contains": true, "set_contains_all": true, "set_contains_any": true,
	"is_set": true, "is_not_set": true, "distinct_hosts": true, "distinct_property": true,
}

const operatorList = `=, !=, >, >=, <, <=, regexp, version, semver, set_contains, set_contains_any, is_set, is_not_set, distinct_hosts, distinct_property`

// ValidConstraintOperator reports whether op is a Nomad constraint operator.
func ValidConstraintOperator(op string) bool { return validOperators[op] }

func (r *resolver) resources(task string, spec *ResourcesSpec) TaskResources {
	res := TaskResources{Task: task, CPU: DefaultCPU, MemoryMiB: DefaultMemoryMiB}
	if spec == nil {
		return res
	}
	res.GPURange = spec.DefRange
	if spec.Cores != nil {
		res.CPU = 0
		res.Cores = r.wholeNumber(spec.Cores, "cores", 1, math.MaxInt32, 1)
	}
	if spec.CPU != nil {
		if f, ok := r.number(spec.CPU, "cpu"); ok {
			// cpu = 0 is Ray's {"gpu": 1} without a CPU: the trial takes
			// no CPU from the local target, and Nomad's minimum, 1 MHz.
			if f < 0 {
				r.errorf(spec.CPU, "Invalid value for cpu", "cpu must not be negative: it is the cores a trial takes, 0 for none (fractions such as 0.5 share a core); got %s.", FormatNumber(f))
			} else {
				res.CPU = f
			}
		}
	}
	if spec.Memory != nil {
		if m, ok := r.memory(spec.Memory, "memory"); ok {
			res.MemoryMiB = m
		}
	}
	if spec.MemoryMax != nil {
		if m, ok := r.memory(spec.MemoryMax, "memory_max"); ok {
			if m < res.MemoryMiB {
				r.errorf(spec.MemoryMax, "Invalid value for memory_max", "memory_max (%d MiB) must be at least memory (%d MiB).", m, res.MemoryMiB)
			} else {
				res.MemoryMaxMiB = m
			}
		}
	}
	if spec.GPU != nil {
		res.GPURange = spec.GPU.Range()
		if f, ok := r.number(spec.GPU, "gpu"); ok {
			switch {
			case f < 0:
				r.errorf(spec.GPU, "Invalid value for gpu", "gpu must be 0 or more; got %s.", FormatNumber(f))
			case f > 1 && f != math.Trunc(f):
				r.errorf(spec.GPU, "Invalid value for gpu", "A request for more than one GPU must be a whole number; got %s. Fractions (such as 0.5) share one GPU.", FormatNumber(f))
			default:
				res.GPU = f
			}
		}
	}
	for _, d := range spec.Devices {
		req := DeviceRequest{Name: d.Name, Count: 1}
		if d.Count != nil {
			req.Count = r.wholeNumber(d.Count, "device count", 0, math.MaxInt32, 1)
		}
		for _, c := range d.Constraints {
			req.Constraints = append(req.Constraints, r.constraint(c))
		}
		if req.Count > 0 {
			res.Devices = append(res.Devices, req)
		}
	}
	return res
}

func (r *resolver) memory(expr hcl.Expression, name string) (int, bool) {
	v, ok := r.value(expr)
	if !ok {
		return 0, false
	}
	if !v.IsKnown() {
		if v.Type() != cty.String {
			// Check that it is a number at all.
			r.number(expr, name)
		}
		return 0, false
	}
	var mib float64
	switch {
	case v.IsNull():
		r.errorf(expr, "Invalid value for "+name, "The %s must be a number of MiB or a size such as \"2GiB\", not null.", name)
		return 0, false
	case v.Type() == cty.String:
		bytes, err := ParseBytes(v.AsString())
		if err != nil {
			r.errorf(expr, "Invalid value for "+name, "%s.", capitalise(err.Error()))
			return 0, false
		}
		mib = bytes / (1 << 20)
	default:
		f, ok := r.number(expr, name)
		if !ok {
			return 0, false
		}
		mib = f
	}
	if mib <= 0 {
		r.errorf(expr, "Invalid value for "+name, "The %s must be greater than 0.", name)
		return 0, false
	}
	return MiBCeil(mib * (1 << 20)), true
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	if s[0] >= 'a' && s[0] <= 'z' {
		return string(s[0]-'a'+'A') + s[1:]
	}
	return s
}

func (r *resolver) config(body *ConfigBody) map[string]any {
	out := map[string]any{}
	for _, a := range body.Attrs {
		v, ok := r.value(a.Expr)
		if !ok {
			continue
		}
		out[a.Name] = GoValue(v)
	}
	for _, b := range body.Blocks {
		inner := r.config(b.Body)
		// Labelled blocks nest under their labels, as Nomad's job files
		// decode them.
		for i := len(b.Labels) - 1; i >= 0; i-- {
			inner = map[string]any{b.Labels[i]: inner}
		}
		list, _ := out[b.Type].([]map[string]any)
		out[b.Type] = append(list, inner)
	}
	return out
}
