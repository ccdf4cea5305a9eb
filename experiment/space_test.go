package experiment_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"

	"github.com/nomad-tune/tune/experiment"
)

const draws = 10_000

// sample draws n values from d with a fixed seed and returns them as
// float64, requiring each to be a known number.
func sample(t *testing.T, d *experiment.Distribution, n int) []float64 {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]float64, n)
	for i := range out {
		v := d.Sample(r)
		require.Equal(t, cty.Number, v.Type())
		require.True(t, v.IsKnown() && !v.IsNull())
		out[i], _ = v.AsBigFloat().Float64()
	}
	return out
}

func isMultiple(v, q float64) bool {
	k := math.Round(v / q)
	return math.Abs(v-k*q) <= 1e-9*math.Max(1, math.Abs(v))
}

func TestSampleStaysWithinTheBoundsOfEveryDistribution(t *testing.T) {
	tests := []struct {
		name string
		dist experiment.Distribution
		// check is asserted for every draw.
		check func(t *testing.T, v float64)
		// seen, when set, are values that many draws must produce.
		seen []float64
	}{
		{
			name: "uniform draws in [lo, hi)",
			dist: experiment.Distribution{Kind: experiment.KindUniform, Lo: -5, Hi: 5},
			check: func(t *testing.T, v float64) {
				assert.GreaterOrEqual(t, v, -5.0)
				assert.Less(t, v, 5.0)
			},
		},
		{
			name: "quniform draws multiples of q within the bounds",
			dist: experiment.Distribution{Kind: experiment.KindQUniform, Lo: 0, Hi: 1, Q: 0.1},
			check: func(t *testing.T, v float64) {
				assert.True(t, isMultiple(v, 0.1), "%v is not a multiple of 0.1", v)
				assert.GreaterOrEqual(t, v, 0.0)
				assert.LessOrEqual(t, v, 1.0)
			},
			seen: []float64{0, 0.3, 1},
		},
		{
			name: "loguniform draws within the bounds",
			dist: experiment.Distribution{Kind: experiment.KindLogUniform, Lo: 1e-4, Hi: 1e-1, Base: 10},
			check: func(t *testing.T, v float64) {
				assert.GreaterOrEqual(t, v, 1e-4)
				assert.Less(t, v, 1e-1)
			},
		},
		{
			name: "qloguniform draws multiples of q",
			dist: experiment.Distribution{Kind: experiment.KindQLogUniform, Lo: 1, Hi: 1000, Q: 5, Base: 10},
			check: func(t *testing.T, v float64) {
				assert.True(t, isMultiple(v, 5), "%v is not a multiple of 5", v)
				assert.GreaterOrEqual(t, v, 0.0)
				assert.LessOrEqual(t, v, 1000.0)
			},
		},
		{
			name: "randint draws whole numbers in [lo, hi)",
			dist: experiment.Distribution{Kind: experiment.KindRandInt, Lo: -2, Hi: 3},
			check: func(t *testing.T, v float64) {
				assert.Equal(t, math.Trunc(v), v)
				assert.GreaterOrEqual(t, v, -2.0)
				assert.Less(t, v, 3.0)
			},
			seen: []float64{-2, -1, 0, 1, 2},
		},
		{
			name: "qrandint draws multiples of q, and quantisation makes hi reachable",
			dist: experiment.Distribution{Kind: experiment.KindQRandInt, Lo: 0, Hi: 100, Q: 10},
			check: func(t *testing.T, v float64) {
				assert.True(t, isMultiple(v, 10), "%v is not a multiple of 10", v)
				assert.GreaterOrEqual(t, v, 0.0)
				assert.LessOrEqual(t, v, 100.0)
			},
			seen: []float64{0, 50, 100},
		},
		{
			name: "lograndint draws whole numbers in [lo, hi)",
			dist: experiment.Distribution{Kind: experiment.KindLogRandInt, Lo: 1, Hi: 8, Base: 10},
			check: func(t *testing.T, v float64) {
				assert.Equal(t, math.Trunc(v), v)
				assert.GreaterOrEqual(t, v, 1.0)
				assert.Less(t, v, 8.0)
			},
			seen: []float64{1, 2, 7},
		},
		{
			name: "qlograndint draws multiples of q",
			dist: experiment.Distribution{Kind: experiment.KindQLogRandInt, Lo: 1, Hi: 1024, Q: 4, Base: 10},
			check: func(t *testing.T, v float64) {
				assert.True(t, isMultiple(v, 4), "%v is not a multiple of 4", v)
				assert.GreaterOrEqual(t, v, 0.0)
				assert.LessOrEqual(t, v, 1024.0)
			},
		},
		{
			name: "qrandn draws multiples of q",
			dist: experiment.Distribution{Kind: experiment.KindQRandN, Lo: 0, Hi: 1, Q: 0.25},
			check: func(t *testing.T, v float64) {
				assert.True(t, isMultiple(v, 0.25), "%v is not a multiple of 0.25", v)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := map[float64]bool{}
			for _, v := range sample(t, &tt.dist, draws) {
				tt.check(t, v)
				seen[v] = true
			}
			for _, v := range tt.seen {
				assert.True(t, seen[v], "%v never drawn in %d draws", v, draws)
			}
		})
	}
}

