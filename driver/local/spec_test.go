package local

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	tunehcl "github.com/nomad-tune/tune/hcl"
	"github.com/nomad-tune/tune/planner"
)

const specExperiment = `experiment "spec" {
  description = "%s"
  seed        = 1
  space {
    x = grid([1, 2])
  }
  resources {
    cpu    = %s
    memory = 64
  }
  task "t" {
    command = "%s"
    args    = ["--x=${trial.x}"]
  }
}
`

func TestTheSpecSaysWhetherATrialRunsTheSameThing(t *testing.T) {
	d := &Driver{}
	spec := func(prefix, description, cpu, command string) string {
		t.Helper()
		src := prefix + fmt.Sprintf(specExperiment, description, cpu, command)
		e, diags := tunehcl.Load("exp.hcl", []byte(src), tunehcl.Options{})
		require.False(t, diags.HasErrors(), diags.Error())
		trials, diags := planner.Trials(e)
		require.False(t, diags.HasErrors(), diags.Error())
		s, err := d.Spec(e, trials[0])
		require.NoError(t, err)
		require.NotEmpty(t, s)
		return s
	}
	base := spec("", "a", "0.5", "train")
	cases := []struct {
		name                              string
		prefix, description, cpu, command string
		same                              bool
	}{
		{name: "the same file", description: "a", cpu: "0.5", command: "train", same: true},
		{name: "the same trial further down the file", prefix: "\n\n# moved\n", description: "a", cpu: "0.5", command: "train", same: true},
		{name: "another description", description: "b", cpu: "0.5", command: "train", same: true},
		{name: "another command", description: "a", cpu: "0.5", command: "eval", same: false},
		{name: "more CPU", description: "a", cpu: "1", command: "train", same: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := spec(tc.prefix, tc.description, tc.cpu, tc.command)
			if tc.same {
				assert.Equal(t, base, got)
			} else {
				assert.NotEqual(t, base, got)
			}
		})
	}
}
