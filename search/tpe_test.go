package search

import (
	"math"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"

	"github.com/nomad-tune/tune/experiment"
)

func number(t *testing.T, v cty.Value) float64 {
	t.Helper()
	require.True(t, v.Type().Equals(cty.Number), "value %#v is not a number", v)
	f, _ := v.AsBigFloat().Float64()
	return f
}

// onGrid reports whether f is a multiple of q, allowing for the decimal
// rounding the distributions apply.
func onGrid(f, q float64) bool {
	k := math.Round(f / q)
	return math.Abs(f-k*q) <= 1e-9*math.Max(1, math.Abs(f))
}

// within checks that a value lies in [lo, hi], on the grid of q when q
// is not 0, and is whole when integer is set.
func within(lo, hi, q float64, integer bool) func(t *testing.T, v cty.Value) {
	return func(t *testing.T, v cty.Value) {
		f := number(t, v)
		assert.True(t, f >= lo && f <= hi, "%v is outside [%v, %v]", f, lo, hi)
		assert.True(t, q == 0 || onGrid(f, q), "%v is not a multiple of %v", f, q)
		assert.True(t, !integer || f == math.Trunc(f), "%v is not whole", f)
	}
}

func TestTPESuggestionsStayWhereTheDistributionCanBe(t *testing.T) {
	options := []cty.Value{cty.StringVal("adam"), cty.StringVal("sgd"), cty.StringVal("rmsprop"), cty.True}
	tests := []struct {
		name string
		dist experiment.Distribution
		// loss scores a value so that TPE has something to chase.
		loss  func(v cty.Value) float64
		check func(t *testing.T, v cty.Value)
	}{
		{"uniform values stay inside the bounds", experiment.Distribution{Kind: experiment.KindUniform, Lo: -2, Hi: 3},
			nil, within(-2, 3, 0, false)},
		{"quantised uniform values sit on the grid of q", experiment.Distribution{Kind: experiment.KindQUniform, Lo: 0, Hi: 1, Q: 0.05},
			nil, within(0, 1, 0.05, false)},
		{"log uniform values stay inside the bounds", experiment.Distribution{Kind: experiment.KindLogUniform, Lo: 1e-5, Hi: 1e-1},
			nil, within(1e-5, 1e-1, 0, false)},
		{"quantised log values sit on the grid of q", experiment.Distribution{Kind: experiment.KindQLogUniform, Lo: 1, Hi: 1000, Q: 5},
			nil, within(0, 1000, 5, false)},
		{"integers are integers below the exclusive upper bound", experiment.Distribution{Kind: experiment.KindRandInt, Lo: 1, Hi: 9},
			nil, within(1, 8, 0, true)},
		{"quantised integers are multiples of q", experiment.Distribution{Kind: experiment.KindQRandInt, Lo: 0, Hi: 100, Q: 10},
			nil, within(0, 100, 10, true)},
		{"log integers are integers inside the bounds", experiment.Distribution{Kind: experiment.KindLogRandInt, Lo: 1, Hi: 1024},
			nil, within(1, 1023, 0, true)},
		{"quantised log integers are multiples of q", experiment.Distribution{Kind: experiment.KindQLogRandInt, Lo: 8, Hi: 512, Q: 8},
			nil, within(8, 512, 8, true)},
		{"normal values are finite numbers", experiment.Distribution{Kind: experiment.KindRandN, Lo: 3, Hi: 2},
			nil, func(t *testing.T, v cty.Value) {
				f := number(t, v)
				assert.False(t, math.IsNaN(f) || math.IsInf(f, 0), "%v", f)
			}},
		{"quantised normal values sit on the grid of q", experiment.Distribution{Kind: experiment.KindQRandN, Lo: 0, Hi: 1, Q: 0.25},
			nil, func(t *testing.T, v cty.Value) { assert.True(t, onGrid(number(t, v), 0.25)) }},
		{"categorical values are options", experiment.Distribution{Kind: experiment.KindChoice, Values: options},
			func(v cty.Value) float64 {
				if v.RawEquals(cty.StringVal("rmsprop")) {
					return 0
				}
				return 1
			}, func(t *testing.T, v cty.Value) {
				found := false
				for _, o := range options {
					found = found || o.RawEquals(v)
				}
				assert.True(t, found, "%#v is not an option", v)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.dist
			space := &experiment.Space{Params: []*experiment.Param{{Name: "x", Dist: &d}}}
			loss := tt.loss
			if loss == nil {
				// Chase the lower quarter of the unit scale.
				loss = func(v cty.Value) float64 {
					f, _ := v.AsBigFloat().Float64()
					return math.Abs(d.ToUnit(f) - 0.25)
				}
			}
			s := NewTPE(space, 7, false, experiment.Search{Algorithm: experiment.SearchTPE})
			for i := range 60 {
				vals := s.Suggest(i, 0)
				require.Len(t, vals, 1)
				tt.check(t, vals[0])
				s.Finished(i, 0, vals, loss(vals[0]), true)
			}
		})
	}
}

