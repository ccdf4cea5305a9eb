//go:build unix

package local

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/driver"
	tunehcl "github.com/nomad-tune/tune/hcl"
	"github.com/nomad-tune/tune/planner"
)

// shTask is a task block that runs script with sh -c, with extra lines
// (a lifecycle block, a template) inside it.
func shTask(name, script string, extra ...string) string {
	return fmt.Sprintf(`
  task %q {
    command = "sh"
    args    = ["-c", %s]
%s
  }`, name, hclString(script), strings.Join(extra, "\n"))
}

func lifecycleBlock(hook string, sidecar bool) string {
	return fmt.Sprintf("    lifecycle {\n      hook = %q\n      sidecar = %t\n    }", hook, sidecar)
}

func TestLifecycleTasksRunInNomadsOrder(t *testing.T) {
	cases := []struct {
		name string
		// tasks of the one group, in file order
		tasks string
		// wantLines is the whole stdout, in order
		wantLines []string
		wantFail  string
	}{
		{
			name: "a prestart task runs to completion before the main task, and poststop after it",
			tasks: shTask("post", "echo post", lifecycleBlock("poststop", false)) +
				shTask("train", "test -f pre.done && echo main") +
				shTask("pre", "sleep 0.2; touch pre.done; echo pre", lifecycleBlock("prestart", false)),
			wantLines: []string{"pre", "main", "post"},
		},
		{
			name: "a failed prestart task fails the attempt and nothing after it runs",
			tasks: shTask("pre", "echo pre; exit 3", lifecycleBlock("prestart", false)) +
				shTask("train", "echo main") +
				shTask("post", "echo post", lifecycleBlock("poststop", false)),
			wantLines: []string{"pre"},
			wantFail:  "task pre exited with status 3",
		},
		{
			name: "a sidecar runs beside the main task and is stopped when it ends",
			// The main task waits until both sidecars are up, and the
			// prestart sidecar has printed its line by then, so neither
			// line depends on how fast the sidecars get going.
			tasks: shTask("side", "echo side; touch side.up; exec sleep 600", lifecycleBlock("prestart", true)) +
				shTask("train", "while ! test -f side.up || ! test -f up.up; do sleep 0.01; done; echo main", "") +
				shTask("up", "touch up.up; exec sleep 600", lifecycleBlock("poststart", true)),
			wantLines: []string{"main", "side"},
		},
		{
			name: "poststop tasks run after a main task that failed",
			tasks: shTask("train", "echo main; exit 1") +
				shTask("post", "echo post", lifecycleBlock("poststop", false)),
			wantLines: []string{"main", "post"},
			wantFail:  "task train exited with status 1",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := setup(t, `experiment "t" {`+tc.tasks+"\n}", Options{})
			stdout, _ := h.start(0, 0)
			end := last(h.untilExited())
			if tc.wantFail == "" {
				assert.False(t, end.Failed, "%s", end.Message)
				assert.Equal(t, 0, end.ExitCode)
			} else {
				assert.True(t, end.Failed)
				assert.Contains(t, end.Message, tc.wantFail)
			}
			got := stdout.all()
			if len(tc.wantLines) == 2 && tc.wantLines[1] == "side" {
				// The sidecar's line and the main task's come from two
				// processes at once: only that both came matters.
				assert.ElementsMatch(t, tc.wantLines, got)
				return
			}
			assert.Equal(t, tc.wantLines, got)
		})
	}
}

func TestAStopBetweenPhasesStartsNoMore(t *testing.T) {
	h := setup(t, `experiment "t" {`+
		shTask("pre", "echo pre; exec sleep 600", lifecycleBlock("prestart", false))+
		shTask("train", "echo main")+"\n}", Options{})
	stdout, _ := h.start(0, 0)
	stdout.waitFor(t, "pre")
	require.NoError(t, h.d.Stop(context.Background(), h.trials[0].ID, 0, "enough"))
	end := last(h.untilExited())
	assert.True(t, end.Stopped)
	assert.Equal(t, []string{"pre"}, stdout.all())
}

