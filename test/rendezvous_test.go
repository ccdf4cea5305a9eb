//go:build unix

package test

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// target runs one experiment file on the local target or on the cluster
// under test, and reads its trials back.
type target struct {
	name  string
	setup func(t *testing.T) (w *workspace, experiment string, apply func(t *testing.T) result)
}

var targets = []target{
	{name: "local", setup: func(t *testing.T) (*workspace, string, func(t *testing.T) result) {
		w := newWorkspace(t)
		return w, "rdzv", func(t *testing.T) result { return w.apply(t, "-local-cpus", "2", "-local-memory", "8GiB") }
	}},
	{name: "nomad", setup: func(t *testing.T) (*workspace, string, func(t *testing.T) result) {
		w := newNomadWorkspace(t)
		w.needs(t, clusterNeeds{nodes: 1, drivers: []string{"raw_exec"}})
		return w.workspace, w.name, func(t *testing.T) result { return w.apply(t) }
	}},
}

// hostileValues are parameter values that a shell, Nomad's ${...}
// interpolation or a careless quoting would change, as HCL strings and as
// the text each must reach the trial as.
var hostileValues = []struct{ hcl, want string }{
	{`"$${node.unique.name}"`, "${node.unique.name}"},
	{`"$${NOMAD_ALLOC_ID}/$${attr.kernel.name}$${NOMAD_META_tune_dollar}{x}"`, "${NOMAD_ALLOC_ID}/${attr.kernel.name}${NOMAD_META_tune_dollar}{x}"},
	{`"$x $HOME"`, "$x $HOME"},
	{"\"a;b $(x) `y` | z && w > f\"", "a;b $(x) `y` | z && w > f"},
	{`"it's \"quoted\",  spaced\nnewline\ttab %%{x}"`, "it's \"quoted\",  spaced\nnewline\ttab %{x}"},
	{`"100% $5 $$${x} %%%{y} ${"$"}{z}"`, "100% $5 $${x} %%{y} ${z}"},
}

// echoScript reports what the trial received: its argument, an env var
// and TUNE_CONFIG.
const echoScript = `import json, os, sys
config = json.loads(os.environ["TUNE_CONFIG"])
print("@tune", json.dumps({"loss": 1, "arg": sys.argv[1], "env": os.environ["S"], "config": config["s"]}), flush=True)
`

func TestParametersReachTheTrialByteForByte(t *testing.T) {
	if _, err := exec.LookPath("/usr/bin/python3"); err != nil {
		t.Skip("the trainer of this test needs /usr/bin/python3")
	}
	var values []string
	for _, v := range hostileValues {
		values = append(values, v.hcl)
	}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			w, name, apply := tg.setup(t)
			w.write(t, "echo.py", echoScript)
			w.write(t, "exp.hcl", fmt.Sprintf(`experiment %q {
  space {
    s = grid([%s])
  }
  resources {
    cpu    = 0.25
    memory = 128
  }
  task "echo" {
    driver  = "raw_exec"
    command = "/usr/bin/python3"
    args    = [%q, trial.s]
    env {
      S = trial.s
    }
  }
}
`, name, strings.Join(values, ", "), w.path("echo.py")))
			r := apply(t)
			require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			recs := w.trialFiles(t, name)
			require.Len(t, recs, len(hostileValues))
			var got []any
			for _, rec := range recs {
				got = append(got, rec.Params["s"])
				for _, field := range []string{"arg", "env", "config"} {
					assert.Equal(t, rec.Params["s"], rec.LastResult[field], "%s of trial %s", field, rec.ID)
				}
			}
			var want []any
			for _, v := range hostileValues {
				want = append(want, v.want)
			}
			assert.ElementsMatch(t, want, got, "the file's values are the trials' parameters")
		})
	}
}

