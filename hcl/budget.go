package hcl

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/nomad-tune/tune/experiment"
)

// The functions that charge what expressions build to the budget. The
// file cannot call them by these names (they are not identifiers); the
// parsed expressions are rewritten to call them.
const (
	iterateFunc = "for expression"
	buildFunc   = "value"
)

// budgetFunctions are the functions that charge the values expressions
// build: a for expression's collection (per evaluation, so nested loops
// multiply), each value it builds, each interpolation of a template.
func budgetFunctions(b *experiment.Budget) map[string]function.Function {
	param := &function.Parameter{Name: "value", Type: cty.DynamicPseudoType, AllowNull: true, AllowUnknown: true, AllowDynamicType: true, AllowMarked: true}
	pass := func(charge func(v cty.Value) error) function.Function {
		return function.New(&function.Spec{
			Params: []function.Parameter{*param},
			Type:   func(args []cty.Value) (cty.Type, error) { return args[0].Type(), nil },
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				if err := charge(args[0]); err != nil {
					return cty.NilVal, err
				}
				return args[0], nil
			},
		})
	}
	return map[string]function.Function{
		iterateFunc: pass(func(v cty.Value) error {
			v, _ = v.Unmark()
			if !v.IsKnown() || v.IsNull() || !v.CanIterateElements() {
				return nil
			}
			return b.Charge(int64(v.LengthInt())*experiment.IterationCost, "these for expressions iterate too often")
		}),
		buildFunc: pass(func(v cty.Value) error {
			return b.ChargeValue(v, "the values built here are too large")
		}),
	}
}

// boundedFunctions wraps the standard library so that each call checks
// its arguments and charges its result to the budget. Functions whose
// result can be far larger than their arguments (setproduct, format
// widths, replace, indent) check an estimate before they run.
func boundedFunctions(funcs map[string]function.Function, b *experiment.Budget) map[string]function.Function {
	out := make(map[string]function.Function, len(funcs)+2)
	for name, f := range funcs {
		if name == "try" || name == "can" {
			// They evaluate expressions, which charge for themselves.
			out[name] = f
			continue
		}
		out[name] = bounded(name, f, b, estimates[name])
	}
	for name, f := range budgetFunctions(b) {
		out[name] = f
	}
	return out
}

func bounded(name string, f function.Function, b *experiment.Budget, estimate func([]cty.Value) int64) function.Function {
	var varParam *function.Parameter
	if vp := f.VarParam(); vp != nil {
		varParam = vp
	}
	return function.New(&function.Spec{
		Description: f.Description(),
		Params:      f.Params(),
		VarParam:    varParam,
		Type:        f.ReturnTypeForValues,
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			var in int64
			for _, a := range args {
				in += experiment.Cost(a, b.Left()-in)
			}
			if estimate != nil {
				in += estimate(args)
			}
			if err := b.Check(in, "the arguments of "+name+" are too large"); err != nil {
				return cty.NilVal, err
			}
			v, err := f.Call(args)
			if err != nil {
				return v, err
			}
			if err := b.ChargeValue(v, "the result of "+name+" is too large"); err != nil {
				return cty.NilVal, err
			}
			return v, nil
		},
	})
}

// estimates are the result sizes, in budget units, of functions that can
// build far more than they are given.
var estimates = map[string]func([]cty.Value) int64{
	"setproduct": func(args []cty.Value) int64 {
		n := int64(1)
		for _, a := range args {
			if !a.IsKnown() || a.IsNull() || !a.CanIterateElements() {
				return 0
			}
			n = saturatingMul(n, int64(a.LengthInt()))
		}
		return saturatingMul(n, int64(len(args)+1)*experiment.ValueCost)
	},
	"format": func(args []cty.Value) int64 {
		return formatWidths(args[0])
	},
	"formatlist": func(args []cty.Value) int64 {
		n := int64(1)
		for _, a := range args[1:] {
			if a.IsKnown() && !a.IsNull() && a.CanIterateElements() {
				n = max(n, int64(a.LengthInt()))
			}
		}
		return saturatingMul(n, formatWidths(args[0]))
	},
	"replace": func(args []cty.Value) int64 {
		s, sub, repl, ok := knownStrings(args[0], args[1], args[2])
		if !ok {
			return 0
		}
		matches := int64(strings.Count(s, sub))
		if strings.HasPrefix(sub, "/") && strings.HasSuffix(sub, "/") || sub == "" {
			// A pattern may match at every position.
			matches = int64(len(s)) + 1
		}
		return saturatingMul(matches, int64(len(repl)))
	},
	"regex_replace": func(args []cty.Value) int64 {
		s, _, repl, ok := knownStrings(args[0], args[1], args[2])
		if !ok {
			return 0
		}
		return saturatingMul(int64(len(s))+1, int64(len(repl)))
	},
	"indent": func(args []cty.Value) int64 {
		var n int64
		if args[0].IsKnown() && !args[0].IsNull() {
			f, _ := args[0].AsBigFloat().Int64()
			n = f
		}
		s, _, _, ok := knownStrings(args[1], cty.StringVal(""), cty.StringVal(""))
		if !ok {
			return 0
		}
		return saturatingMul(int64(strings.Count(s, "\n"))+1, max(n, 0))
	},
}

