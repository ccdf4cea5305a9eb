//go:build unix

package test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/test/nomadsim"
)

// The Nomad target's end-to-end tests run the tune binary against the
// project's Nomad simulator, or against a real Nomad when NOMAD_ADDR is
// set (a `nomad agent -dev` has mock_driver and raw_exec). Against a real
// cluster they register uniquely named experiments and purge them after.

var (
	simOnce sync.Once
	simAddr string
	simErr  error
)

// nomadAddr is the cluster under test: NOMAD_ADDR, or a simulated cluster
// of 4 nodes of 8 cores and 2 GPUs each, started once for the package.
func nomadAddr(t *testing.T) string {
	t.Helper()
	if addr := os.Getenv("NOMAD_ADDR"); addr != "" {
		return addr
	}
	simOnce.Do(func() {
		srv, err := nomadsim.Start(nomadsim.Options{Nodes: []nomadsim.NodeSpec{{
			Count: 4, Cores: 8, MHz: 2400, MemoryMiB: 32 * 1024,
			GPUs: 2, GPUModel: "NVIDIA A100", GPUMemoryMiB: 80 * 1024,
		}}})
		if err != nil {
			simErr = err
			return
		}
		simAddr = srv.URL()
	})
	require.NoError(t, simErr)
	return simAddr
}

// nomadWorkspace is a workspace whose tune runs talk to the cluster, with
// an experiment name unique to the test (a real cluster outlives it).
type nomadWorkspace struct {
	*workspace
	addr string
	name string
}

func newNomadWorkspace(t *testing.T) *nomadWorkspace {
	t.Helper()
	w := &nomadWorkspace{workspace: newWorkspace(t), addr: nomadAddr(t)}
	w.name = fmt.Sprintf("e2e-%d-%s", time.Now().UnixNano()%1_000_000, strings.ToLower(strings.ReplaceAll(t.Name()[4:min(len(t.Name()), 28)], "/", "-")))
	t.Cleanup(func() { w.tune(t, "stop", "-purge", w.name) })
	return w
}

// tune runs the binary with the cluster's address.
func (w *nomadWorkspace) tune(t *testing.T, args ...string) result {
	t.Helper()
	return tune(t, w.dir, append(args, "-address", w.addr)...)
}

func (w *nomadWorkspace) apply(t *testing.T, extra ...string) result {
	t.Helper()
	return w.tune(t, append([]string{"apply", "exp.hcl", "-results", w.results, "-progress", "plain"}, extra...)...)
}

func (w *nomadWorkspace) client(t *testing.T) *api.Client {
	t.Helper()
	return clusterClient(t, w.addr)
}

func (w *nomadWorkspace) jobsOf(t *testing.T) []*api.JobListStub {
	t.Helper()
	stubs, _, err := w.client(t).Jobs().List(&api.QueryOptions{Filter: fmt.Sprintf(`Meta["tune_experiment"] == %q`, w.name)})
	require.NoError(t, err)
	return stubs
}

func TestNomadPlanNamesWhatCanNeverRunAndRegistersNothing(t *testing.T) {
	w := newNomadWorkspace(t)
	w.needs(t, clusterNeeds{gpuNodes: 1, gpusPerNode: 1, drivers: []string{"mock_driver"}})
	largest := 0
	for _, n := range clusterNodes(t, w.client(t)) {
		largest = max(largest, n.gpus)
	}
	w.write(t, "exp.hcl", fmt.Sprintf(`experiment %q {
  space {
    gpus = grid([1, %d])
  }
  resources {
    cpu    = 1
    memory = 256
    gpu    = trial.gpus
  }
  task "t" {
    driver = "mock_driver"
    config {
      run_for = "1s"
    }
  }
}
`, w.name, largest+2))
	r := w.tune(t, "plan", "exp.hcl")
	assert.Equal(t, 2, r.code, "one of two trials can never run: %s%s", r.stdout, r.stderr)
	assert.Contains(t, r.stdout, fmt.Sprintf("no node has %d free nvidia/gpu (largest: %d)", largest+2, largest))
	assert.Contains(t, r.stdout, "Nomad's dry run")
	assert.Contains(t, r.stdout, "can never be placed: no node has 4 nvidia/gpu")
	assert.Empty(t, w.jobsOf(t), "plan registers nothing")
}

