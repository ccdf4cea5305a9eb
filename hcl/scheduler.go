package hcl

import (
	"fmt"
	"math"

	"github.com/hashicorp/hcl/v2"

	"github.com/nomad-tune/tune/experiment"
)

// schedulerSchemas are the attributes each scheduler takes: one that
// belongs to another scheduler is an error at its line, not ignored.
var schedulerSchemas = map[experiment.SchedulerKind]*hcl.BodySchema{
	experiment.SchedulerASHA: {Attributes: []hcl.AttributeSchema{
		{Name: "time_attr"}, {Name: "max_t"}, {Name: "grace_period"}, {Name: "reduction_factor"}, {Name: "brackets"},
	}},
	experiment.SchedulerHyperBand: {Attributes: []hcl.AttributeSchema{
		{Name: "time_attr"}, {Name: "max_t"}, {Name: "reduction_factor"},
	}},
	experiment.SchedulerMedian: {Attributes: []hcl.AttributeSchema{
		{Name: "time_attr"}, {Name: "grace_period"}, {Name: "min_samples_required"},
	}},
}

var schedulerKinds = []string{string(experiment.SchedulerASHA), string(experiment.SchedulerHyperBand), string(experiment.SchedulerMedian)}

// maxBrackets bounds asha's brackets: each needs a rung fewer than the
// one before, and more than a handful only spreads trials thin.
const maxBrackets = 100

// scheduler decodes the experiment's scheduler block, if any: Ray Tune's
// defaults for what it leaves out, and the experiment's metric and mode
// to rank trials by.
func (d *decoder) scheduler(blocks []*hcl.Block, exp *experiment.Experiment) *experiment.Scheduler {
	if len(blocks) == 0 {
		return nil
	}
	for _, b := range blocks[1:] {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Duplicate scheduler block",
			Detail:   fmt.Sprintf("An experiment has at most one scheduler; the first is at %s.", blocks[0].DefRange),
			Subject:  b.DefRange.Ptr(),
		})
	}
	b := blocks[0]
	kind := experiment.SchedulerKind(b.Labels[0])
	schema, ok := schedulerSchemas[kind]
	if !ok {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unknown scheduler",
			Detail:   fmt.Sprintf("%q is not a scheduler; use \"asha\", \"hyperband\" or \"median\"%s.", kind, suggest(string(kind), schedulerKinds)),
			Subject:  b.LabelRanges[0].Ptr(),
		})
		return nil
	}
	if exp.Metric == "" {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Scheduler without a metric",
			Detail:   fmt.Sprintf("The %s scheduler stops trials that rank badly on the experiment's metric: add metric = \"loss\" and mode = \"min\" (or the metric your trials report).", kind),
			Subject:  b.DefRange.Ptr(),
		})
	}
	s := &experiment.Scheduler{Kind: kind, TimeAttr: "training_iteration", DefRange: b.DefRange}
	switch kind {
	case experiment.SchedulerASHA:
		s.MaxT, s.GracePeriod = experiment.DefaultASHAMaxT, experiment.DefaultASHAGracePeriod
		s.ReductionFactor, s.Brackets = experiment.DefaultASHAReductionFactor, experiment.DefaultASHABrackets
	case experiment.SchedulerHyperBand:
		s.MaxT, s.ReductionFactor = experiment.DefaultHyperBandMaxT, experiment.DefaultHyperBandReductionFactor
	case experiment.SchedulerMedian:
		s.TimeAttr = "time_total_s"
		s.GracePeriod, s.MinSamplesRequired = experiment.DefaultMedianGracePeriod, experiment.DefaultMedianMinSamplesRequired
	}
	content, diags := b.Body.Content(schema)
	d.diags = append(d.diags, diags...)
	attrs := content.Attributes
	if a, ok := attrs["time_attr"]; ok {
		if v, ok := d.str(a); ok {
			if v == "" {
				d.fail(a, "Invalid value for time_attr", "time_attr names the reported field that measures progress, such as \"training_iteration\" or \"time_total_s\".")
			} else {
				s.TimeAttr = v
			}
		}
	}
	positive := func(name string, dst *float64, zeroOK bool) {
		a, ok := attrs[name]
		if !ok {
			return
		}
		v, ok := d.number(a)
		switch {
		case !ok:
		case v < 0 || v == 0 && !zeroOK:
			want := "greater than 0"
			if zeroOK {
				want = "0 or more"
			}
			d.fail(a, "Invalid value for "+name, "%s must be %s; got %s.", name, want, experiment.FormatNumber(v))
		default:
			*dst = v
		}
	}
	positive("max_t", &s.MaxT, false)
	positive("grace_period", &s.GracePeriod, kind == experiment.SchedulerMedian)
	if a, ok := attrs["reduction_factor"]; ok {
		if v, ok := d.number(a); ok {
			if v <= 1 {
				d.fail(a, "Invalid value for reduction_factor", "reduction_factor must be greater than 1: it is how many trials reach a rung for each that passes it; got %s.", experiment.FormatNumber(v))
			} else {
				s.ReductionFactor = v
			}
		}
	}
	if a, ok := attrs["brackets"]; ok {
		if v, ok := d.integer(a, 1, maxBrackets); ok {
			s.Brackets = int(v)
		}
	}
	if a, ok := attrs["min_samples_required"]; ok {
		if v, ok := d.integer(a, 1, math.MaxInt32); ok {
			s.MinSamplesRequired = int(v)
		}
	}
	d.checkRungs(s, attrs)
	return s
}

// checkRungs refuses asha settings that leave no rung to stop at, and
// brackets that would have no rungs (Ray Tune fails on both at run time).
func (d *decoder) checkRungs(s *experiment.Scheduler, attrs hcl.Attributes) {
	if s.Kind != experiment.SchedulerASHA {
		return
	}
	at := func(names ...string) *hcl.Range {
		for _, n := range names {
			if a, ok := attrs[n]; ok {
				return a.Expr.Range().Ptr()
			}
		}
		return s.DefRange.Ptr()
	}
	if s.MaxT <= s.GracePeriod {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid asha scheduler",
			Detail:   fmt.Sprintf("max_t (%s) must be greater than grace_period (%s): trials are first judged at grace_period and end at max_t.", experiment.FormatNumber(s.MaxT), experiment.FormatNumber(s.GracePeriod)),
			Subject:  at("max_t", "grace_period"),
		})
		return
	}
	rungs := int(math.Log(s.MaxT/s.GracePeriod)/math.Log(s.ReductionFactor) + 1)
	if s.Brackets > rungs {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid asha scheduler",
			Detail:   fmt.Sprintf("brackets = %d needs as many rungs, but grace_period %s, max_t %s and reduction_factor %s make %d; use at most brackets = %d.", s.Brackets, experiment.FormatNumber(s.GracePeriod), experiment.FormatNumber(s.MaxT), experiment.FormatNumber(s.ReductionFactor), rungs, rungs),
			Subject:  at("brackets"),
		})
	}
}
