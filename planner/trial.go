package planner

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/big"
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/nomad-tune/tune/experiment"
)

// Trial is one run of the trainable with one set of parameter values.
type Trial struct {
	// ID is short, stable and unique within the experiment, e.g.
	// "00042-7f3a9c": the index, then a hash of the experiment name and the
	// trial's values, so a trial whose values change gets a new ID.
	ID string
	// Index is the trial's position, from 0.
	Index int
	// Sample is which of num_samples this trial belongs to; GridPoint which
	// grid combination.
	Sample    int
	GridPoint int
	// Values are the parameter values in Space order.
	Values []cty.Value
	// Shape is the trial's evaluated resource request. It may be shared
	// with other trials: do not modify it.
	Shape *experiment.Shape
	// Suggested says an adaptive searcher (search "tpe") chooses the
	// trial's drawn values when it is about to start: until then Values
	// and Shape are random search's, which is what the searcher gives a
	// trial before enough others have finished. Its ID does not depend on
	// its values, so it stays when they are chosen.
	Suggested bool
}

// Vars is what the trial's expressions see as `trial`.
func (t *Trial) Vars() experiment.TrialVars {
	return experiment.TrialVars{ID: t.ID, Index: t.Index, Values: t.Values}
}

// Params returns the trial's values as plain Go values keyed by name.
func (t *Trial) Params(space *experiment.Space) map[string]any {
	out := make(map[string]any, len(space.Params))
	for i, p := range space.Params {
		out[p.Name] = experiment.GoValue(t.Values[i])
	}
	return out
}

// MaxTrials bounds the number of trials one experiment may have, so a typo
// in num_samples or a huge grid is an error instead of an out-of-memory.
const MaxTrials = experiment.MaxTrials

// MaxTrialValues bounds trials × parameters, the values every trial holds:
// 250,000 trials of 20 parameters, or 5,000 trials of 1,000.
const MaxTrialValues = 5_000_000

// Trials generates every trial of the experiment: for each of num_samples,
// every grid point, with random parameters drawn from a source seeded by
// the experiment seed and the trial index, so the same file and seed always
// give the same trials and trial i does not change when num_samples grows.
// Grid points vary the last grid parameter fastest.
//
// An open-ended experiment (num_samples = -1) has no count: Trials gives
// its first pass over the grid, and the controller asks TrialRange for
// more as the run goes on.
//
// Each trial's shape is resolved; errors of a trial's resources are
// reported once per expression with the first trial that shows them.
func Trials(e *experiment.Experiment) ([]*Trial, hcl.Diagnostics) {
	points := e.Space.GridPoints()
	if e.OpenEnded() {
		return TrialRange(e, 0, min(points, e.TrialCap()))
	}
	samples := max(e.NumSamples, 1)
	if points > MaxTrials/samples {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Too many trials",
			Detail:   fmt.Sprintf("The grid has %d points and num_samples is %d: more than the %d trials tune handles in one experiment.", points, samples, MaxTrials),
			Subject:  e.DefRange.Ptr(),
		}}
	}
	return TrialRange(e, 0, points*samples)
}