func TestNomadApplyRunsEveryTrialWithinTheLimitAndCollectsReports(t *testing.T) {
	w := newNomadWorkspace(t)
	w.needs(t, clusterNeeds{drivers: []string{"raw_exec"}})
	// Every trial runs until the test writes the release file, which it
	// does once two run: the first two then overlap however slowly they
	// start.
	release := filepath.Join(w.dir, "release")
	w.write(t, "exp.hcl", heldExperiment(w.name, 6, 2, 0, release))
	run := w.startNomad(t)
	c := w.client(t)
	running := func() int {
		n := 0
		for _, j := range w.jobsOf(t) {
			allocs, _, err := c.Jobs().Allocations(j.ID, false, nil)
			require.NoError(t, err)
			for _, a := range allocs {
				if a.ClientStatus == api.AllocClientStatusRunning {
					n++
				}
			}
		}
		return n
	}
	if !assert.Eventually(t, func() bool { return running() == 2 }, 60*time.Second, 20*time.Millisecond, "two trials run") {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", run.stdout.String(), run.stderr.String())
	}
	w.write(t, "release", "")
	code := run.wait(t, 60*time.Second)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", run.stdout.String(), run.stderr.String())
	assert.Contains(t, run.stdout.String(), "Best trial:")

	recs := w.trialFiles(t, w.name)
	require.Len(t, recs, 6)
	var ivs []interval
	for _, rec := range recs {
		assert.Equal(t, "TERMINATED", rec.Status, rec.ID)
		assert.Equal(t, 1, rec.Iterations, rec.ID)
		x, ok := rec.Params["x"].(float64)
		require.True(t, ok)
		assert.InDelta(t, x, rec.LastResult["loss"], 1e-9, "the report is the trial's own")
		ivs = append(ivs, trialInterval(t, w.workspace, w.name, rec.ID))
		assertStagesInOrder(t, rec, time.Time{})
	}
	assert.Equal(t, 2, maxOverlap(ivs), "max_concurrent_trials = 2 on a cluster with room for more")
	sched := w.resultsOf(t, w.name).Summary.Scheduling
	assert.Equal(t, 6, sched.Ran)
	assert.Equal(t, 2, sched.Concurrency.Peak, "the figures see the limit too")

	jobs := w.jobsOf(t)
	assert.Len(t, jobs, 6, "one job per trial, kept (purge = false)")
	for _, j := range jobs {
		assert.Equal(t, "dead", j.Status)
	}
}

// trialInterval is a trial's run as tune recorded it (trial.json).
func trialInterval(t *testing.T, w *workspace, name, id string) interval {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(w.results, name, id, "trial.json"))
	require.NoError(t, err)
	var rec struct {
		Started  time.Time `json:"started_at"`
		Finished time.Time `json:"finished_at"`
	}
	require.NoError(t, json.Unmarshal(b, &rec))
	return interval{id: id, start: rec.Started.UnixNano(), end: rec.Finished.UnixNano()}
}

func TestNomadGPUTrialsGetTheirOwnDevicesAndCPUTrialsNone(t *testing.T) {
	w := newNomadWorkspace(t)
	w.needs(t, clusterNeeds{gpuNodes: 1, gpusPerNode: 2, drivers: []string{"raw_exec"}})
	w.write(t, "exp.hcl", fmt.Sprintf(`experiment %q {
  num_samples = 2
  space {
    use_gpu = grid([true, false])
  }
  resources {
    cpu    = 0.5
    memory = 128
    gpu    = trial.use_gpu ? 1 : 0
  }
  task "t" {
    driver  = "raw_exec"
    command = "/bin/sh"
    args    = ["-c", "echo \"@tune {\\\"dev\\\": \\\"$CUDA_VISIBLE_DEVICES\\\"}\"; sleep 0.5"]
  }
}
`, w.name))
	r := w.apply(t)
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	devs := map[string]bool{}
	for _, rec := range w.trialFiles(t, w.name) {
		dev, _ := rec.LastResult["dev"].(string)
		if rec.Params["use_gpu"] == true {
			assert.NotEmpty(t, dev, "a GPU trial sees the GPU Nomad granted it")
			devs[dev] = true
		} else {
			assert.Empty(t, dev, "a CPU trial sees no GPU")
		}
	}
	assert.Len(t, devs, 2, "the two GPU trials ran at once on different GPUs")
}

func TestNomadGangTrialRunsEveryRank(t *testing.T) {
	for _, tc := range []struct {
		placement string
		need      clusterNeeds
	}{
		{placement: "pack", need: clusterNeeds{nodes: 1, drivers: []string{"raw_exec"}}},
		// Every allocation on a node of its own.
		{placement: "strict_spread", need: clusterNeeds{nodes: 4, drivers: []string{"raw_exec"}}},
	} {
		t.Run(tc.placement, func(t *testing.T) {
			w := newNomadWorkspace(t)
			w.needs(t, tc.need)
			gangTrialRunsEveryRank(t, w, tc.placement)
		})
	}
}

