package hcl_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"

	tunehcl "github.com/nomad-tune/tune/hcl"
)

// experimentWithEnv is an experiment whose one task has env X = expr, so
// that a test can read what expr gives for a trial.
func experimentWithEnv(expr string) string {
	return `
locals {
  greeting = "hello"
}
experiment "files" {
  space { lr = grid([0.1]) }
  task "train" {
    command = "/bin/true"
    env { X = ` + expr + ` }
  }
}
`
}

func TestFileFunctions(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "conf"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "conf", "token.txt"), []byte("s3cret\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "conf", "run.tpl"), []byte("lr=${lr} %{ for s in steps }[${s}]%{ endfor } ${upper(who)}"), 0o644))
	cwd, err := os.Getwd()
	require.NoError(t, err)

	cases := []struct {
		name string
		expr string
		want string
	}{
		{"path.module is the experiment file's folder", `path.module`, dir},
		{"path.cwd is the folder tune runs in", `path.cwd`, cwd},
		{"abspath takes a relative path from the experiment's folder", `abspath("conf/token.txt")`, filepath.Join(dir, "conf", "token.txt")},
		{"abspath keeps an absolute path", `abspath("/opt/x/../y")`, "/opt/y"},
		{"file reads relative to the experiment's folder", `file("conf/token.txt")`, "s3cret\n"},
		{"file reads through path.module", `chomp(file("${path.module}/conf/token.txt"))`, "s3cret"},
		{"fileexists finds a file", `tostring(fileexists("conf/token.txt"))`, "true"},
		{"fileexists says false for a missing file", `tostring(fileexists("conf/none.txt"))`, "false"},
		{"dirname drops the last element", `dirname("a/b/c.py")`, "a/b"},
		{"basename keeps the last element", `basename("a/b/c.py")`, "c.py"},
		{"templatefile renders interpolations, loops and functions", `templatefile("conf/run.tpl", { lr = trial.lr, steps = [1, 2], who = local.greeting })`, "lr=0.1 [1][2] HELLO"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			exp := loadAs(t, filepath.Join(dir, "experiment.hcl"), experimentWithEnv(tc.expr), tunehcl.Options{})
			tasks := tasksOf(t, exp, trialOf(exp, 0, map[string]cty.Value{"lr": cty.NumberFloatVal(0.1)}))
			require.Len(t, tasks[0][0].Env, 1)
			assert.Equal(t, tc.want, tasks[0][0].Env[0].Value)
		})
	}
}

func TestFileFunctionsRefuseWhatTheyCannotRead(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "data"), 0o755))
	big := filepath.Join(dir, "big.txt")
	require.NoError(t, os.WriteFile(big, []byte(strings.Repeat("x", tunehcl.MaxFileSize+1)), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bin.dat"), []byte{0xff, 0xfe, 0x00}, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "loop.tpl"), []byte(`${templatefile("loop.tpl", {})}`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "vars.tpl"), []byte(`${missing}`), 0o644))

	cases := []struct {
		name string
		expr string
		want string
	}{
		{"a missing file", `file("nothing.txt")`, "no such file"},
		{"a folder", `file("data")`, "is a directory"},
		{"a file over the size bound", `file("big.txt")`, "larger than 4 MiB"},
		{"a file that is not text", `file("bin.dat")`, "not UTF-8"},
		{"fileexists on a folder", `tostring(fileexists("data"))`, "is a folder"},
		{"a template that calls templatefile", `templatefile("loop.tpl", {})`, "templatefile"},
		{"a template variable that is not given", `templatefile("vars.tpl", {})`, "missing"},
		{"template vars that are not an object", `templatefile("vars.tpl", "x")`, "object or a map"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "experiment.hcl")
			exp, diags := tunehcl.Load(path, []byte(experimentWithEnv(tc.expr)), tunehcl.Options{})
			require.Nil(t, exp)
			require.True(t, diags.HasErrors())
			assert.Contains(t, diags.Error(), tc.want)
			for _, d := range diags {
				require.NotNil(t, d.Subject, "%s: %s", d.Summary, d.Detail)
				assert.Equal(t, path, d.Subject.Filename)
				assert.Equal(t, 9, d.Subject.Start.Line, "the error points at the env line")
			}
		})
	}
}

func TestResourcesBesideLifecycleTasksAreTheMainTasks(t *testing.T) {
	exp := load(t, `experiment "side" {
  resources {
    cpu    = 2
    memory = 1024
  }
  task "fetch" {
    command = "/bin/true"
    lifecycle {
      hook = "prestart"
    }
  }
  task "train" {
    command = "/bin/true"
  }
  task "exporter" {
    command = "/bin/true"
    lifecycle {
      hook    = "poststart"
      sidecar = true
    }
    resources {
      cpu    = 0.1
      memory = 64
    }
  }
}`, tunehcl.Options{})
	shape := shapeOf(t, exp, exp.UnknownTrial())
	require.Len(t, shape.Groups, 1)
	byTask := map[string][2]float64{}
	for _, task := range shape.Groups[0].Tasks {
		byTask[task.Task] = [2]float64{task.CPU, float64(task.MemoryMiB)}
	}
	assert.Equal(t, [2]float64{2, 1024}, byTask["train"], "the main task takes the shared resources")
	assert.Equal(t, [2]float64{0.1, 64}, byTask["exporter"], "a lifecycle task keeps its own")
	assert.Equal(t, [2]float64{1, 300}, byTask["fetch"], "a lifecycle task without its own gets the defaults")
}
