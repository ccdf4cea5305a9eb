package search

import (
	"math"
	"math/rand/v2"
	"sort"

	"github.com/zclconf/go-cty/cty"

	"github.com/nomad-tune/tune/experiment"
)

// TPE is a Tree-structured Parzen Estimator with the defaults and
// estimators of Optuna's TPESampler (univariate, no constant liar): until
// StartupTrials trials have finished with a metric it gives random
// search's values; after, for each drawn parameter on its own, it splits
// the finished trials into the best 10% (at most 25) and the rest, fits a
// Parzen estimator l to the good ones' values and g to the others', draws
// Candidates values from l and keeps the one with the highest l/g.
//
// Grid parameters are not searched: each trial keeps its grid point's
// values, as with random search, and TPE models the other parameters from
// the trials of the same grid point only, so a grid point is its own
// study. Constants stay constant. Trials still running are not modelled.
//
// Numbers are modelled on the unit scale of their distribution
// (experiment.Distribution.AtUnit: logarithms for log kinds); a kind with
// discrete values (integers, quantised) scores a candidate by the mass of
// the bin that rounds to it, so candidates are values the distribution
// can give and nothing else. A continuous candidate is scored by the
// kernels' heights rather than their densities (see mixture.logHeight).
type TPE struct {
	space    *experiment.Space
	seed     uint64
	maximise bool
	cfg      experiment.Search
	// done holds the finished trials with a metric by grid point, in
	// trial index order, so suggestions do not depend on the order in
	// which trials were reported finished.
	done map[int][]observation
}

type observation struct {
	index  int
	values []cty.Value
	loss   float64
}

var _ Searcher = (*TPE)(nil)

// NewTPE returns a TPE over space; maximise when a higher metric is
// better. Zero settings take Optuna's defaults.
func NewTPE(space *experiment.Space, seed uint64, maximise bool, cfg experiment.Search) *TPE {
	if cfg.StartupTrials <= 0 {
		cfg.StartupTrials = experiment.DefaultStartupTrials
	}
	if cfg.Candidates <= 0 {
		cfg.Candidates = experiment.DefaultCandidates
	}
	if cfg.PriorWeight <= 0 {
		cfg.PriorWeight = experiment.DefaultPriorWeight
	}
	return &TPE{space: space, seed: seed, maximise: maximise, cfg: cfg, done: map[int][]observation{}}
}

// Finished records a trial's metric for later suggestions.
func (t *TPE) Finished(index, gridPoint int, values []cty.Value, metric float64, ok bool) {
	if !ok || math.IsNaN(metric) {
		return
	}
	loss := metric
	if t.maximise {
		loss = -metric
	}
	obs := t.done[gridPoint]
	i := sort.Search(len(obs), func(i int) bool { return obs[i].index >= index })
	if i < len(obs) && obs[i].index == index {
		return
	}
	obs = append(obs, observation{})
	copy(obs[i+1:], obs[i:])
	obs[i] = observation{index: index, values: values, loss: loss}
	t.done[gridPoint] = obs
}

// Suggest gives trial index's values from the trials finished so far.
func (t *TPE) Suggest(index, gridPoint int) []cty.Value {
	vals := make([]cty.Value, len(t.space.Params))
	t.space.TrialValues(t.seed, index, gridPoint, vals)
	obs := t.done[gridPoint]
	if len(obs) < t.cfg.StartupTrials {
		return vals
	}
	ranked := make([]observation, len(obs))
	copy(ranked, obs)
	sort.SliceStable(ranked, func(i, j int) bool { return ranked[i].loss < ranked[j].loss })
	n := goodCount(len(ranked))
	good, bad := ranked[:n], ranked[n:]
	byIndex := func(o []observation) {
		sort.Slice(o, func(i, j int) bool { return o[i].index < o[j].index })
	}
	byIndex(good)
	byIndex(bad)
	// A source of its own, apart from random search's, so that startup
	// trials keep random search's values.
	rng := rand.New(rand.NewPCG(t.seed^0x5bd1e9955bd1e995, uint64(index)*0x9e3779b97f4a7c15+2))
	for i, p := range t.space.Params {
		if !p.Dist.IsRandom() {
			continue
		}
		vals[i] = t.suggestParam(rng, p.Dist, i, good, bad)
	}
	return vals
}

func (t *TPE) suggestParam(rng *rand.Rand, d *experiment.Distribution, i int, good, bad []observation) cty.Value {
	if d.Kind == experiment.KindChoice {
		cg, cb := choices(d, i, good), choices(d, i, bad)
		l := newCategorical(cg, trialWeights(len(cg)), len(d.Values), t.cfg.PriorWeight)
		g := newCategorical(cb, trialWeights(len(cb)), len(d.Values), t.cfg.PriorWeight)
		best, bestScore := 0, math.Inf(-1)
		for range t.cfg.Candidates {
			c := l.sample(rng)
			if s := l.logProb(c) - g.logProb(c); s > bestScore {
				best, bestScore = c, s
			}
		}
		return d.Values[best]
	}
	l, g := t.numeric(d, i, good), t.numeric(d, i, bad)
	best, bestScore := cty.NilVal, math.Inf(-1)
	first := true
	for range t.cfg.Candidates {
		v := d.AtUnit(l.sample(rng))
		f, _ := v.AsBigFloat().Float64()
		var s float64
		if lo, hi, discrete := d.UnitBin(f); discrete {
			s = l.logMass(lo, hi) - g.logMass(lo, hi)
		} else {
			s = l.logHeight(lo) - g.logHeight(lo)
		}
		if first || s > bestScore {
			best, bestScore, first = v, s, false
		}
	}
	return best
}

// numeric builds the estimator of parameter i from observations on the
// distribution's unit scale: [0, 1] for bounded kinds, standard
// deviations from the mean, unbounded, for randn (whose prior is the
// distribution itself).
func (t *TPE) numeric(d *experiment.Distribution, i int, obs []observation) *mixture {
	mus := make([]float64, 0, len(obs))
	for _, o := range obs {
		v := o.values[i]
		if !v.IsKnown() || v.IsNull() || !v.Type().Equals(cty.Number) {
			continue
		}
		f, _ := v.AsBigFloat().Float64()
		lo, hi, _ := d.UnitBin(f)
		mus = append(mus, (lo+hi)/2)
	}
	w := trialWeights(len(mus))
	if d.Kind == experiment.KindRandN || d.Kind == experiment.KindQRandN {
		return newMixture(mus, w, 0, 1, t.cfg.PriorWeight, 6, math.Inf(-1), math.Inf(1))
	}
	return newMixture(mus, w, 0.5, 1, t.cfg.PriorWeight, 1, 0, 1)
}

// choices are the option indices the observations chose for parameter i;
// a value that is no longer an option (the file changed) is left out.
func choices(d *experiment.Distribution, i int, obs []observation) []int {
	var out []int
	for _, o := range obs {
		for j, v := range d.Values {
			if valueEqual(v, o.values[i]) {
				out = append(out, j)
				break
			}
		}
	}
	return out
}

func valueEqual(a, b cty.Value) bool {
	if !a.Type().Equals(b.Type()) || !a.IsKnown() || !b.IsKnown() || a.IsNull() || b.IsNull() {
		return false
	}
	return a.Equals(b).True()
}
