package hcl

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/nomad-tune/tune/experiment"
)

var tpeSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "startup_trials"}, {Name: "candidates"}, {Name: "prior_weight"}},
}

// search decodes the `search "algorithm" {}` block; without one, a space
// with grid() parameters is a grid search and any other a random search.
func (d *decoder) search(blocks []*hcl.Block, space *experiment.Space, hasMetric bool) experiment.Search {
	s := experiment.Search{Algorithm: experiment.SearchRandom}
	if hasGrid(space) {
		s.Algorithm = experiment.SearchGrid
	}
	if len(blocks) == 0 {
		return s
	}
	b := blocks[0]
	s.DefRange = b.DefRange
	switch alg := experiment.Algorithm(b.Labels[0]); alg {
	case experiment.SearchRandom, experiment.SearchGrid:
		_, diags := b.Body.Content(&hcl.BodySchema{})
		d.diags = append(d.diags, diags...)
		if alg == experiment.SearchGrid && !hasGrid(space) {
			d.diags = append(d.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Grid search without a grid",
				Detail:   "search \"grid\" expands grid() parameters, and the space has none: write grid([...]) for the parameters to try exhaustively, or search \"random\".",
				Subject:  b.LabelRanges[0].Ptr(),
			})
		}
		s.Algorithm = alg
	case experiment.SearchTPE:
		s.Algorithm = alg
		if !hasMetric {
			d.diags = append(d.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Search without a metric",
				Detail:   "search \"tpe\" learns from each trial's metric: add metric = \"loss\" and mode = \"min\" (or the name your trials report).",
				Subject:  b.DefRange.Ptr(),
			})
		}
		s.StartupTrials = experiment.DefaultStartupTrials
		s.Candidates = experiment.DefaultCandidates
		s.PriorWeight = experiment.DefaultPriorWeight
		content, diags := b.Body.Content(tpeSchema)
		d.diags = append(d.diags, diags...)
		if a, ok := content.Attributes["startup_trials"]; ok {
			if n, ok := d.integer(a, 1, experiment.MaxTrials); ok {
				s.StartupTrials = int(n)
			}
		}
		if a, ok := content.Attributes["candidates"]; ok {
			if n, ok := d.integer(a, 1, 10_000); ok {
				s.Candidates = int(n)
			}
		}
		if a, ok := content.Attributes["prior_weight"]; ok {
			if w, ok := d.number(a); ok {
				if !(w > 0 && w <= 1e6) {
					d.fail(a, "Invalid value for prior_weight", "prior_weight must be greater than 0 and at most 1e6; got %s.", experiment.FormatNumber(w))
				} else {
					s.PriorWeight = w
				}
			}
		}
	default:
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unknown search algorithm",
			Detail:   fmt.Sprintf("%q is not a search algorithm: use \"random\", \"grid\" or \"tpe\".", b.Labels[0]),
			Subject:  b.LabelRanges[0].Ptr(),
		})
	}
	return s
}

func hasGrid(space *experiment.Space) bool {
	for _, p := range space.Params {
		if p.Dist.Kind == experiment.KindGrid {
			return true
		}
	}
	return false
}
