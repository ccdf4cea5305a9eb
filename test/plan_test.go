package test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// planJSON is the part of `tune plan -json` the tests read.
type planJSON struct {
	Experiment  string `json:"experiment"`
	NumTrials   int    `json:"num_trials"`
	Runnable    int    `json:"runnable"`
	AtOnce      int    `json:"at_once"`
	Limit       string `json:"limit"`
	LimitDetail string `json:"limit_detail"`
	Never       []struct {
		Reason   string   `json:"reason"`
		TrialIDs []string `json:"trial_ids"`
	} `json:"never"`
	Trials []struct {
		ID       string         `json:"id"`
		Index    int            `json:"index"`
		Params   map[string]any `json:"params"`
		Runnable bool           `json:"runnable"`
	} `json:"trials"`
	Jobs *struct {
		New       int      `json:"new"`
		Unchanged int      `json:"unchanged"`
		Changed   []string `json:"changed"`
	} `json:"jobs"`
}

func planOf(t *testing.T, r result) planJSON {
	t.Helper()
	var p planJSON
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &p), "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	return p
}

// experimentWith is a one-task experiment of n samples with the given
// resources block body and extra experiment attributes.
func experimentWith(samples int, resources, extra string) string {
	return fmt.Sprintf(`experiment "seed" {
  num_samples = %d
  %s
  space {
    x = uniform(0, 1)
  }
  resources {
    %s
  }
  task "train" {
    command = "true"
  }
}
`, samples, extra, resources)
}

func TestPlanFollowsRayTuneParallelismRules(t *testing.T) {
	cases := []struct {
		name      string
		resources string
		extra     string
		flags     []string
		atOnce    int
		limit     string
	}{
		{"default one CPU per trial runs one trial per CPU", "", "", []string{"-local-cpus", "4"}, 4, "capacity"},
		{"two CPUs per trial halve the parallelism", "cpu = 2", "", []string{"-local-cpus", "4"}, 2, "capacity"},
		{"a trial of every CPU runs alone", "cpu = 4", "", []string{"-local-cpus", "4"}, 1, "capacity"},
		{"half a CPU per trial doubles it", "cpu = 0.5", "", []string{"-local-cpus", "4"}, 8, "capacity"},
		{"one GPU per trial runs one trial per GPU", "gpu = 1\n cpu = 0.1", "", []string{"-local-cpus", "16", "-local-gpus", "8"}, 8, "capacity"},
		{"two CPUs and a GPU on a 4-CPU 1-GPU machine run one at a time", "cpu = 2\n gpu = 1", "", []string{"-local-cpus", "4", "-local-gpus", "1"}, 1, "capacity"},
		{"max_concurrent_trials caps what fits", "cpu = 0.5", "max_concurrent_trials = 3", []string{"-local-cpus", "4"}, 3, "max_concurrent_trials"},
		{"fewer trials than slots all run at once", "cpu = 0.1", "", []string{"-local-cpus", "4"}, 10, "trials"},
		{"quarter GPUs share one device", "gpu = 0.25\n cpu = 0.1", "", []string{"-local-cpus", "8", "-local-gpus", "1"}, 4, "capacity"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "exp.hcl", experimentWith(10, tc.resources, tc.extra))
			r := tune(t, "", append([]string{"plan", "-json", path}, tc.flags...)...)
			require.Equal(t, 0, r.code, r.stderr)
			p := planOf(t, r)
			assert.Equal(t, 10, p.NumTrials)
			assert.Equal(t, 10, p.Runnable)
			assert.Equal(t, tc.atOnce, p.AtOnce, p.LimitDetail)
			assert.Equal(t, tc.limit, p.Limit, p.LimitDetail)
		})
	}
}

func TestPlanOfTheQuickStartExample(t *testing.T) {
	r := tune(t, "", "plan", "examples/quickstart.hcl", "-local-cpus", "4")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, `Experiment "quickstart"`)
	assert.Contains(t, r.stdout, "3 grid points × 4 samples = 12 trials")
	assert.Contains(t, r.stdout, "Plan: 12 trials, 8 at a time.")

	again := tune(t, "", "plan", "-json", "examples/quickstart.hcl", "-local-cpus", "4")
	require.Equal(t, 0, again.code, again.stderr)
	first := planOf(t, again)
	second := planOf(t, tune(t, "", "plan", "-json", "examples/quickstart.hcl", "-local-cpus", "4"))
	assert.Equal(t, first.Trials, second.Trials, "the same file and seed must give the same trials")
	assert.Len(t, first.Trials, 12)
}