func TestLogUniformIsUniformInTheLogarithm(t *testing.T) {
	d := experiment.Distribution{Kind: experiment.KindLogUniform, Lo: 1e-4, Hi: 1, Base: 10}
	below := 0
	for _, v := range sample(t, &d, draws) {
		if v < 1e-2 {
			below++
		}
	}
	// 1e-2 is half way in the logarithm.
	assert.InDelta(t, 0.5, float64(below)/draws, 0.03)
}

func TestRandnHasTheMeanAndSpreadAsked(t *testing.T) {
	d := experiment.Distribution{Kind: experiment.KindRandN, Lo: 5, Hi: 2}
	vals := sample(t, &d, draws)
	var sum, sq float64
	for _, v := range vals {
		sum += v
	}
	mean := sum / draws
	for _, v := range vals {
		sq += (v - mean) * (v - mean)
	}
	sd := math.Sqrt(sq / (draws - 1))
	// The standard error of the mean is 2/sqrt(10000) = 0.02.
	assert.InDelta(t, 5, mean, 0.1)
	assert.InDelta(t, 2, sd, 0.1)
}

func TestChoiceYieldsOnlyItsOptionsAndEachOfThem(t *testing.T) {
	options := []cty.Value{cty.StringVal("adam"), cty.StringVal("sgd"), cty.NumberIntVal(3)}
	d := experiment.Distribution{Kind: experiment.KindChoice, Values: options}
	r := rand.New(rand.NewPCG(7, 7))
	counts := make([]int, len(options))
	for range draws {
		v := d.Sample(r)
		found := false
		for i, o := range options {
			if v.RawEquals(o) {
				counts[i]++
				found = true
			}
		}
		require.True(t, found, "%#v is not an option", v)
	}
	for i, c := range counts {
		assert.InDelta(t, draws/3, c, draws/20, "option %d drawn %d times", i, c)
	}
}

func TestSampleIsDeterministicForASource(t *testing.T) {
	d := experiment.Distribution{Kind: experiment.KindUniform, Lo: 0, Hi: 1}
	a := rand.New(rand.NewPCG(42, 1))
	b := rand.New(rand.NewPCG(42, 1))
	for range 100 {
		assert.True(t, d.Sample(a).RawEquals(d.Sample(b)))
	}
}

