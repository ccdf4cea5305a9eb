package experiment

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Kind names a distribution, with Ray Tune's names.
type Kind string

const (
	KindConstant    Kind = "constant"
	KindGrid        Kind = "grid"
	KindChoice      Kind = "choice"
	KindUniform     Kind = "uniform"
	KindQUniform    Kind = "quniform"
	KindLogUniform  Kind = "loguniform"
	KindQLogUniform Kind = "qloguniform"
	KindRandInt     Kind = "randint"
	KindQRandInt    Kind = "qrandint"
	KindLogRandInt  Kind = "lograndint"
	KindQLogRandInt Kind = "qlograndint"
	KindRandN       Kind = "randn"
	KindQRandN      Kind = "qrandn"
)

// Distribution is where one parameter's values come from. Its fields are
// checked when it is built (see the constructors in package hcl); Sample
// trusts them.
type Distribution struct {
	Kind Kind
	// Lo and Hi bound uniform and integer draws; for randn they are the mean
	// and the standard deviation.
	Lo, Hi float64
	// Q quantises a draw to a multiple of Q; 0 means no quantisation.
	Q float64
	// Base is the logarithm base of log draws (it does not change the
	// distribution, only how Ray Tune documents it).
	Base float64
	// Values are the options of grid and choice, and the one value of a
	// constant.
	Values []cty.Value
}

// IsRandom reports whether the distribution draws from the random source.
func (d *Distribution) IsRandom() bool {
	return d.Kind != KindConstant && d.Kind != KindGrid
}

// Type is the cty type of the values the distribution yields;
// cty.DynamicPseudoType when options of a grid or choice differ in type.
func (d *Distribution) Type() cty.Type {
	switch d.Kind {
	case KindConstant, KindGrid, KindChoice:
		if len(d.Values) == 0 {
			return cty.DynamicPseudoType
		}
		t := d.Values[0].Type()
		for _, v := range d.Values[1:] {
			if !v.Type().Equals(t) {
				return cty.DynamicPseudoType
			}
		}
		return t
	default:
		return cty.Number
	}
}

// Sample draws one value. Grid and constant distributions are not sampled;
// the trial generator expands them.
func (d *Distribution) Sample(r *rand.Rand) cty.Value {
	switch d.Kind {
	case KindChoice:
		return d.Values[r.IntN(len(d.Values))]
	case KindRandInt, KindQRandInt:
		v := int64(d.Lo) + r.Int64N(int64(d.Hi)-int64(d.Lo))
		return cty.NumberIntVal(d.quantiseInt(v))
	case KindRandN, KindQRandN:
		return d.AtUnit(r.NormFloat64())
	case KindUniform, KindQUniform, KindLogUniform, KindQLogUniform, KindLogRandInt, KindQLogRandInt:
		return d.AtUnit(r.Float64())
	}
	panic(fmt.Sprintf("experiment: %s is not sampled", d.Kind))
}

// AtUnit maps a point of the distribution's unit scale to its value: for
// bounded numeric kinds u in [0, 1) spans the range (in logarithms for log
// kinds), then the value is rounded as the kind rounds; for randn u counts
// standard deviations from the mean. Adaptive search works on this scale.
func (d *Distribution) AtUnit(u float64) cty.Value {
	switch d.Kind {
	case KindUniform, KindQUniform:
		return cty.NumberFloatVal(d.quantise(d.Lo + u*(d.Hi-d.Lo)))
	case KindLogUniform, KindQLogUniform:
		lo, hi := math.Log(d.Lo), math.Log(d.Hi)
		return cty.NumberFloatVal(d.quantise(math.Exp(lo + u*(hi-lo))))
	case KindRandInt, KindQRandInt:
		v := int64(math.Floor(d.Lo + u*(d.Hi-d.Lo)))
		return cty.NumberIntVal(d.quantiseInt(min(max(v, int64(d.Lo)), int64(d.Hi)-1)))
	case KindLogRandInt, KindQLogRandInt:
		lo, hi := math.Log(d.Lo), math.Log(d.Hi)
		v := int64(math.Floor(math.Exp(lo + u*(hi-lo))))
		// Floating point may land exactly on the exclusive upper bound.
		return cty.NumberIntVal(d.quantiseInt(min(max(v, int64(d.Lo)), int64(d.Hi)-1)))
	case KindRandN, KindQRandN:
		return cty.NumberFloatVal(d.quantise(d.Lo + u*d.Hi))
	}
	panic(fmt.Sprintf("experiment: %s has no unit scale", d.Kind))
}