// TrialRange generates the trials with indices from to to-1: trial i is
// grid point i mod the grid's size of sample i div it, the same trial
// whatever else is generated.
func TrialRange(e *experiment.Experiment, from, to int) ([]*Trial, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	points := e.Space.GridPoints()
	if to > MaxTrials {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Too many trials",
			Detail:   fmt.Sprintf("%s: more than the %d trials tune handles in one experiment.", experiment.Count(to, "trial"), MaxTrials),
			Subject:  e.DefRange.Ptr(),
		}}
	}
	n := len(e.Space.Params)
	if n > 0 && to > MaxTrialValues/n {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Too many trial values",
			Detail:   fmt.Sprintf("%s × %s is %d values: more than the %d tune holds for one experiment. Use fewer trials or fewer parameters.", experiment.Count(to, "trial"), experiment.Count(n, "parameter"), to*n, MaxTrialValues),
			Subject:  e.DefRange.Ptr(),
		}}
	}
	count := max(to-from, 0)
	trials := make([]*Trial, 0, count)
	// One backing array for every trial's values keeps 100,000 trials to a
	// few allocations.
	values := make([]cty.Value, count*n)
	seen := map[string]bool{}
	idHash := fnv.New64a()
	adaptive := e.Search.Adaptive()
	key := []cty.Value{cty.StringVal(definitionKey(e))}
	for index := from; index < to; index++ {
		s, g := index/points, index%points
		k := index - from
		vals := values[k*n : (k+1)*n : (k+1)*n]
		e.Space.TrialValues(e.Seed, index, g, vals)
		t := &Trial{Index: index, Sample: s, GridPoint: g, Values: vals}
		t.ID = trialID(idHash, e.Name, index, vals)
		if adaptive {
			// The first samples of each grid point are drawn at random
			// whatever has finished; the others are suggested.
			t.Suggested = s >= e.Search.StartupTrials
			t.ID = trialID(idHash, e.Name, index, key)
		}
		shape, d := e.ResolveShape(t.Vars())
		for _, diag := range d {
			key := diag.Summary + "@" + rangeKey(diag.Subject)
			if seen[key] {
				continue
			}
			seen[key] = true
			diag.Detail = fmt.Sprintf("%s (first seen in trial %s, %s)", diag.Detail, t.ID, FormatParams(&e.Space, vals))
			diags = append(diags, diag)
		}
		t.Shape = shape
		trials = append(trials, t)
	}
	return trials, diags
}

func rangeKey(r *hcl.Range) string {
	if r == nil {
		return ""
	}
	return r.String()
}

// definitionKey is what an adaptive trial's ID hashes instead of its
// values, which are chosen during the run: the space, the seed and the
// search settings, so a changed definition still changes every ID and a
// results folder of another definition is not resumed.
func definitionKey(e *experiment.Experiment) string {
	key := fmt.Sprintf("%s %d %d %g %d", e.Search.Algorithm, e.Search.StartupTrials, e.Search.Candidates, e.Search.PriorWeight, e.Seed)
	for _, p := range e.Space.Params {
		d := p.Dist
		key += fmt.Sprintf("\x00%s %s %g %g %g", p.Name, d.Kind, d.Lo, d.Hi, d.Q)
		for _, v := range d.Values {
			key += " " + valueText(v)
		}
	}
	return key
}

func trialID(h interface {
	Reset()
	Write([]byte) (int, error)
	Sum64() uint64
}, experimentName string, index int, vals []cty.Value) string {
	h.Reset()
	h.Write([]byte(experimentName))
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], uint64(index))
	h.Write(buf[:])
	for _, v := range vals {
		h.Write([]byte{0})
		h.Write([]byte(valueText(v)))
	}
	return fmt.Sprintf("%05d-%06x", index, h.Sum64()&0xffffff)
}

// valueText is a canonical text of a value, for IDs and display.
func valueText(v cty.Value) string {
	if !v.IsKnown() || v.IsNull() {
		return "null"
	}
	switch v.Type() {
	case cty.String:
		return v.AsString()
	case cty.Bool:
		return strconv.FormatBool(v.True())
	case cty.Number:
		// The same text JSON gives, without the detour through it.
		bf := v.AsBigFloat()
		if bf.IsInt() {
			if i, acc := bf.Int64(); acc == big.Exact {
				return strconv.FormatInt(i, 10)
			}
		}
		f, _ := bf.Float64()
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	b, err := json.Marshal(experiment.GoValue(v))
	if err != nil {
		return v.GoString()
	}
	return string(b)
}

// FormatParams prints a trial's values as "x=0.42, layers=3, opt=adam".
func FormatParams(s *experiment.Space, vals []cty.Value) string {
	out := ""
	for i, p := range s.Params {
		if i > 0 {
			out += ", "
		}
		out += p.Name + "=" + FormatValue(vals[i])
	}
	return out
}

// FormatValue prints one parameter value compactly.
func FormatValue(v cty.Value) string {
	if v.Type() == cty.Number && v.IsKnown() && !v.IsNull() {
		f, _ := v.AsBigFloat().Float64()
		return experiment.FormatNumber(f)
	}
	return valueText(v)
}
