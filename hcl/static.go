package hcl

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/gocty"

	"github.com/nomad-tune/tune/experiment"
)

// static evaluates attributes whose value is the same for every trial and
// gathers their diagnostics.
type static struct {
	ctx    *hcl.EvalContext
	budget *experiment.Budget
	diags  hcl.Diagnostics
}

func (s *static) fail(a *hcl.Attribute, summary, detail string, args ...any) {
	s.diags = append(s.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(detail, args...),
		Subject:  a.Expr.Range().Ptr(),
	})
}

// value evaluates a and converts it to want; ok is false when that fails
// (the reason is recorded).
func (s *static) value(a *hcl.Attribute, want cty.Type, what string) (cty.Value, bool) {
	if d := noTrialRefs(a.Expr, what, "it is the same for every trial"); d != nil {
		s.diags = append(s.diags, d)
		return cty.NilVal, false
	}
	v, d := a.Expr.Value(s.ctx)
	s.diags = append(s.diags, d...)
	if d.HasErrors() {
		return cty.NilVal, false
	}
	if cd := chargeValue(s.budget, v, a.Expr.Range()); cd != nil {
		s.diags = append(s.diags, cd)
		return cty.NilVal, false
	}
	if v.IsNull() {
		s.fail(a, "Invalid value for "+a.Name, "%s must not be null.", a.Name)
		return cty.NilVal, false
	}
	conv, err := convert.Convert(v, want)
	if err != nil {
		s.fail(a, "Invalid value for "+a.Name, "%s must be %s; this is %s.", a.Name, friendly(want), v.Type().FriendlyName())
		return cty.NilVal, false
	}
	if !conv.IsWhollyKnown() {
		s.fail(a, "Invalid value for "+a.Name, "The value of %s must be known when the file is read.", a.Name)
		return cty.NilVal, false
	}
	return conv, true
}

func friendly(t cty.Type) string {
	switch {
	case t == cty.String:
		return "a string"
	case t == cty.Number:
		return "a number"
	case t == cty.Bool:
		return "true or false"
	case t.IsListType():
		return "a list of " + strings.TrimPrefix(friendly(t.ElementType()), "a ") + "s"
	case t.IsMapType():
		return "a map of " + strings.TrimPrefix(friendly(t.ElementType()), "a ") + "s"
	}
	return t.FriendlyName()
}

func (s *static) str(a *hcl.Attribute) (string, bool) {
	v, ok := s.value(a, cty.String, a.Name)
	if !ok {
		return "", false
	}
	return v.AsString(), true
}

func (s *static) boolean(a *hcl.Attribute) (bool, bool) {
	v, ok := s.value(a, cty.Bool, a.Name)
	if !ok {
		return false, false
	}
	return v.True(), true
}

func (s *static) number(a *hcl.Attribute) (float64, bool) {
	v, ok := s.value(a, cty.Number, a.Name)
	if !ok {
		return 0, false
	}
	var f float64
	_ = gocty.FromCtyValue(v, &f)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		s.fail(a, "Invalid value for "+a.Name, "%s must be a finite number.", a.Name)
		return 0, false
	}
	return f, true
}

// integer reads a whole number within [lo, hi].
func (s *static) integer(a *hcl.Attribute, lo, hi int64) (int64, bool) {
	f, ok := s.number(a)
	if !ok {
		return 0, false
	}
	if f != math.Trunc(f) {
		s.fail(a, "Invalid value for "+a.Name, "%s must be a whole number; got %s.", a.Name, experiment.FormatNumber(f))
		return 0, false
	}
	// float64(math.MaxInt64) is 2^63, one past the largest int64.
	tooBig := f > float64(hi) || hi == math.MaxInt64 && f >= float64(hi)
	if f < float64(lo) || tooBig {
		switch {
		case hi != math.MaxInt32 && hi != math.MaxInt64:
			s.fail(a, "Invalid value for "+a.Name, "%s must be between %d and %d; got %s.", a.Name, lo, hi, experiment.FormatNumber(f))
		case tooBig:
			s.fail(a, "Invalid value for "+a.Name, "%s must be at most %d; got %s.", a.Name, hi, experiment.FormatNumber(f))
		default:
			s.fail(a, "Invalid value for "+a.Name, "%s must be at least %d; got %s.", a.Name, lo, experiment.FormatNumber(f))
		}
		return 0, false
	}
	return int64(f), true
}

// duration reads a positive duration string such as "10m".
func (s *static) duration(a *hcl.Attribute) (time.Duration, bool) {
	text, ok := s.str(a)
	if !ok {
		return 0, false
	}
	d, err := experiment.ParseDuration(text)
	if err != nil {
		s.fail(a, "Invalid duration for "+a.Name, "%s: %s.", a.Name, err)
		return 0, false
	}
	if d <= 0 {
		s.fail(a, "Invalid duration for "+a.Name, "%s must be longer than 0; got %q.", a.Name, text)
		return 0, false
	}
	return d, true
}

// enum reads a string that must be one of allowed.
func (s *static) enum(a *hcl.Attribute, allowed ...string) (string, bool) {
	text, ok := s.str(a)
	if !ok {
		return "", false
	}
	for _, v := range allowed {
		if text == v {
			return text, true
		}
	}
	quoted := make([]string, len(allowed))
	for i, v := range allowed {
		quoted[i] = fmt.Sprintf("%q", v)
	}
	s.fail(a, "Invalid value for "+a.Name, "%s must be one of %s; got %q%s.", a.Name, strings.Join(quoted, ", "), text, suggest(text, allowed))
	return "", false
}

func (s *static) stringList(a *hcl.Attribute) ([]string, bool) {
	v, ok := s.value(a, cty.List(cty.String), a.Name)
	if !ok {
		return nil, false
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, ev := it.Element()
		if ev.IsNull() {
			s.fail(a, "Invalid value for "+a.Name, "The elements of %s must not be null.", a.Name)
			return nil, false
		}
		out = append(out, ev.AsString())
	}
	return out, true
}

func (s *static) stringMap(a *hcl.Attribute) (map[string]string, bool) {
	v, ok := s.value(a, cty.Map(cty.String), a.Name)
	if !ok {
		return nil, false
	}
	out := map[string]string{}
	for it := v.ElementIterator(); it.Next(); {
		k, ev := it.Element()
		if ev.IsNull() {
			s.fail(a, "Invalid value for "+a.Name, "The value of %q in %s must not be null.", k.AsString(), a.Name)
			return nil, false
		}
		out[k.AsString()] = ev.AsString()
	}
	return out, true
}

func (s *static) numberMap(a *hcl.Attribute) (map[string]float64, bool) {
	v, ok := s.value(a, cty.Map(cty.Number), a.Name)
	if !ok {
		return nil, false
	}
	out := map[string]float64{}
	for it := v.ElementIterator(); it.Next(); {
		k, ev := it.Element()
		if ev.IsNull() {
			s.fail(a, "Invalid value for "+a.Name, "The value of %q in %s must not be null.", k.AsString(), a.Name)
			return nil, false
		}
		var f float64
		_ = gocty.FromCtyValue(ev, &f)
		out[k.AsString()] = f
	}
	return out, true
}