// UnitBin is the interval of the unit scale (see AtUnit) whose points give
// the value v, for kinds whose values are discrete; discrete is false for
// continuous kinds, whose v is one point, ToUnit(v).
func (d *Distribution) UnitBin(v float64) (lo, hi float64, discrete bool) {
	var a, b float64
	switch {
	case d.Q > 0 && !(d.Q == 1 && d.integer()):
		a, b = v-d.Q/2, v+d.Q/2
	case d.integer():
		a, b = v, v+1
	default:
		u := d.ToUnit(v)
		return u, u, false
	}
	lo, hi = d.ToUnit(a), d.ToUnit(b)
	if d.Kind != KindRandN && d.Kind != KindQRandN {
		lo, hi = max(lo, 0), min(hi, 1)
	}
	return lo, hi, true
}

// ToUnit is the inverse of AtUnit before rounding: where value v lies on
// the unit scale. Values below a log range's bound map to its bottom.
func (d *Distribution) ToUnit(v float64) float64 {
	switch d.Kind {
	case KindLogUniform, KindQLogUniform, KindLogRandInt, KindQLogRandInt:
		lo, hi := math.Log(d.Lo), math.Log(d.Hi)
		return (math.Log(max(v, d.Lo)) - lo) / (hi - lo)
	case KindRandN, KindQRandN:
		return (v - d.Lo) / d.Hi
	}
	return (v - d.Lo) / (d.Hi - d.Lo)
}

func (d *Distribution) integer() bool {
	switch d.Kind {
	case KindRandInt, KindQRandInt, KindLogRandInt, KindQLogRandInt:
		return true
	}
	return false
}

func (d *Distribution) quantise(v float64) float64 {
	if d.Q == 0 {
		return v
	}
	q := math.Round(v/d.Q) * d.Q
	// Keep the printed value short: 0.1*3 is 0.30000000000000004.
	return roundSignificant(q, 12)
}

func (d *Distribution) quantiseInt(v int64) int64 {
	if d.Q == 0 || d.Q == 1 {
		return v
	}
	q := int64(d.Q)
	return int64(math.Round(float64(v)/float64(q))) * q
}

func roundSignificant(v float64, digits int) float64 {
	if v == 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return v
	}
	// Round in decimal: scaling by a power of ten and back adds its own
	// float noise (1e30 would come back as 9.999999999999999e+29).
	r, err := strconv.ParseFloat(strconv.FormatFloat(v, 'g', digits, 64), 64)
	if err != nil {
		return v
	}
	return r
}

// Param is one named parameter of the search space.
type Param struct {
	Name  string
	Dist  *Distribution
	Range hcl.Range
}

// Space is the ordered list of parameters; the order is the order in the
// file, and it fixes both the grid expansion and the order of random draws.
type Space struct {
	Params []*Param
}

// Names lists the parameter names in order.
func (s *Space) Names() []string {
	names := make([]string, len(s.Params))
	for i, p := range s.Params {
		names[i] = p.Name
	}
	return names
}

// Lookup finds a parameter by name.
func (s *Space) Lookup(name string) *Param {
	for _, p := range s.Params {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// GridPoints is the number of grid combinations (1 when there is no grid).
// It saturates at math.MaxInt rather than overflow.
func (s *Space) GridPoints() int {
	n := 1
	for _, p := range s.Params {
		if p.Dist.Kind == KindGrid {
			k := len(p.Dist.Values)
			if k != 0 && n > math.MaxInt/k {
				return math.MaxInt
			}
			n *= k
		}
	}
	return n
}
