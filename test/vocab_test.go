package test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// templatedExperiment runs one trial whose config comes from a template,
// with a prestart task before the trainer and a poststop task after it.
// The trainer reads the file from TUNE_TASK_DIR, or from its working
// folder on Nomad, and reports the rendered value as its loss.
func templatedExperiment(name string) string {
	return fmt.Sprintf(`experiment %q {
  metric = "loss"
  mode   = "min"
  space {
    x = grid([0.25])
  }
  task "pre" {
    driver  = "raw_exec"
    command = "/bin/sh"
    args    = ["-c", "echo pre"]
    lifecycle {
      hook = "prestart"
    }
    resources {
      cpu    = 0.1
      memory = 64
    }
  }
  task "train" {
    driver  = "raw_exec"
    command = "/bin/sh"
    args    = ["-c", "d=$TUNE_TASK_DIR; [ -n \"$d\" ] || d=.; cd \"$d\" && echo \"main $GREETING\" && echo \"@tune $(cat local/config.json)\""]
    resources {
      cpu    = 0.5
      memory = 128
    }
    template {
      data        = "{\"loss\": ${trial.x}}"
      destination = "local/config.json"
    }
    template {
      data        = "GREETING=hello-{{ env \"TUNE_TRIAL_INDEX\" }}\n"
      destination = "local/greeting.env"
      env         = true
    }
  }
  task "post" {
    driver  = "raw_exec"
    command = "/bin/sh"
    args    = ["-c", "echo post"]
    lifecycle {
      hook = "poststop"
    }
    resources {
      cpu    = 0.1
      memory = 64
    }
  }
}
`, name)
}

func TestApplyRunsLifecycleTasksInOrderAndRendersTemplatesLocally(t *testing.T) {
	w := newWorkspace(t)
	w.write(t, "exp.hcl", templatedExperiment("templated"))
	r := w.apply(t)
	require.Equal(t, 0, r.code, "%s%s", r.stdout, r.stderr)
	res := w.resultsOf(t, "templated")
	require.NotEmpty(t, res.Summary.BestTrial, "the trial reported")
	assert.Equal(t, 0.25, res.Summary.BestResult["loss"])
	log := w.trialLog(t, "templated", res.Summary.BestTrial, "stdout.log")
	pre, main, post := strings.Index(log, "pre\n"), strings.Index(log, "main hello-0\n"), strings.Index(log, "post\n")
	require.True(t, pre >= 0 && main >= 0 && post >= 0, "every task's output is there: %s", log)
	assert.Less(t, pre, main, "the prestart task ran first")
	assert.Less(t, main, post, "the poststop task ran last")
}

func TestNomadApplyRendersATemplateTheTrainerReads(t *testing.T) {
	w := newNomadWorkspace(t)
	w.needs(t, clusterNeeds{drivers: []string{"raw_exec"}})
	w.write(t, "exp.hcl", templatedExperiment(w.name))
	r := w.apply(t)
	require.Equal(t, 0, r.code, "%s%s", r.stdout, r.stderr)
	res := w.resultsOf(t, w.name)
	require.NotEmpty(t, res.Summary.BestTrial, "the trial reported")
	assert.Equal(t, 0.25, res.Summary.BestResult["loss"])
}

func TestPlanOnThisMachineRefusesAnArtifactAtItsLine(t *testing.T) {
	path := writeFile(t, "exp.hcl", `experiment "fetch" {
  task "train" {
    command = "local/train.sh"
    artifact {
      source = "https://example.com/code.tar.gz"
    }
  }
}
`)
	r := tune(t, "", "plan", path, "-local-cpus", "4")
	assert.Equal(t, 1, r.code, "%s%s", r.stdout, r.stderr)
	assert.Contains(t, r.stderr, "Error: Artifact on the local target")
	assert.Contains(t, r.stderr, "line 4")
}

func TestNomadPlanWarnsOfARelativeCommandAndNamesTheFixes(t *testing.T) {
	w := newNomadWorkspace(t)
	w.needs(t, clusterNeeds{drivers: []string{"raw_exec"}})
	w.write(t, "exp.hcl", fmt.Sprintf(`experiment %q {
  resources {
    cpu    = 0.5
    memory = 128
  }
  task "train" {
    command = "./train.sh"
  }
}
`, w.name))
	r := w.tune(t, "plan", "exp.hcl")
	assert.Equal(t, 0, r.code, "a warning does not stop the plan: %s%s", r.stdout, r.stderr)
	assert.Contains(t, r.stderr, "Warning: Relative command on Nomad")
	assert.Contains(t, r.stderr, "line 7")
	assert.Contains(t, r.stderr, "abspath(")
	assert.Empty(t, w.jobsOf(t), "plan registers nothing")
}
