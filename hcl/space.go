package hcl

import (
	"fmt"
	"math"
	"reflect"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/gocty"

	"github.com/nomad-tune/tune/experiment"
)

// distributionType carries a *experiment.Distribution through HCL
// evaluation, so `x = uniform(0, 1)` is an ordinary function call whose
// argument errors point at the argument.
var distributionType = cty.Capsule("distribution", reflect.TypeOf(experiment.Distribution{}))

// distributionFunctions are the search-space functions, with Ray Tune's
// names and arguments. They exist only inside the space block.
func distributionFunctions() map[string]function.Function {
	num := func(name string) function.Parameter { return function.Parameter{Name: name, Type: cty.Number} }
	optBase := &function.Parameter{Name: "base", Type: cty.Number}
	return map[string]function.Function{
		"uniform":     rangeFunc(experiment.KindUniform, []function.Parameter{num("lower"), num("upper")}, nil),
		"quniform":    rangeFunc(experiment.KindQUniform, []function.Parameter{num("lower"), num("upper"), num("q")}, nil),
		"loguniform":  rangeFunc(experiment.KindLogUniform, []function.Parameter{num("lower"), num("upper")}, optBase),
		"qloguniform": rangeFunc(experiment.KindQLogUniform, []function.Parameter{num("lower"), num("upper"), num("q")}, optBase),
		"randint":     rangeFunc(experiment.KindRandInt, []function.Parameter{num("lower"), num("upper")}, nil),
		"qrandint":    rangeFunc(experiment.KindQRandInt, []function.Parameter{num("lower"), num("upper")}, &function.Parameter{Name: "q", Type: cty.Number}),
		"lograndint":  rangeFunc(experiment.KindLogRandInt, []function.Parameter{num("lower"), num("upper")}, optBase),
		"qlograndint": rangeFunc(experiment.KindQLogRandInt, []function.Parameter{num("lower"), num("upper"), num("q")}, optBase),
		"randn":       rangeFunc(experiment.KindRandN, nil, &function.Parameter{Name: "mean_and_sd", Type: cty.Number}),
		"qrandn":      rangeFunc(experiment.KindQRandN, []function.Parameter{num("mean"), num("sd"), num("q")}, nil),
		"choice":      listFunc(experiment.KindChoice),
		"grid":        listFunc(experiment.KindGrid),
	}
}

// spaceOnlyFunctions stand in for the distribution functions outside the
// space block, so that `cpu = uniform(0, 1)` says where uniform belongs
// instead of that no such function exists.
func spaceOnlyFunctions(funcs map[string]function.Function) map[string]function.Function {
	for name := range distributionFunctions() {
		if _, taken := funcs[name]; taken {
			continue
		}
		funcs[name] = function.New(&function.Spec{
			VarParam: &function.Parameter{Name: "args", Type: cty.DynamicPseudoType, AllowNull: true, AllowUnknown: true, AllowDynamicType: true, AllowMarked: true},
			Type: func([]cty.Value) (cty.Type, error) {
				return cty.NilType, fmt.Errorf("%s is a search space function, so it can be used only inside the space block: define a parameter there, such as x = %s(...), and refer to it here as trial.x", name, name)
			},
		})
	}
	return funcs
}

func rangeFunc(kind experiment.Kind, params []function.Parameter, varParam *function.Parameter) function.Function {
	return function.New(&function.Spec{
		Description: fmt.Sprintf("Samples a parameter with Ray Tune's %s.", kind),
		Params:      params,
		VarParam:    varParam,
		Type:        function.StaticReturnType(distributionType),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			nums := make([]float64, len(args))
			for i, a := range args {
				if err := gocty.FromCtyValue(a, &nums[i]); err != nil {
					return cty.NilVal, function.NewArgErrorf(i, "must be a number")
				}
				if math.IsNaN(nums[i]) || math.IsInf(nums[i], 0) {
					return cty.NilVal, function.NewArgErrorf(i, "must be a finite number")
				}
			}
			d, err := buildRange(kind, nums)
			if err != nil {
				return cty.NilVal, err
			}
			return cty.CapsuleVal(distributionType, d), nil
		},
	})
}

