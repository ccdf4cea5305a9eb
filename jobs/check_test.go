package jobs_test

import (
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	tunehcl "github.com/nomad-tune/tune/hcl"
	"github.com/nomad-tune/tune/jobs"
	"github.com/nomad-tune/tune/planner"
)

func TestCheckWarnsOfARelativeCommandNomadCannotFind(t *testing.T) {
	cases := []struct {
		name string
		task string
		warn bool
	}{
		{"a path relative to the experiment file", `command = "./train.sh"`, true},
		{"a relative path into a subfolder", `command = "scripts/train.sh"`, true},
		{"an absolute path", `command = "/opt/code/train.sh"`, false},
		{"an absolute path from path.module", `command = "${path.module}/train.sh"`, false},
		{"a bare name, looked up on PATH", `command = "python3"`, false},
		{"a path under Nomad's task folder", `command = "${NOMAD_TASK_DIR}/train.sh"`, false},
		{"a path an artifact fills", `
    command = "local/code/train.sh"
    artifact {
      source      = "https://example.com/code.tar.gz"
      destination = "local/code"
    }`, false},
		{"a path the default artifact destination fills", `
    command = "local/train.sh"
    artifact {
      source = "https://example.com/code.tar.gz"
    }`, false},
		{"a path a template renders", `
    command = "local/run.sh"
    template {
      data        = "#!/bin/sh\nexec python3 train.py\n"
      destination = "local/run.sh"
      perms       = "0755"
    }`, false},
		{"a path outside what an artifact fills", `
    command = "code/train.sh"
    artifact {
      source      = "https://example.com/code.tar.gz"
      destination = "local/code"
    }`, true},
		{"a docker task, whose command is the image's", `
    driver  = "docker"
    command = "./train.sh"
    config {
      image = "python:3"
    }`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "exp.hcl")
			src := "experiment \"rel\" {\n  task \"train\" {\n    " + tc.task + "\n  }\n}\n"
			e, diags := tunehcl.Load(path, []byte(src), tunehcl.Options{})
			require.False(t, diags.HasErrors(), "%s", diagText(diags))
			trials, diags := planner.Trials(e)
			require.False(t, diags.HasErrors(), "%s", diagText(diags))
			specs, diags := e.ResolveTasks(trials[0].Vars())
			require.False(t, diags.HasErrors(), "%s", diagText(diags))

			got := jobs.Check(e, specs)
			if !tc.warn {
				assert.Empty(t, got)
				return
			}
			require.Len(t, got, 1)
			d := got[0]
			assert.Equal(t, hcl.DiagWarning, d.Severity)
			assert.Equal(t, "Relative command on Nomad", d.Summary)
			for _, fix := range []string{"abspath(", "artifact", "volume"} {
				assert.Contains(t, d.Detail, fix, "the warning names the fix")
			}
			require.NotNil(t, d.Subject)
			assert.Equal(t, path, d.Subject.Filename)
		})
	}
}