func gangTrialRunsEveryRank(t *testing.T, w *nomadWorkspace, placement string) {
	t.Helper()
	w.write(t, "exp.hcl", fmt.Sprintf(`experiment %q {
  placement = %q
  group "ps" {
    resources {
      cpu    = 0.25
      memory = 128
    }
    task "ps" {
      driver  = "raw_exec"
      command = "/bin/sh"
      args    = ["-c", "echo rank=$TUNE_RANK world=$TUNE_WORLD_SIZE; echo '@tune {\"loss\": 1}'"]
    }
  }
  group "worker" {
    count = 3
    resources {
      cpu    = 0.25
      memory = 128
    }
    task "train" {
      driver  = "raw_exec"
      command = "/bin/sh"
      args    = ["-c", "echo rank=$TUNE_RANK world=$TUNE_WORLD_SIZE; echo '@tune {\"loss\": 2}'"]
    }
  }
}
`, w.name, placement))
	r := w.apply(t)
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	recs := w.trialFiles(t, w.name)
	require.Len(t, recs, 1)
	var id string
	for k := range recs {
		id = k
	}
	out := w.trialLog(t, w.name, id, "stdout.log")
	var ranks []string
	for _, line := range strings.Split(out, "\n") {
		if i := strings.Index(line, "rank="); i >= 0 {
			ranks = append(ranks, line[i:])
		}
	}
	sort.Strings(ranks)
	assert.Equal(t, []string{"rank=0 world=4", "rank=1 world=4", "rank=2 world=4", "rank=3 world=4"}, ranks)
	assert.Equal(t, 1, recs[id].Iterations, "rank 0 (the parameter server) reports for the trial; the workers' lines are log")
	assert.Equal(t, 1.0, recs[id].LastResult["loss"])

	// tune told Nomad where it fitted the trial: each group's job carries a
	// pin to nodes, and its allocations ran there.
	stubs := w.jobsOf(t)
	require.Len(t, stubs, 1)
	job, _, err := w.client(t).Jobs().Info(stubs[0].ID, nil)
	require.NoError(t, err)
	pins := map[string][]string{}
	for _, tg := range job.TaskGroups {
		for _, c := range tg.Constraints {
			if c.LTarget == "${node.unique.id}" {
				pins[*tg.Name] = strings.Split(c.RTarget, ",")
			}
		}
		require.Contains(t, pins, *tg.Name, "group %s is pinned", *tg.Name)
	}
	allocs, _, err := w.client(t).Jobs().Allocations(stubs[0].ID, true, nil)
	require.NoError(t, err)
	require.Len(t, allocs, 4)
	for _, a := range allocs {
		assert.Contains(t, pins[a.TaskGroup], a.NodeID, "allocation %s of group %s", a.Name, a.TaskGroup)
	}
}

func TestNomadStatusAndStopSeeOnlyTheExperimentsJobs(t *testing.T) {
	w := newNomadWorkspace(t)
	w.needs(t, clusterNeeds{drivers: []string{"mock_driver"}})
	w.write(t, "exp.hcl", fmt.Sprintf(`experiment %q {
  num_samples = 2
  resources {
    cpu    = 0.5
    memory = 128
  }
  task "t" {
    driver = "mock_driver"
    config {
      run_for = "60s"
    }
  }
}
`, w.name))
	// Another job on the cluster that stop must leave alone.
	other := api.NewBatchJob("e2e-bystander-"+w.name, "e2e-bystander-"+w.name, "global", 50)
	other.Datacenters = []string{"dc1"}
	tg := api.NewTaskGroup("g", 1)
	tg.AddTask(api.NewTask("t", "mock_driver").SetConfig("run_for", "60s"))
	other.AddTaskGroup(tg)
	_, _, err := w.client(t).Jobs().Register(other, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _, _, _ = w.client(t).Jobs().Deregister(*other.ID, true, nil) })

	bg := w.startNomad(t)
	var last result
	if !assert.Eventually(t, func() bool {
		last = w.tune(t, "status", w.name)
		return last.code == 0 && strings.Contains(last.stdout, "2 trial jobs (2 running)")
	}, 20*time.Second, 50*time.Millisecond, "both trials run") {
		t.Fatalf("status: %+v\napply: %s%s", last, bg.stdout.String(), bg.stderr.String())
	}
	r := w.tune(t, "stop", w.name)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Stopped 2 of the 2 jobs")
	code := bg.wait(t, 30*time.Second)
	assert.Equal(t, 1, code, "apply ends, resumable, when its trials are stopped outside it\n%s%s", bg.stdout.String(), bg.stderr.String())
	assert.Contains(t, bg.stderr.String(), "stopped outside tune")

	job, _, err := w.client(t).Jobs().Info(*other.ID, nil)
	require.NoError(t, err)
	assert.False(t, *job.Stop, "the bystander job is not stopped")
	for _, rec := range w.trialFiles(t, w.name) {
		assert.NotEqual(t, "ERROR", rec.Status, "a trial stopped outside tune is no error")
	}
}