// buildRange checks a numeric distribution's arguments the way Ray Tune
// would fail on them, and names the argument at fault.
func buildRange(kind experiment.Kind, a []float64) (*experiment.Distribution, error) {
	d := &experiment.Distribution{Kind: kind, Base: 10}
	isInt := func(i int) error {
		if a[i] != math.Trunc(a[i]) {
			return function.NewArgErrorf(i, "%s needs whole numbers; got %s", kind, experiment.FormatNumber(a[i]))
		}
		return nil
	}
	needQ := func(i int, whole bool) error {
		if i >= len(a) {
			return nil
		}
		if a[i] <= 0 {
			return function.NewArgErrorf(i, "the quantisation step q must be greater than 0; got %s", experiment.FormatNumber(a[i]))
		}
		if whole {
			if err := isInt(i); err != nil {
				return err
			}
		}
		d.Q = a[i]
		return nil
	}
	bounds := func() error {
		d.Lo, d.Hi = a[0], a[1]
		if !(a[1] > a[0]) {
			return function.NewArgErrorf(1, "the upper bound (%s) must be greater than the lower bound (%s)", experiment.FormatNumber(a[1]), experiment.FormatNumber(a[0]))
		}
		return nil
	}
	logBounds := func() error {
		if a[0] <= 0 {
			return function.NewArgErrorf(0, "%s needs a lower bound greater than 0 (the logarithm of %s is undefined)", kind, experiment.FormatNumber(a[0]))
		}
		return bounds()
	}
	base := func(i int) error {
		if i >= len(a) {
			return nil
		}
		if len(a) > i+1 {
			return function.NewArgErrorf(i+1, "%s takes at most %d arguments", kind, i+1)
		}
		if a[i] <= 0 || a[i] == 1 {
			return function.NewArgErrorf(i, "the logarithm base must be greater than 0 and not 1; got %s", experiment.FormatNumber(a[i]))
		}
		d.Base = a[i]
		return nil
	}
	switch kind {
	case experiment.KindUniform:
		return d, bounds()
	case experiment.KindQUniform:
		if err := bounds(); err != nil {
			return nil, err
		}
		return d, needQ(2, false)
	case experiment.KindLogUniform:
		if err := logBounds(); err != nil {
			return nil, err
		}
		return d, base(2)
	case experiment.KindQLogUniform:
		if err := logBounds(); err != nil {
			return nil, err
		}
		if err := needQ(2, false); err != nil {
			return nil, err
		}
		return d, base(3)
	case experiment.KindRandInt, experiment.KindQRandInt, experiment.KindLogRandInt, experiment.KindQLogRandInt:
		if err := isInt(0); err != nil {
			return nil, err
		}
		if err := isInt(1); err != nil {
			return nil, err
		}
		log := kind == experiment.KindLogRandInt || kind == experiment.KindQLogRandInt
		if log {
			if err := logBounds(); err != nil {
				return nil, err
			}
		} else if err := bounds(); err != nil {
			return nil, err
		}
		switch kind {
		case experiment.KindQRandInt:
			if len(a) > 3 {
				return nil, function.NewArgErrorf(3, "qrandint takes at most 3 arguments")
			}
			return d, needQ(2, true)
		case experiment.KindLogRandInt:
			return d, base(2)
		case experiment.KindQLogRandInt:
			if err := needQ(2, true); err != nil {
				return nil, err
			}
			return d, base(3)
		}
		return d, nil
	case experiment.KindRandN:
		d.Lo, d.Hi = 0, 1
		if len(a) > 2 {
			return nil, function.NewArgErrorf(2, "randn takes at most 2 arguments: mean and sd")
		}
		if len(a) > 0 {
			d.Lo = a[0]
		}
		if len(a) > 1 {
			d.Hi = a[1]
		}
		if d.Hi <= 0 {
			return nil, function.NewArgErrorf(1, "the standard deviation must be greater than 0; got %s", experiment.FormatNumber(d.Hi))
		}
		return d, nil
	case experiment.KindQRandN:
		d.Lo, d.Hi = a[0], a[1]
		if d.Hi <= 0 {
			return nil, function.NewArgErrorf(1, "the standard deviation must be greater than 0; got %s", experiment.FormatNumber(d.Hi))
		}
		return d, needQ(2, false)
	}
	return nil, fmt.Errorf("%s is not a numeric distribution", kind)
}