func TestPlanNamesTrialsThatCanNeverRun(t *testing.T) {
	path := writeFile(t, "exp.hcl", `experiment "mixed" {
  space {
    big = grid([false, true])
  }
  resources {
    cpu = trial.big ? 64 : 1
  }
  task "train" {
    command = "true"
  }
}
`)
	r := tune(t, "", "plan", path, "-local-cpus", "4")
	assert.Equal(t, 2, r.code, "some trials can never run: exit 2\n%s%s", r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "Can never run on local (1 trial)")
	assert.Contains(t, r.stdout, "Plan: 1 of 2 trials can run")

	p := planOf(t, tune(t, "", "plan", "-json", path, "-local-cpus", "4"))
	require.Len(t, p.Never, 1)
	assert.Contains(t, p.Never[0].Reason, "CPU")
	assert.Equal(t, []string{p.Trials[1].ID}, p.Never[0].TrialIDs)
	assert.False(t, p.Trials[1].Runnable)
	assert.True(t, p.Trials[0].Runnable)
}

func TestPlanSaysWhichWaitingTrialStartsFirst(t *testing.T) {
	cases := []struct {
		name      string
		gpu       string
		admission string
		want      string
	}{
		{"trials of two sizes start in reservation order by default", "trial.big ? 4 : 1", "", "Order:   reserve — the oldest waiting trial keeps the nodes it fits on soonest"},
		{"greedy is Ray Tune's order", "trial.big ? 4 : 1", `admission = "greedy"`, "Order:   greedy — any waiting trial that fits starts (Ray Tune's order)"},
		{"with one size the order does not matter", "1", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "exp.hcl", fmt.Sprintf(`experiment "sizes" {
  %s
  space {
    big = grid([false, true])
  }
  resources {
    cpu = 0.1
    gpu = %s
  }
  task "train" {
    command = "true"
  }
}
`, tc.admission, tc.gpu))
			r := tune(t, "", "plan", path, "-local-cpus", "4", "-local-gpus", "4")
			require.Equal(t, 0, r.code, r.stderr)
			if tc.want == "" {
				assert.NotContains(t, r.stdout, "Order:")
				return
			}
			assert.Contains(t, r.stdout, tc.want)
		})
	}
}

func TestPlanFailsWhenNoTrialCanRun(t *testing.T) {
	path := writeFile(t, "exp.hcl", experimentWith(3, "gpu = 1", ""))
	r := tune(t, "", "plan", path, "-local-cpus", "4", "-local-gpus", "0")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, "Plan: none of the 3 trials can run on local.")
	assert.Contains(t, r.stdout, "nvidia/gpu")
}

func TestInvalidFilesFailWithFileLineAndSnippet(t *testing.T) {
	cases := []struct {
		name    string
		content string
		want    []string
	}{
		{
			"a distribution with bad bounds",
			"experiment \"e\" {\n  space {\n    lr = loguniform(0, 1)\n  }\n  task \"t\" {\n    command = \"true\"\n  }\n}\n",
			[]string{"exp.hcl line 3", "lr = loguniform(0, 1)", "greater than 0"},
		},
		{
			"an unknown attribute",
			"experiment \"e\" {\n  num_sample = 3\n  task \"t\" {\n    command = \"true\"\n  }\n}\n",
			[]string{"exp.hcl line 2", "Unsupported argument", "num_samples"},
		},
		{
			"a reference to an undefined parameter",
			"experiment \"e\" {\n  space {\n    lr = uniform(0, 1)\n  }\n  resources {\n    cpu = trial.lf\n  }\n  task \"t\" {\n    command = \"true\"\n  }\n}\n",
			[]string{"exp.hcl line 6", "Reference to undefined parameter", `did you mean "lr"`},
		},
		{
			"a syntax error",
			"experiment \"e\" {\n  num_samples = \n}\n",
			[]string{"exp.hcl line 2"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "exp.hcl", tc.content)
			for _, verb := range []string{"plan", "validate"} {
				r := tune(t, filepath.Dir(path), verb, "exp.hcl")
				assert.Equal(t, 1, r.code, verb)
				assert.Empty(t, r.stdout, "%s prints nothing on stdout for an invalid file", verb)
				for _, w := range tc.want {
					assert.Contains(t, r.stderr, w, verb)
				}
			}
		})
	}
}