func TestGridAndConstantAreNotSampled(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, kind := range []experiment.Kind{experiment.KindGrid, experiment.KindConstant} {
		d := experiment.Distribution{Kind: kind, Values: []cty.Value{cty.NumberIntVal(1)}}
		assert.False(t, d.IsRandom(), "%s", kind)
		assert.Panics(t, func() { d.Sample(r) }, "%s", kind)
	}
	assert.True(t, (&experiment.Distribution{Kind: experiment.KindChoice}).IsRandom())
	assert.True(t, (&experiment.Distribution{Kind: experiment.KindRandN}).IsRandom())
}

func TestDistributionTypeIsTheTypeOfItsValues(t *testing.T) {
	tests := []struct {
		name string
		dist experiment.Distribution
		want cty.Type
	}{
		{"numeric distributions give numbers", experiment.Distribution{Kind: experiment.KindLogUniform}, cty.Number},
		{"a choice of strings gives strings", experiment.Distribution{Kind: experiment.KindChoice, Values: []cty.Value{cty.StringVal("a"), cty.StringVal("b")}}, cty.String},
		{"a grid of mixed values has no one type", experiment.Distribution{Kind: experiment.KindGrid, Values: []cty.Value{cty.StringVal("a"), cty.NumberIntVal(1)}}, cty.DynamicPseudoType},
		{"a constant has its value's type", experiment.Distribution{Kind: experiment.KindConstant, Values: []cty.Value{cty.True}}, cty.Bool},
		{"no values have no type", experiment.Distribution{Kind: experiment.KindChoice}, cty.DynamicPseudoType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.True(t, tt.want.Equals(tt.dist.Type()), "got %s", tt.dist.Type().FriendlyName())
		})
	}
}

func values(n int) []cty.Value {
	out := make([]cty.Value, n)
	for i := range out {
		out[i] = cty.NumberIntVal(int64(i))
	}
	return out
}

func TestGridPointsMultipliesTheGridSizes(t *testing.T) {
	param := func(name string, d experiment.Distribution) *experiment.Param {
		return &experiment.Param{Name: name, Dist: &d}
	}
	huge := values(1 << 16)
	tests := []struct {
		name  string
		space experiment.Space
		want  int
	}{
		{"an empty space is one point", experiment.Space{}, 1},
		{
			"random parameters add no points",
			experiment.Space{Params: []*experiment.Param{param("x", experiment.Distribution{Kind: experiment.KindUniform, Lo: 0, Hi: 1}), param("c", experiment.Distribution{Kind: experiment.KindChoice, Values: values(5)})}},
			1,
		},
		{
			"two grids multiply",
			experiment.Space{Params: []*experiment.Param{
				param("a", experiment.Distribution{Kind: experiment.KindGrid, Values: values(3)}),
				param("x", experiment.Distribution{Kind: experiment.KindUniform, Lo: 0, Hi: 1}),
				param("b", experiment.Distribution{Kind: experiment.KindGrid, Values: values(2)}),
			}},
			6,
		},
		{
			"a product past the largest int saturates",
			experiment.Space{Params: []*experiment.Param{
				param("a", experiment.Distribution{Kind: experiment.KindGrid, Values: huge}),
				param("b", experiment.Distribution{Kind: experiment.KindGrid, Values: huge}),
				param("c", experiment.Distribution{Kind: experiment.KindGrid, Values: huge}),
				param("d", experiment.Distribution{Kind: experiment.KindGrid, Values: huge}),
			}},
			math.MaxInt,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.space.GridPoints())
		})
	}
}

func TestSpaceNamesAndLookupKeepTheFileOrder(t *testing.T) {
	s := experiment.Space{Params: []*experiment.Param{
		{Name: "z", Dist: &experiment.Distribution{Kind: experiment.KindUniform}},
		{Name: "a", Dist: &experiment.Distribution{Kind: experiment.KindGrid}},
	}}
	assert.Equal(t, []string{"z", "a"}, s.Names())
	assert.Equal(t, experiment.KindGrid, s.Lookup("a").Dist.Kind)
	assert.Nil(t, s.Lookup("missing"))
}