func listFunc(kind experiment.Kind) function.Function {
	return function.New(&function.Spec{
		Description: fmt.Sprintf("Ray Tune's %s over a list of values.", kind),
		Params:      []function.Parameter{{Name: "values", Type: cty.DynamicPseudoType}},
		Type:        function.StaticReturnType(distributionType),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			v := args[0]
			t := v.Type()
			if !(t.IsListType() || t.IsTupleType() || t.IsSetType()) {
				return cty.NilVal, function.NewArgErrorf(0, "%s takes a list such as [1, 2, 3]; got %s", kind, t.FriendlyName())
			}
			if !v.IsWhollyKnown() {
				return cty.NilVal, function.NewArgErrorf(0, "the values of %s must be known when the file is read", kind)
			}
			if v.LengthInt() == 0 {
				what := "grid([]) would give no trials at all"
				if kind == experiment.KindChoice {
					what = "choice([]) has nothing to choose from"
				}
				return cty.NilVal, function.NewArgErrorf(0, "%s needs at least one value: %s", kind, what)
			}
			d := &experiment.Distribution{Kind: kind}
			for it := v.ElementIterator(); it.Next(); {
				_, ev := it.Element()
				if ev.IsNull() {
					return cty.NilVal, function.NewArgErrorf(0, "the values of %s must not be null", kind)
				}
				if ev.Type().IsCapsuleType() {
					return cty.NilVal, function.NewArgErrorf(0, "%s takes plain values, not other distributions", kind)
				}
				d.Values = append(d.Values, ev)
			}
			return cty.CapsuleVal(distributionType, d), nil
		},
	})
}

// decodeSpace reads the space block: each attribute is one parameter, in
// the order written.
func decodeSpace(block *hcl.Block, ctx *hcl.EvalContext) (experiment.Space, hcl.Diagnostics) {
	var space experiment.Space
	attrs, diags := block.Body.JustAttributes()
	spaceCtx := ctx.NewChild()
	spaceCtx.Functions = distributionFunctions()
	for _, attr := range sortedAttributes(attrs) {
		if attr.Name == "id" || attr.Name == "index" {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Reserved parameter name",
				Detail:   fmt.Sprintf("%q is reserved: trial.%s is the trial's own %s. Choose another name.", attr.Name, attr.Name, attr.Name),
				Subject:  attr.NameRange.Ptr(),
			})
			continue
		}
		if d := noTrialRefs(attr.Expr, "a search space parameter", "the space defines what trials are"); d != nil {
			diags = append(diags, d)
			continue
		}
		v, d := attr.Expr.Value(spaceCtx)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		p := &experiment.Param{Name: attr.Name, Range: attr.Expr.Range()}
		switch {
		case v.Type().Equals(distributionType):
			p.Dist = v.EncapsulatedValue().(*experiment.Distribution)
		case v.IsNull():
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid parameter value",
				Detail:   fmt.Sprintf("Parameter %q is null; give it a value or a distribution such as uniform(0, 1).", attr.Name),
				Subject:  attr.Expr.Range().Ptr(),
			})
			continue
		case containsCapsule(v):
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Nested distribution",
				Detail:   "A distribution must be the whole value of a parameter: write each sampled value as its own parameter.",
				Subject:  attr.Expr.Range().Ptr(),
			})
			continue
		default:
			p.Dist = &experiment.Distribution{Kind: experiment.KindConstant, Values: []cty.Value{v}}
		}
		space.Params = append(space.Params, p)
	}
	return space, diags
}

func containsCapsule(v cty.Value) bool {
	found := false
	_ = cty.Walk(v, func(_ cty.Path, w cty.Value) (bool, error) {
		if w.Type().IsCapsuleType() {
			found = true
		}
		return !found, nil
	})
	return found
}
