package planner

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	tunehcl "github.com/nomad-tune/tune/hcl"
)

// planOf loads an experiment from text and plans it on c.
func planOf(t *testing.T, src string, c *Capacity) (*Plan, []string) {
	t.Helper()
	exp, diags := tunehcl.Load("exp.hcl", []byte(src), tunehcl.Options{})
	require.False(t, diags.HasErrors(), diags.Error())
	trials, diags := Trials(exp)
	require.False(t, diags.HasErrors(), diags.Error())
	p, diags := Build(exp, trials, c)
	var errs []string
	for _, d := range diags {
		errs = append(errs, d.Summary+": "+d.Detail+" @"+d.Subject.String())
	}
	return p, errs
}

const mixedGPU = `experiment "mixed" {
  num_samples = 3
  space {
    opt = grid(["adam", "sgd"])
  }
  resources {
    cpu = 1
    gpu = trial.opt == "adam" ? 2 : 0
  }
  task "train" {
    command = "true"
  }
}
`

func TestPlanGroupsTrialsByShapeAndCountsEachAlone(t *testing.T) {
	c := cluster(1, 4, 16384, 2)
	c.Target = "local"
	p, errs := planOf(t, mixedGPU, c)
	require.Empty(t, errs)
	assert.Equal(t, 6, p.NumTrials)
	assert.Equal(t, 6, p.Runnable)
	require.Len(t, p.Shapes, 2)
	byText := map[string]ShapePlan{}
	for _, s := range p.Shapes {
		byText[s.Text] = s
	}
	gpu := byText["1 × {cpu 1, memory 300 MiB, gpu 2}"]
	cpu := byText["1 × {cpu 1, memory 300 MiB}"]
	assert.Equal(t, 3, gpu.Trials)
	assert.Equal(t, 1, gpu.AtOnce, "two GPUs, two per trial")
	assert.Equal(t, 3, cpu.Trials)
	assert.Equal(t, 3, cpu.AtOnce, "four CPUs, but only three such trials")
	// Trials alternate adam, sgd: adam takes both GPUs and a CPU, then
	// three sgd trials take the other CPUs.
	assert.Equal(t, 4, p.AtOnce)
	assert.Equal(t, LimitCapacity, p.Limit)
}

func TestPlanListsTrialsThatCanNeverRunWithTheReason(t *testing.T) {
	c := cluster(2, 4, 16384, 1)
	c.Target = "nomad"
	p, errs := planOf(t, mixedGPU, c)
	require.Empty(t, errs)
	assert.Equal(t, 3, p.Runnable)
	require.Len(t, p.Never, 1)
	assert.Equal(t, "no node has 2 free nvidia/gpu (largest: 1)", p.Never[0].Reason)
	assert.Equal(t, []string{p.Trials[0].ID, p.Trials[2].ID, p.Trials[4].ID}, p.Never[0].TrialIDs)
	for i, tr := range p.Trials {
		assert.Equal(t, i%2 == 1, tr.Runnable, "trial %d", i)
	}
	assert.Equal(t, 3, p.AtOnce, "the runnable CPU trials all fit")
}

func TestPlanOfTrialsThatAllFitNamesNoNeverRuns(t *testing.T) {
	c := cluster(1, 64, 1<<20, 8)
	p, errs := planOf(t, mixedGPU, c)
	require.Empty(t, errs)
	assert.Empty(t, p.Never)
	assert.Equal(t, 6, p.AtOnce)
	assert.Equal(t, LimitTrials, p.Limit)
}

func TestPlanRefusesFractionalGPUsWhereDevicesAreWhole(t *testing.T) {
	src := `experiment "frac" {
  num_samples = 4
  resources {
    gpu = 0.5
  }
  task "train" {
    command = "true"
  }
}
`
	nomad := cluster(1, 8, 16384, 2)
	nomad.Target = "nomad"
	_, errs := planOf(t, src, nomad)
	require.Len(t, errs, 1, "one diagnostic for the one gpu attribute, not one per trial")
	assert.Contains(t, errs[0], "Fractional GPU on a target with whole devices")
	assert.Contains(t, errs[0], "exp.hcl:4,11-14")

	local := cluster(1, 8, 16384, 2)
	local.FractionalGPUs = true
	p, errs := planOf(t, src, local)
	require.Empty(t, errs)
	assert.Equal(t, 4, p.AtOnce, "two trials share each of the two GPUs")
}