func TestValidateAndFmtAcceptTheExamples(t *testing.T) {
	examples, err := filepath.Glob("../examples/*.hcl")
	require.NoError(t, err)
	require.NotEmpty(t, examples)
	for _, ex := range examples {
		rel := strings.TrimPrefix(ex, "../")
		r := tune(t, "", "validate", rel)
		assert.Equal(t, 0, r.code, "%s: %s", rel, r.stderr)
		assert.Contains(t, r.stdout, "is valid")
	}
	r := tune(t, "", "fmt", "-check", "examples")
	assert.Equal(t, 0, r.code, "examples must be formatted: %s", r.stdout)
}

func TestFmtRewritesAFileAndCheckReportsIt(t *testing.T) {
	path := writeFile(t, "exp.hcl", "experiment \"e\" {\nnum_samples=2\n  task \"t\" {\n command=\"true\"\n  }\n}\n")
	r := tune(t, "", "fmt", "-check", path)
	assert.Equal(t, 3, r.code)
	assert.Contains(t, r.stdout, path)

	r = tune(t, "", "fmt", path)
	require.Equal(t, 0, r.code, r.stderr)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(got), "  num_samples = 2\n")

	r = tune(t, "", "fmt", "-check", path)
	assert.Equal(t, 0, r.code)
}

func TestFmtLeavesAFileWithSyntaxErrorsUntouched(t *testing.T) {
	content := "experiment \"e\" {\n  num_samples = \n"
	path := writeFile(t, "exp.hcl", content)
	r := tune(t, "", "fmt", path)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "exp.hcl line")
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, content, string(got))
}

func TestVariablesFromTheCommandLine(t *testing.T) {
	path := writeFile(t, "exp.hcl", `variable "samples" {
  type = number
}
experiment "vars" {
  num_samples = var.samples
  task "t" {
    command = "true"
  }
}
`)
	r := tune(t, "", "validate", path, "-var", "samples=7")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "7 trials")

	r = tune(t, "", "validate", path)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "No value for required variable")
	assert.Contains(t, r.stderr, "exp.hcl line 1")

	varFile := filepath.Join(filepath.Dir(path), "vars.hcl")
	require.NoError(t, os.WriteFile(varFile, []byte("samples = 5\n"), 0o644))
	r = tune(t, "", "validate", path, "-var-file", varFile)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "5 trials")
}

func TestUnknownCommandAndHelp(t *testing.T) {
	r := tune(t, "", "plna")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, `unknown command "plna"`)

	r = tune(t, "", "help")
	assert.Equal(t, 0, r.code)
	for _, verb := range []string{"plan", "validate", "fmt"} {
		assert.Contains(t, r.stdout, verb)
	}
}

func TestOutputAgreesInNumberForOneOfAThing(t *testing.T) {
	path := writeFile(t, "one.hcl", experimentWith(1, "gpu = 1", ""))
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"plan", []string{"plan", path, "-local-cpus", "1", "-local-gpus", "1"}, []string{"Search:  1 trial,", "1 node,", "1 GPU\n", "Plan: 1 trial, 1 at a time."}},
		{"validate", []string{"validate", path}, []string{"valid: 1 trial."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tune(t, "", tt.args...)
			require.Equal(t, 0, r.code, r.stderr)
			for _, w := range tt.want {
				assert.Contains(t, r.stdout, w)
			}
			for _, wrong := range []string{"1 trials", "1 GPUs", "1 nodes", "1 CPUs", "1 samples", "1 grid points"} {
				assert.NotContains(t, r.stdout, wrong)
			}
		})
	}
}