// startNomad runs `tune apply` against the cluster in the background.
func (w *nomadWorkspace) startNomad(t *testing.T) *background {
	t.Helper()
	return w.workspace.start(t, "-address", w.addr)
}

func TestNomadTwoGangsCompetingForTheSameGPUsNeverDeadlock(t *testing.T) {
	for _, onUnfit := range []string{"wait", "queue"} {
		t.Run("on_unfit = "+onUnfit, func(t *testing.T) {
			w := newNomadWorkspace(t)
			w.needs(t, clusterNeeds{nodes: 3, gpuNodes: 3, gpusPerNode: 2, drivers: []string{"mock_driver"}})
			// Each trial is a gang of 3 allocations of 2 GPUs on 3 nodes;
			// the cluster has 4 nodes of 2 GPUs, so one gang fits at a
			// time. Submitted naively, each would hold part of the GPUs and
			// wait for the rest forever.
			w.write(t, "exp.hcl", fmt.Sprintf(`experiment %q {
  num_samples = 2
  placement   = "strict_spread"
  on_unfit    = %q
  group "worker" {
    count = 3
    resources {
      cpu    = 1
      memory = 256
      gpu    = 2
    }
    task "train" {
      driver = "mock_driver"
      config {
        run_for       = "500ms"
        stdout_string = "@tune {\"loss\": 1}\n"
      }
    }
  }
  nomad {
    gang_timeout = "1s"
  }
}
`, w.name, onUnfit))
			r := w.apply(t)
			require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			recs := w.trialFiles(t, w.name)
			require.Len(t, recs, 2)
			var ivs []interval
			for _, rec := range recs {
				assert.Equal(t, "TERMINATED", rec.Status, rec.ID)
				assert.Equal(t, 0, rec.Failures, "a rolled-back gang is no failure")
				ivs = append(ivs, trialInterval(t, w.workspace, w.name, rec.ID))
			}
			if onUnfit == "wait" {
				assert.Equal(t, 1, maxOverlap(ivs), "tune held the second gang until the first was done")
			}
			// With "queue" both are submitted at once; the second waits in
			// Nomad, partly placed for at most gang_timeout, and runs when
			// the first frees its GPUs. Either way both finish.
		})
	}
}

func TestNomadCredentialsInTheAddressAreNeverShownOrStored(t *testing.T) {
	w := newNomadWorkspace(t)
	w.needs(t, clusterNeeds{drivers: []string{"mock_driver"}})
	u, err := url.Parse(w.addr)
	require.NoError(t, err)
	u.User = url.UserPassword("tuner", "hunter2")
	w.addr = u.String()
	w.write(t, "exp.hcl", fmt.Sprintf(`experiment %q {
  resources {
    cpu    = 0.5
    memory = 128
  }
  task "t" {
    driver = "mock_driver"
    config {
      run_for = "100ms"
    }
  }
}
`, w.name))
	outputs := map[string]result{
		"plan":   w.tune(t, "plan", "exp.hcl"),
		"apply":  w.apply(t),
		"status": w.tune(t, "status", w.name),
	}
	for verb, r := range outputs {
		assert.NotContains(t, r.stdout+r.stderr, "hunter2", "tune %s printed the password", verb)
	}
	assert.Contains(t, outputs["plan"].stdout, "tuner:xxxxx@", "the target is named, without its password: %s", outputs["plan"].stdout)
	stored, err := os.ReadFile(filepath.Join(w.results, w.name, "experiment.json"))
	require.NoError(t, err)
	assert.NotContains(t, string(stored), "hunter2")
}

func TestNomadAFailedTrialEndsItsErrorWithItsStderr(t *testing.T) {
	w := newNomadWorkspace(t)
	w.needs(t, clusterNeeds{drivers: []string{"mock_driver"}})
	w.write(t, "exp.hcl", fmt.Sprintf(`experiment %q {
  resources {
    cpu    = 1
    memory = 64
  }
  task "train" {
    driver = "mock_driver"
    config {
      run_for       = "10ms"
      exit_code     = 1
      stderr_string = "Traceback (most recent call last):\nValueError: lr must be positive\n"
    }
  }
}
`, w.name))
	r := w.apply(t)
	require.Equal(t, 1, r.code, "the trial failed\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "exited with code 1: Traceback (most recent call last): | ValueError: lr must be positive",
		"the trial's failure ends with the last lines of its stderr, as on the local target")
	recs := w.trialFiles(t, w.name)
	require.Len(t, recs, 1)
	for id := range recs {
		errTxt := w.trialLog(t, w.name, id, "error.txt")
		assert.Contains(t, errTxt, "Exit status: 1\n")
		assert.Contains(t, errTxt, "\n  ValueError: lr must be positive\n")
	}
}
