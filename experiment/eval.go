package experiment

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// TrialVars is what per-trial expressions see as `trial`: the trial's ID,
// its index and its parameter values (in Space order).
type TrialVars struct {
	ID     string
	Index  int
	Values []cty.Value
}

// TrialObject builds the `trial` object: trial.<param>, trial.id and
// trial.index.
func (e *Experiment) TrialObject(tv TrialVars) cty.Value {
	attrs := make(map[string]cty.Value, len(e.Space.Params)+2)
	for i, p := range e.Space.Params {
		if i < len(tv.Values) {
			attrs[p.Name] = tv.Values[i]
		} else {
			attrs[p.Name] = cty.DynamicVal
		}
	}
	if tv.ID == "" {
		attrs["id"] = cty.UnknownVal(cty.String)
		attrs["index"] = cty.UnknownVal(cty.Number)
	} else {
		attrs["id"] = cty.StringVal(tv.ID)
		attrs["index"] = cty.NumberIntVal(int64(tv.Index))
	}
	return cty.ObjectVal(attrs)
}

// UnknownTrial is a trial whose every value is unknown but typed: resolving
// the template with it finds every error that does not depend on the
// trial's values.
func (e *Experiment) UnknownTrial() TrialVars {
	vals := make([]cty.Value, len(e.Space.Params))
	for i, p := range e.Space.Params {
		vals[i] = cty.UnknownVal(p.Dist.Type())
	}
	return TrialVars{Values: vals}
}

// TrialContext is the evaluation context of one trial.
// Each trial gets the whole evaluation budget again.
func (e *Experiment) TrialContext(tv TrialVars) *hcl.EvalContext {
	if e.Budget != nil {
		e.Budget.Reset()
	}
	ctx := e.Context.NewChild()
	ctx.Variables = map[string]cty.Value{"trial": e.TrialObject(tv)}
	return ctx
}

// IsRuntimeRoot reports whether a variable name belongs to Nomad's runtime
// interpolation (${attr.kernel.name}, ${node.class}, ${meta.rack},
// ${device.model}, ${NOMAD_ALLOC_DIR}, ...), which tune leaves in place for
// Nomad to fill in.
func IsRuntimeRoot(name string) bool {
	switch name {
	case "attr", "node", "meta", "device", "env":
		return true
	}
	return strings.HasPrefix(name, "NOMAD_")
}

// Evaluate evaluates a per-trial expression. Interpolations of Nomad's
// runtime variables inside strings are passed through as written, the way
// Nomad's own job files treat them.
func (e *Experiment) Evaluate(expr hcl.Expression, ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	switch x := expr.(type) {
	case *hclsyntax.TemplateExpr:
		if !e.hasRuntimeRef(x) {
			return x.Value(ctx)
		}
		var b strings.Builder
		var diags hcl.Diagnostics
		unknown := false
		for _, part := range x.Parts {
			if text, ok := e.runtimeText(part); ok {
				b.WriteString(text)
				continue
			}
			v, d := part.Value(ctx)
			diags = append(diags, d...)
			if d.HasErrors() {
				continue
			}
			if !v.IsKnown() {
				unknown = true
				continue
			}
			if v.IsNull() {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid template interpolation value",
					Detail:   "The expression result is null.",
					Subject:  part.Range().Ptr(),
				})
				continue
			}
			s, err := convert.Convert(v, cty.String)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid template interpolation value",
					Detail:   "Cannot include the given value in a string template: " + err.Error() + ".",
					Subject:  part.Range().Ptr(),
				})
				continue
			}
			b.WriteString(s.AsString())
		}
		if unknown {
			return cty.UnknownVal(cty.String), diags
		}
		return cty.StringVal(b.String()), diags
	case *hclsyntax.TemplateWrapExpr:
		if text, ok := e.runtimeText(x.Wrapped); ok {
			return cty.StringVal(text), nil
		}
		return x.Value(ctx)
	case *hclsyntax.TupleConsExpr:
		if !e.hasRuntimeRef(x) {
			return x.Value(ctx)
		}
		vals := make([]cty.Value, len(x.Exprs))
		var diags hcl.Diagnostics
		for i, item := range x.Exprs {
			v, d := e.Evaluate(item, ctx)
			diags = append(diags, d...)
			vals[i] = v
		}
		if diags.HasErrors() {
			return cty.DynamicVal, diags
		}
		return cty.TupleVal(vals), diags
	case *hclsyntax.ObjectConsExpr:
		if !e.hasRuntimeRef(x) {
			return x.Value(ctx)
		}
		attrs := map[string]cty.Value{}
		var diags hcl.Diagnostics
		for _, item := range x.Items {
			k, d := item.KeyExpr.Value(ctx)
			diags = append(diags, d...)
			if d.HasErrors() {
				continue
			}
			ks, err := convert.Convert(k, cty.String)
			if err != nil || !ks.IsKnown() || ks.IsNull() {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid object key",
					Detail:   "An object key must be a string.",
					Subject:  item.KeyExpr.Range().Ptr(),
				})
				continue
			}
			v, d := e.Evaluate(item.ValueExpr, ctx)
			diags = append(diags, d...)
			attrs[ks.AsString()] = v
		}
		if diags.HasErrors() {
			return cty.DynamicVal, diags
		}
		return cty.ObjectVal(attrs), diags
	}
	if _, native := expr.(hclsyntax.Expression); !native && e.hasRuntimeRef(expr) {
		// HCL JSON keeps no source text of its templates to copy: give each
		// runtime variable a value that prints as the variable itself.
		return expr.Value(runtimeContext(ctx, expr))
	}
	return expr.Value(ctx)
}

