package jobs_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/experiment"
	tunehcl "github.com/nomad-tune/tune/hcl"
	"github.com/nomad-tune/tune/jobs"
	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/trialenv"
)

// specSource is an experiment whose task and resources follow variables,
// so that one file gives a changed definition of the same trials.
const specSource = `
variable "epochs" {
  type    = number
  default = 3
}
variable "cpu" {
  type    = number
  default = 0.5
}
variable "memory" {
  type    = number
  default = 256
}
variable "mode" {
  type    = string
  default = "fast"
}
variable "about" {
  type    = string
  default = "a sweep"
}
experiment "spec" {
  description = var.about
  seed        = 1
  space {
    x = grid([1, 2])
  }
  resources {
    cpu    = var.cpu
    memory = var.memory
  }
  task "train" {
    command = "train"
    args    = ["--x=${trial.x}", "--epochs=${var.epochs}"]
    env {
      MODE = var.mode
    }
  }
}
`

func loadSpec(t *testing.T, vars ...string) (*experiment.Experiment, []*planner.Trial) {
	t.Helper()
	e, diags := tunehcl.Load("spec.hcl", []byte(specSource), tunehcl.Options{Vars: vars})
	require.False(t, diags.HasErrors(), "load: %s", diagText(diags))
	trials, diags := planner.Trials(e)
	require.False(t, diags.HasErrors(), "trials: %s", diagText(diags))
	return e, trials
}

func specOf(t *testing.T, e *experiment.Experiment, tr *planner.Trial, opts jobs.Options) string {
	t.Helper()
	job, diags := jobs.Compile(e, tr, opts)
	require.False(t, diags.HasErrors(), "compile: %s", diagText(diags))
	spec := job.Meta[trialenv.MetaSpec]
	require.Len(t, spec, 32, "the spec is 128 bits in hex")
	return spec
}

func TestTheSpecIsTheSameForEveryAttemptAndEveryClusterSpeed(t *testing.T) {
	e, trials := loadSpec(t)
	want, diags := jobs.Spec(e, trials[0])
	require.False(t, diags.HasErrors(), "spec: %s", diagText(diags))
	for _, opts := range []jobs.Options{
		{MHzPerCore: 2400},
		{MHzPerCore: 2400, Attempt: 1},
		{MHzPerCore: 3100, Attempt: 7},
	} {
		assert.Equal(t, want, specOf(t, e, trials[0], opts), "attempt %d at %d MHz", opts.Attempt, opts.MHzPerCore)
	}
	assert.NotEqual(t, want, specOf(t, e, trials[1], jobs.Options{MHzPerCore: 2400}), "another trial has another spec")
}

func TestTheSpecChangesWithWhatTheTrialRuns(t *testing.T) {
	e, trials := loadSpec(t)
	base := specOf(t, e, trials[0], jobs.Options{MHzPerCore: 2400})
	cases := []struct {
		name    string
		vars    []string
		changed bool
	}{
		{name: "the same variables give the same spec", vars: []string{"epochs=3"}, changed: false},
		{name: "another description is the same job in the UI's words", vars: []string{"about=another sweep"}, changed: false},
		{name: "an argument that changed", vars: []string{"epochs=4"}, changed: true},
		{name: "an environment variable that changed", vars: []string{"mode=slow"}, changed: true},
		{name: "more memory", vars: []string{"memory=512"}, changed: true},
		{name: "more CPU", vars: []string{"cpu=1"}, changed: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e2, trials2 := loadSpec(t, tc.vars...)
			require.Equal(t, trials[0].ID, trials2[0].ID, "the trial keeps its ID")
			got := specOf(t, e2, trials2[0], jobs.Options{MHzPerCore: 2400})
			if tc.changed {
				assert.NotEqual(t, base, got)
			} else {
				assert.Equal(t, base, got)
			}
		})
	}
}

// BenchmarkSpec is what comparing one trial with its job in Nomad costs
// (plan and apply do it once per trial that has a job).
func BenchmarkSpec(b *testing.B) {
	e, diags := tunehcl.Load("spec.hcl", []byte(specSource), tunehcl.Options{})
	require.False(b, diags.HasErrors(), "load: %s", diagText(diags))
	trials, diags := planner.Trials(e)
	require.False(b, diags.HasErrors(), "trials: %s", diagText(diags))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, diags := jobs.Spec(e, trials[i%len(trials)]); diags.HasErrors() {
			b.Fatal(diags.Error())
		}
	}
}
