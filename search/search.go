package search

import (
	"github.com/zclconf/go-cty/cty"

	"github.com/nomad-tune/tune/experiment"
)

// Searcher chooses the values of each trial. Calls come from one
// goroutine (the controller's loop).
type Searcher interface {
	// Suggest returns trial index's values, one per parameter in Space
	// order, with the grid values of grid point gridPoint. The result
	// depends only on the seed, index, gridPoint and the trials Finished
	// was told of before, so it is the same whenever those are.
	Suggest(index, gridPoint int) []cty.Value
	// Finished tells the searcher that a trial ended: its values and its
	// last result's metric (ok is false when it reported none, or failed;
	// such a trial teaches nothing). Telling it of a trial twice counts
	// the trial once.
	Finished(index, gridPoint int, values []cty.Value, metric float64, ok bool)
}

// New returns the searcher of the experiment's search block.
func New(e *experiment.Experiment) Searcher {
	if e.Search.Algorithm == experiment.SearchTPE {
		return NewTPE(&e.Space, e.Seed, e.Mode == experiment.ModeMax, e.Search)
	}
	return &Random{Space: &e.Space, Seed: e.Seed}
}

// Random is random search: trial i's values come from its own source,
// seeded by the experiment seed and i, whatever else has run.
type Random struct {
	Space *experiment.Space
	Seed  uint64
}

var _ Searcher = (*Random)(nil)

// Suggest draws trial index's values.
func (r *Random) Suggest(index, gridPoint int) []cty.Value {
	vals := make([]cty.Value, len(r.Space.Params))
	r.Space.TrialValues(r.Seed, index, gridPoint, vals)
	return vals
}

// Finished does nothing: random search learns nothing.
func (r *Random) Finished(int, int, []cty.Value, float64, bool) {}