// runtimeContext is a child of ctx in which each runtime variable that expr
// refers to, such as attr.cpu.arch, is the string "${attr.cpu.arch}".
func runtimeContext(ctx *hcl.EvalContext, expr hcl.Expression) *hcl.EvalContext {
	type node map[string]any // values are node or string
	tree := node{}
	for _, tr := range expr.Variables() {
		if !IsRuntimeRoot(tr.RootName()) {
			continue
		}
		path, text := []string{tr.RootName()}, tr.RootName()
	steps:
		for _, step := range tr[1:] {
			switch s := step.(type) {
			case hcl.TraverseAttr:
				path, text = append(path, s.Name), text+"."+s.Name
			case hcl.TraverseIndex:
				if s.Key.Type() != cty.String || !s.Key.IsKnown() || s.Key.IsNull() {
					break steps
				}
				path, text = append(path, s.Key.AsString()), text+fmt.Sprintf("[%q]", s.Key.AsString())
			default:
				break steps
			}
		}
		n := tree
		for _, name := range path[:len(path)-1] {
			child, ok := n[name].(node)
			if !ok {
				child = node{}
				n[name] = child
			}
			n = child
		}
		if _, isNode := n[path[len(path)-1]].(node); !isNode {
			n[path[len(path)-1]] = "${" + text + "}"
		}
	}
	var value func(n node) map[string]cty.Value
	value = func(n node) map[string]cty.Value {
		out := make(map[string]cty.Value, len(n))
		for name, v := range n {
			if child, ok := v.(node); ok {
				out[name] = cty.ObjectVal(value(child))
			} else {
				out[name] = cty.StringVal(v.(string))
			}
		}
		return out
	}
	child := ctx.NewChild()
	child.Variables = value(tree)
	return child
}

// hasRuntimeRef reports whether the expression refers to a runtime root
// anywhere inside it.
func (e *Experiment) hasRuntimeRef(expr hcl.Expression) bool {
	for _, tr := range expr.Variables() {
		if IsRuntimeRoot(tr.RootName()) {
			return true
		}
	}
	return false
}

// runtimeText returns "${...}" as written in the source when expr is a bare
// reference to a runtime variable.
func (e *Experiment) runtimeText(expr hclsyntax.Expression) (string, bool) {
	var rng hcl.Range
	switch x := expr.(type) {
	case *hclsyntax.ScopeTraversalExpr:
		if !IsRuntimeRoot(x.Traversal.RootName()) {
			return "", false
		}
		rng = x.SrcRange
	case *hclsyntax.RelativeTraversalExpr:
		// ${meta["x"]} parses as a scope traversal with an index; a
		// relative traversal on a runtime root is rare and is not passed
		// through.
		return "", false
	default:
		return "", false
	}
	src, ok := e.Sources[rng.Filename]
	if !ok || rng.End.Byte > len(src) || rng.Start.Byte > rng.End.Byte {
		return "", false
	}
	return "${" + string(src[rng.Start.Byte:rng.End.Byte]) + "}", true
}

// ReferencesTrial reports whether any expression refers to `trial`.
func ReferencesTrial(exprs ...hcl.Expression) bool {
	for _, expr := range exprs {
		if expr == nil {
			continue
		}
		for _, tr := range expr.Variables() {
			if tr.RootName() == "trial" {
				return true
			}
		}
	}
	return false
}

// GoValue converts a known cty value to plain Go values: string, bool,
// int64 or float64 for numbers, []any, map[string]any, nil for null.
func GoValue(v cty.Value) any {
	if v.IsNull() || !v.IsKnown() {
		return nil
	}
	t := v.Type()
	switch {
	case t == cty.String:
		return v.AsString()
	case t == cty.Bool:
		return v.True()
	case t == cty.Number:
		bf := v.AsBigFloat()
		if bf.IsInt() {
			if i, acc := bf.Int64(); acc == big.Exact {
				return i
			}
		}
		f, _ := bf.Float64()
		return f
	case t.IsListType() || t.IsTupleType() || t.IsSetType():
		out := make([]any, 0, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			_, ev := it.Element()
			out = append(out, GoValue(ev))
		}
		return out
	case t.IsMapType() || t.IsObjectType():
		out := map[string]any{}
		for it := v.ElementIterator(); it.Next(); {
			k, ev := it.Element()
			out[k.AsString()] = GoValue(ev)
		}
		return out
	}
	return nil
}