// ddpScript is a real torch.distributed trainer: every rank joins through
// env://, all-reduces rank+1, and rank 0 reports the sum.
const ddpScript = `import datetime, json, os, sys
for name in ("MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "GROUP_RANK", "NODE_RANK"):
    if not os.environ.get(name):
        sys.exit(name + " is not set")
import torch
import torch.distributed as dist
dist.init_process_group("gloo", init_method="env://", timeout=datetime.timedelta(seconds=120))
rank, world = dist.get_rank(), dist.get_world_size()
t = torch.tensor([float(rank + 1)])
dist.all_reduce(t)
print("@tune", json.dumps({"loss": 0, "sum": t.item(), "world": world, "rank": rank,
      "tune_rank": int(os.environ["TUNE_RANK"]), "node_rank": int(os.environ["NODE_RANK"])}), flush=True)
dist.barrier()
dist.destroy_process_group()
`

// torchPython is Debian's python3 with python3-torch; another python3
// may come first on PATH.
const torchPython = "/usr/bin/python3"

func TestTorchDistributedTrialFindsRankZero(t *testing.T) {
	if out, err := exec.Command(torchPython, "-c", "import torch").CombinedOutput(); err != nil {
		t.Skipf("%s cannot import torch (apt-get install python3-torch): %v: %s", torchPython, err, strings.TrimSpace(string(out)))
	}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			w, name, apply := tg.setup(t)
			w.write(t, "ddp.py", ddpScript)
			w.write(t, "exp.hcl", fmt.Sprintf(`experiment %q {
  max_concurrent_trials = 1
  space {
    ranks = grid([1, 2, 3])
  }
  group "worker" {
    count = trial.ranks
    resources {
      cpu    = 0.25
      memory = 512
    }
    task "train" {
      driver  = "raw_exec"
      command = %q
      args    = [%q]
    }
  }
}
`, name, torchPython, w.path("ddp.py")))
			r := apply(t)
			require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			recs := w.trialFiles(t, name)
			require.Len(t, recs, 3)
			for _, rec := range recs {
				world, ok := rec.Params["ranks"].(float64)
				require.True(t, ok, "ranks of trial %s: %v", rec.ID, rec.Params)
				assert.Equal(t, "TERMINATED", rec.Status, rec.Error)
				assert.Equal(t, world, rec.LastResult["world"], "trial of %v ranks", world)
				assert.Equal(t, world*(world+1)/2, rec.LastResult["sum"], "every rank took part in the all-reduce (trial of %v ranks)", world)
				assert.Equal(t, 0.0, rec.LastResult["rank"], "rank 0 reports for the trial")
				assert.Equal(t, 0.0, rec.LastResult["tune_rank"])
				assert.Equal(t, 0.0, rec.LastResult["node_rank"])
				out := w.trialLog(t, name, rec.ID, "stdout.log")
				for rank := 1; rank < int(world); rank++ {
					assert.Contains(t, out, `"rank": `+strconv.Itoa(rank)+",", "rank %d of %v reported too", rank, world)
				}
			}
		})
	}
}

func TestWaitForGPUIsRefusedOnNomadWithItsLine(t *testing.T) {
	w := newNomadWorkspace(t)
	w.write(t, "exp.hcl", fmt.Sprintf(`experiment %q {
  resources {
    cpu = 0.25
  }
  wait_for_gpu {
    max_used = 0.1
  }
  task "train" {
    driver  = "raw_exec"
    command = "/bin/true"
  }
}
`, w.name))
	for _, verb := range []string{"plan", "apply"} {
		args := []string{verb, "exp.hcl"}
		if verb == "apply" {
			args = append(args, "-results", w.results, "-progress", "plain")
		}
		r := w.tune(t, args...)
		assert.Equal(t, 1, r.code, "%s: stdout:\n%s\nstderr:\n%s", verb, r.stdout, r.stderr)
		assert.Contains(t, r.stderr, "Error: wait_for_gpu does not run on Nomad", verb)
		assert.Contains(t, r.stderr, "on exp.hcl line 5", "%s names the block's line", verb)
	}
	assert.Empty(t, w.jobsOf(t), "nothing is registered")
}
