package hcl_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/nomad-tune/tune/experiment"
	tunehcl "github.com/nomad-tune/tune/hcl"
)

func TestSearchBlock(t *testing.T) {
	tests := []struct {
		name  string
		block string
		space string
		want  experiment.Search
	}{
		{"no block and no grid is random search", "", `x = uniform(0, 1)`,
			experiment.Search{Algorithm: experiment.SearchRandom}},
		{"no block with a grid is grid search", "", `x = grid([1, 2])`,
			experiment.Search{Algorithm: experiment.SearchGrid}},
		{"tpe takes Optuna's defaults", `search "tpe" {}`, `x = uniform(0, 1)`,
			experiment.Search{Algorithm: experiment.SearchTPE, StartupTrials: 10, Candidates: 24, PriorWeight: 1}},
		{"tpe settings are read", `search "tpe" {
			startup_trials = 4
			candidates     = 64
			prior_weight   = 0.5
		}`, `x = uniform(0, 1)`,
			experiment.Search{Algorithm: experiment.SearchTPE, StartupTrials: 4, Candidates: 64, PriorWeight: 0.5}},
		{"random search with a grid stays random", `search "random" {}`, `x = grid([1, 2])`,
			experiment.Search{Algorithm: experiment.SearchRandom}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp := load(t, `experiment "s" {
  metric = "loss"
  mode   = "min"
  `+tt.block+`
  space {
    `+tt.space+`
  }
  task "train" {
    command = "python3"
  }
}`, tunehcl.Options{})
			got := exp.Search
			got.DefRange = tt.want.DefRange
			assert.Equal(t, tt.want, got)
		})
	}
}
