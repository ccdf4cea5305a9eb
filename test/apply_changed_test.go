package test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scaledLocalExperiment reports x × var.scale from a shell: another scale
// is another definition of the same trials.
const scaledLocalExperiment = `variable "scale" {
  type    = number
  default = 1
}
experiment "scaled" {
  metric      = "loss"
  mode        = "min"
  num_samples = 2
  space {
    x = uniform(0, 1)
  }
  resources {
    cpu    = 0.5
    memory = 64
  }
  task "t" {
    command = "/bin/sh"
    args    = ["-c", "echo '@tune {\"loss\": ${trial.x * var.scale}}'"]
  }
}
`

func TestApplyNeverKeepsTheResultsOfAnotherDefinition(t *testing.T) {
	w := newWorkspace(t)
	w.write(t, "exp.hcl", scaledLocalExperiment)
	r := w.apply(t)
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)

	r = w.apply(t, "-var", "scale=2")
	assert.Equal(t, 1, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	assert.Contains(t, r.stderr, "2 trials of \"scaled\" ran from another definition")
	assert.Contains(t, r.stderr, "tune apply -replace exp.hcl")

	r = w.apply(t, "-var", "scale=2", "-replace")
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	recs := w.trialFiles(t, "scaled")
	require.Len(t, recs, 2)
	for id, rec := range recs {
		x, ok := rec.Params["x"].(float64)
		require.True(t, ok)
		assert.InDelta(t, 2*x, rec.LastResult["loss"], 1e-9, "trial %s reports the new definition's result", id)
		assert.Equal(t, 2, rec.Attempts, "trial %s ran again", id)
	}

	r = w.apply(t, "-var", "scale=2")
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "2 of 2 trials are already done", "the same definition keeps its results")
}
