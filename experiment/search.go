package experiment

import (
	"math/rand/v2"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Algorithm names a search algorithm of the `search` block.
type Algorithm string

const (
	// SearchRandom draws every trial's values from the trial's own random
	// source: trial i has the same values whatever else runs.
	SearchRandom Algorithm = "random"
	// SearchGrid expands grid() parameters; other parameters are drawn as
	// by SearchRandom. It is what a file with grid() and no search block
	// gets, and it is random search with a grid: the two differ only in name.
	SearchGrid Algorithm = "grid"
	// SearchTPE suggests each trial's values from the trials that have
	// finished (a Tree-structured Parzen Estimator).
	SearchTPE Algorithm = "tpe"
)

// Defaults of search "tpe", the same as Optuna's TPESampler.
const (
	DefaultStartupTrials = 10
	DefaultCandidates    = 24
	DefaultPriorWeight   = 1.0
)

// Search is the experiment's search algorithm and its settings.
type Search struct {
	Algorithm Algorithm
	// StartupTrials are drawn at random before TPE models anything.
	StartupTrials int
	// Candidates is how many values TPE draws, per parameter, to pick the
	// most promising of.
	Candidates int
	// PriorWeight weighs the prior (the whole range) against each
	// observed value in TPE's estimators.
	PriorWeight float64
	// DefRange is the search block's header; empty without one.
	DefRange hcl.Range
}

// Adaptive reports whether trials' values depend on the results of
// earlier trials, so that they are known only when the trial is about to
// start.
func (s *Search) Adaptive() bool { return s.Algorithm == SearchTPE }

// TrialRand is the random source of one trial's values: PCG seeded from
// the experiment seed and the trial index, so trial i's draws do not
// depend on any other trial.
func TrialRand(seed uint64, index int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(index)*0x9e3779b97f4a7c15+1))
}

// TrialValues fills vals, one per parameter, with the values random search
// gives trial index at grid point g (grid points vary the last grid
// parameter fastest): constants and grid values by position, every other
// parameter drawn in Space order from TrialRand(seed, index).
func (s *Space) TrialValues(seed uint64, index, g int, vals []cty.Value) {
	for i := len(s.Params) - 1; i >= 0; i-- {
		p := s.Params[i]
		switch p.Dist.Kind {
		case KindConstant:
			vals[i] = p.Dist.Values[0]
		case KindGrid:
			m := len(p.Dist.Values)
			vals[i] = p.Dist.Values[g%m]
			g /= m
		}
	}
	rng := TrialRand(seed, index)
	for i, p := range s.Params {
		if p.Dist.IsRandom() {
			vals[i] = p.Dist.Sample(rng)
		}
	}
}