func TestTemplatesRenderIntoTheTaskFolderAndFeedTheEnvironment(t *testing.T) {
	h := setup(t, `experiment "t" {
  space { lr = grid([0.5]) }
  task "train" {
    command = "sh"
    args    = ["-c", "cat \"$TUNE_TASK_DIR/local/config.json\"; echo; echo \"LR=$LR MODE=$MODE\"; stat -c %a \"$TUNE_TASK_DIR/local/config.json\""]
    env { MODE = "from-env" }
    template {
      data        = "{\"lr\": ${trial.lr}, \"trial\": \"{{ env \"TUNE_TRIAL_ID\" }}\", \"mode\": \"x  {{- env \"MODE\" -}}  y\"}"
      destination = "local/config.json"
      perms       = "0600"
    }
    template {
      data        = "# from a template\nLR=\"${trial.lr}\"\nMODE=<<env \"MODE\">>-templated\n"
      destination = "local/run.env"
      env         = true
      left_delimiter  = "<<"
      right_delimiter = ">>"
    }
  }
}`, Options{})
	dir := t.TempDir()
	stdout := &output{}
	req := h.request(0, 0, stdout, &output{})
	req.Dir = dir
	require.NoError(t, h.d.Start(context.Background(), req))
	end := last(h.untilExited())
	require.False(t, end.Failed, "%s", end.Message)
	id := h.trials[0].ID
	assert.Equal(t, []string{
		`{"lr": 0.5, "trial": "` + id + `", "mode": "xfrom-envy"}`,
		"LR=0.5 MODE=from-env-templated",
		"600",
	}, stdout.all())
	written, err := os.ReadFile(filepath.Join(dir, "alloc-0", "train", "local", "run.env"))
	require.NoError(t, err)
	assert.Contains(t, string(written), "MODE=from-env-templated")
}

func TestCheckRefusesWhatTheLocalTargetCannotDo(t *testing.T) {
	me := currentUser()
	cases := []struct {
		name     string
		src      string
		wantLine int
		want     string
	}{
		{
			name: "an artifact",
			src: `experiment "t" {
  task "train" {
    command = "local/train.sh"
    artifact {
      source = "https://example.com/code.tar.gz"
    }
  }
}`,
			wantLine: 4, want: "Artifact on the local target",
		},
		{
			name: "a volume",
			src: `experiment "t" {
  volume "data" {
    source = "imagenet"
  }
  task "train" {
    driver  = "exec"
    command = "/bin/true"
    volume_mount {
      volume      = "data"
      destination = "/data"
    }
  }
}`,
			wantLine: 2, want: "Volume on the local target",
		},
		{
			name: "a template with a function only Nomad has",
			src: `experiment "t" {
  task "train" {
    command = "/bin/true"
    template {
      data        = "{{ key \"config/lr\" }}"
      destination = "local/lr"
    }
  }
}`,
			wantLine: 4, want: `not {{ key "config/lr" }}`,
		},
		{
			name: "a template whose source is missing",
			src: `experiment "t" {
  task "train" {
    command = "/bin/true"
    template {
      source      = "missing.tpl"
      destination = "local/lr"
    }
  }
}`,
			wantLine: 4, want: "cannot read template source missing.tpl",
		},
		{
			name: "a task that runs as another user",
			src: `experiment "t" {
  task "train" {
    command = "/bin/true"
    user    = "` + me + `-not"
  }
}`,
			wantLine: 4, want: "cannot switch users",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "exp.hcl")
			exp, diags := tunehcl.Load(path, []byte(tc.src), tunehcl.Options{})
			require.False(t, diags.HasErrors(), "%s", diags.Error())
			trials, diags := planner.Trials(exp)
			require.False(t, diags.HasErrors(), "%s", diags.Error())
			diags = Check(exp, trials)
			require.Len(t, diags, 1, "%s", diags.Error())
			assert.Contains(t, diags[0].Summary+": "+diags[0].Detail, tc.want)
			require.NotNil(t, diags[0].Subject)
			assert.Equal(t, path, diags[0].Subject.Filename)
			assert.Equal(t, tc.wantLine, diags[0].Subject.Start.Line)
		})
	}
}

func TestCheckAcceptsWhatTheLocalTargetHonours(t *testing.T) {
	src := `experiment "t" {
  task "train" {
    command      = "/bin/true"
    user         = "` + currentUser() + `"
    kill_timeout = "1s"
    template {
      data        = "plain {{ env \"HOME\" }}"
      destination = "local/x"
    }
  }
  task "pre" {
    command = "/bin/true"
    lifecycle { hook = "prestart" }
  }
}`
	exp, diags := tunehcl.Load(filepath.Join(t.TempDir(), "exp.hcl"), []byte(src), tunehcl.Options{})
	require.False(t, diags.HasErrors(), "%s", diags.Error())
	trials, diags := planner.Trials(exp)
	require.False(t, diags.HasErrors(), "%s", diags.Error())
	assert.Empty(t, Check(exp, trials))
}

var _ driver.LineWriter = (*output)(nil)