func TestTPEConcentratesNearTheOptimumMoreThanRandomSearch(t *testing.T) {
	// A bowl over a uniform, a log and an integer parameter, with its
	// minimum (0) at x = 0.3, lr = 1e-3, layers = 6.
	space := &experiment.Space{Params: []*experiment.Param{
		{Name: "x", Dist: &experiment.Distribution{Kind: experiment.KindUniform, Lo: -5, Hi: 5}},
		{Name: "lr", Dist: &experiment.Distribution{Kind: experiment.KindLogUniform, Lo: 1e-6, Hi: 1}},
		{Name: "layers", Dist: &experiment.Distribution{Kind: experiment.KindRandInt, Lo: 1, Hi: 20}},
		{Name: "opt", Dist: &experiment.Distribution{Kind: experiment.KindChoice, Values: []cty.Value{cty.StringVal("a"), cty.StringVal("b"), cty.StringVal("c")}}},
	}}
	loss := func(v []cty.Value) float64 {
		f := func(i int) float64 { x, _ := v[i].AsBigFloat().Float64(); return x }
		l := (f(0)-0.3)*(f(0)-0.3) + math.Pow(math.Log10(f(1))+3, 2) + math.Pow(f(2)-6, 2)/10
		if !v[3].RawEquals(cty.StringVal("b")) {
			l++
		}
		return l
	}
	run := func(s Searcher) (best float64, lateMean float64) {
		best = math.Inf(1)
		for i := range 80 {
			vals := s.Suggest(i, 0)
			l := loss(vals)
			best = min(best, l)
			if i >= 60 {
				lateMean += l / 20
			}
			s.Finished(i, 0, vals, l, true)
		}
		return best, lateMean
	}
	var tpeBest, randBest, tpeLate, randLate []float64
	for seed := range uint64(7) {
		b, m := run(NewTPE(space, seed, false, experiment.Search{Algorithm: experiment.SearchTPE}))
		tpeBest, tpeLate = append(tpeBest, b), append(tpeLate, m)
		b, m = run(&Random{Space: space, Seed: seed})
		randBest, randLate = append(randBest, b), append(randLate, m)
	}
	assert.Less(t, median(tpeBest), median(randBest), "median best of TPE against random search")
	// Its late suggestions sit near the optimum, where random's do not.
	assert.Less(t, median(tpeLate), median(randLate)/2, "mean loss of trials 60-79")
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func TestTPEMaximisesWhenModeIsMax(t *testing.T) {
	space := &experiment.Space{Params: []*experiment.Param{{Name: "x", Dist: &experiment.Distribution{Kind: experiment.KindUniform, Lo: 0, Hi: 1}}}}
	s := NewTPE(space, 1, true, experiment.Search{Algorithm: experiment.SearchTPE})
	var late []float64
	for i := range 50 {
		vals := s.Suggest(i, 0)
		x := number(t, vals[0])
		if i >= 30 {
			late = append(late, x)
		}
		s.Finished(i, 0, vals, x, true)
	}
	assert.Greater(t, median(late), 0.8, "a higher x is better, so late suggestions are high")
}

func TestTPEStartsWithRandomSearchAndDependsOnlyOnWhatFinished(t *testing.T) {
	space := &experiment.Space{Params: []*experiment.Param{
		{Name: "x", Dist: &experiment.Distribution{Kind: experiment.KindUniform, Lo: 0, Hi: 1}},
		{Name: "y", Dist: &experiment.Distribution{Kind: experiment.KindQRandInt, Lo: 0, Hi: 50, Q: 5}},
	}}
	cfg := experiment.Search{Algorithm: experiment.SearchTPE, StartupTrials: 4}
	random := &Random{Space: space, Seed: 3}
	a := NewTPE(space, 3, false, cfg)
	b := NewTPE(space, 3, false, cfg)
	suggested := map[int][]cty.Value{}
	for i := range 4 {
		suggested[i] = a.Suggest(i, 0)
		assert.Equal(t, random.Suggest(i, 0), suggested[i], "startup trial %d has random search's values", i)
	}
	loss := func(v []cty.Value) float64 { return number(t, v[0]) }
	for _, i := range []int{2, 0, 3, 1} {
		a.Finished(i, 0, suggested[i], loss(suggested[i]), true)
	}
	for _, i := range []int{1, 3, 0, 2, 2} {
		b.Finished(i, 0, suggested[i], loss(suggested[i]), true)
	}
	for i := 4; i < 8; i++ {
		assert.Equal(t, a.Suggest(i, 0), b.Suggest(i, 0), "trial %d: the same finished trials give the same suggestion", i)
	}
}

func TestTPEKeepsEachTrialsGridValuesAndLearnsPerGridPoint(t *testing.T) {
	space := &experiment.Space{Params: []*experiment.Param{
		{Name: "opt", Dist: &experiment.Distribution{Kind: experiment.KindGrid, Values: []cty.Value{cty.StringVal("adam"), cty.StringVal("sgd")}}},
		{Name: "x", Dist: &experiment.Distribution{Kind: experiment.KindUniform, Lo: 0, Hi: 1}},
		{Name: "epochs", Dist: &experiment.Distribution{Kind: experiment.KindConstant, Values: []cty.Value{cty.NumberIntVal(3)}}},
	}}
	s := NewTPE(space, 5, false, experiment.Search{Algorithm: experiment.SearchTPE, StartupTrials: 3})
	// Grid point 0 is best at a low x, point 1 at a high x.
	late := map[int][]float64{}
	for i := range 60 {
		g := i % 2
		vals := s.Suggest(i, g)
		require.Equal(t, space.Params[0].Dist.Values[g], vals[0], "trial %d keeps its grid value", i)
		require.Equal(t, cty.NumberIntVal(3), vals[2])
		x := number(t, vals[1])
		if i >= 40 {
			late[g] = append(late[g], x)
		}
		loss := x
		if g == 1 {
			loss = 1 - x
		}
		s.Finished(i, g, vals, loss, true)
	}
	assert.Less(t, median(late[0]), 0.25)
	assert.Greater(t, median(late[1]), 0.75)
}

func TestTPEIgnoresTrialsWithoutAMetric(t *testing.T) {
	space := &experiment.Space{Params: []*experiment.Param{{Name: "x", Dist: &experiment.Distribution{Kind: experiment.KindUniform, Lo: 0, Hi: 1}}}}
	s := NewTPE(space, 2, false, experiment.Search{Algorithm: experiment.SearchTPE, StartupTrials: 2})
	random := &Random{Space: space, Seed: 2}
	for i := range 5 {
		s.Finished(i, 0, s.Suggest(i, 0), 0, false)
	}
	s.Finished(5, 0, s.Suggest(5, 0), math.NaN(), true)
	assert.Equal(t, random.Suggest(6, 0), s.Suggest(6, 0), "failed trials do not end the startup phase")
}