func knownStrings(a, b, c cty.Value) (string, string, string, bool) {
	for _, v := range []cty.Value{a, b, c} {
		if !v.IsKnown() || v.IsNull() || v.Type() != cty.String {
			return "", "", "", false
		}
	}
	return a.AsString(), b.AsString(), c.AsString(), true
}

// formatVerb finds the widths and precisions of format verbs such as
// %08.3f or %-1000000s.
var formatVerb = regexp.MustCompile(`%[-+# 0]*(\d*)(?:\.(\d+))?`)

func formatWidths(format cty.Value) int64 {
	format, _ = format.Unmark()
	if !format.IsKnown() || format.IsNull() || format.Type() != cty.String {
		return 0
	}
	var total int64
	for _, m := range formatVerb.FindAllStringSubmatch(format.AsString(), -1) {
		for _, digits := range m[1:] {
			if digits == "" {
				continue
			}
			n, err := strconv.ParseInt(digits, 10, 64)
			if err != nil {
				return experiment.BudgetUnits + 1
			}
			total += min(n, experiment.BudgetUnits+1)
		}
	}
	return total
}

func saturatingMul(a, b int64) int64 {
	const limit = experiment.BudgetUnits + 1
	if a <= 0 || b <= 0 {
		return 0
	}
	if a > limit/b {
		return limit
	}
	return min(a*b, limit)
}

// chargeExpressions rewrites a parsed file so that evaluating it charges
// the budget: the collection of each for expression (once per evaluation
// of the loop, so an inner loop is charged for every turn of the outer
// one), each value a for expression builds, and each interpolation of a
// string template. Nomad's runtime variables in templates are left as
// written, since they are passed to Nomad as text.
func chargeExpressions(node hclsyntax.Node) {
	wrap := func(name string, expr hclsyntax.Expression) hclsyntax.Expression {
		r := expr.Range()
		return &hclsyntax.FunctionCallExpr{
			Name:            name,
			Args:            []hclsyntax.Expression{expr},
			NameRange:       r,
			OpenParenRange:  r,
			CloseParenRange: r,
		}
	}
	hclsyntax.VisitAll(node, func(n hclsyntax.Node) hcl.Diagnostics {
		switch x := n.(type) {
		case *hclsyntax.ForExpr:
			x.CollExpr = wrap(iterateFunc, x.CollExpr)
			x.ValExpr = wrap(buildFunc, x.ValExpr)
			if x.KeyExpr != nil {
				x.KeyExpr = wrap(buildFunc, x.KeyExpr)
			}
		case *hclsyntax.SplatExpr:
			x.Source = wrap(buildFunc, x.Source)
		case *hclsyntax.TemplateExpr:
			for i, part := range x.Parts {
				switch p := part.(type) {
				case *hclsyntax.LiteralValueExpr:
					continue
				case *hclsyntax.ScopeTraversalExpr:
					if experiment.IsRuntimeRoot(p.Traversal.RootName()) {
						continue
					}
				}
				x.Parts[i] = wrap(buildFunc, part)
			}
		}
		return nil
	})
}

// budgetContext is the context of values read without the file's
// functions (variable defaults and files, -var values): it has only the
// functions the rewritten expressions call.
func budgetContext(b *experiment.Budget) *hcl.EvalContext {
	return &hcl.EvalContext{Functions: budgetFunctions(b)}
}

// chargeValue charges a value read from the file, as locals and settings
// are, and reports where it crossed the budget.
func chargeValue(b *experiment.Budget, v cty.Value, rng hcl.Range) *hcl.Diagnostic {
	err := b.ChargeValue(v, "this value is too large")
	if err == nil {
		return nil
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  experiment.BudgetSummary,
		Detail:   fmt.Sprintf("%s.", err),
		Subject:  rng.Ptr(),
	}
}
