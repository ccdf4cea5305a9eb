package hcl_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/experiment"
	tunehcl "github.com/nomad-tune/tune/hcl"
)

func TestSchedulerBlockDecodesWithRayTunesDefaults(t *testing.T) {
	tests := []struct {
		name  string
		block string
		want  *experiment.Scheduler
	}{
		{"no block runs every trial to its end", "", nil},
		{"asha takes Ray Tune's defaults", `scheduler "asha" {}`, &experiment.Scheduler{
			Kind: experiment.SchedulerASHA, TimeAttr: "training_iteration", MaxT: 100, GracePeriod: 1, ReductionFactor: 4, Brackets: 1,
		}},
		{"asha takes every setting", `scheduler "asha" {
    time_attr        = "epoch"
    max_t            = 27
    grace_period     = 3
    reduction_factor = 3
    brackets         = 2
  }`, &experiment.Scheduler{
			Kind: experiment.SchedulerASHA, TimeAttr: "epoch", MaxT: 27, GracePeriod: 3, ReductionFactor: 3, Brackets: 2,
		}},
		{"hyperband takes Ray Tune's defaults", `scheduler "hyperband" {}`, &experiment.Scheduler{
			Kind: experiment.SchedulerHyperBand, TimeAttr: "training_iteration", MaxT: 81, ReductionFactor: 3,
		}},
		{"median takes Ray Tune's defaults in seconds", `scheduler "median" {}`, &experiment.Scheduler{
			Kind: experiment.SchedulerMedian, TimeAttr: "time_total_s", GracePeriod: 60, MinSamplesRequired: 3,
		}},
		{"median takes a grace period of zero", `scheduler "median" {
    time_attr            = "training_iteration"
    grace_period         = 0
    min_samples_required = 5
  }`, &experiment.Scheduler{
			Kind: experiment.SchedulerMedian, TimeAttr: "training_iteration", GracePeriod: 0, MinSamplesRequired: 5,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := "experiment \"s\" {\n  metric = \"loss\"\n  mode = \"min\"\n  " + tc.block + "\n  task \"t\" {\n    command = \"true\"\n  }\n}\n"
			exp, diags := tunehcl.Load("s.hcl", []byte(src), tunehcl.Options{})
			require.False(t, diags.HasErrors(), describe(diags))
			if tc.want != nil {
				require.NotNil(t, exp.Scheduler)
				tc.want.DefRange = exp.Scheduler.DefRange
				assert.Equal(t, 4, exp.Scheduler.DefRange.Start.Line)
			}
			assert.Equal(t, tc.want, exp.Scheduler)
		})
	}
}
