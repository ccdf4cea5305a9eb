package hcl_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"

	"github.com/nomad-tune/tune/experiment"
	tunehcl "github.com/nomad-tune/tune/hcl"
)

// load decodes src as the file experiment.hcl and requires it to be valid.
func load(t *testing.T, src string, opts tunehcl.Options) *experiment.Experiment {
	t.Helper()
	return loadAs(t, "experiment.hcl", src, opts)
}

func loadAs(t *testing.T, filename, src string, opts tunehcl.Options) *experiment.Experiment {
	t.Helper()
	exp, diags := tunehcl.Load(filename, []byte(src), opts)
	require.False(t, diags.HasErrors(), "unexpected errors:%s", describe(diags))
	require.NotNil(t, exp)
	return exp
}

// trialOf builds the trial variables of one trial from values by name;
// parameters not named are left unknown.
func trialOf(exp *experiment.Experiment, index int, values map[string]cty.Value) experiment.TrialVars {
	tv := experiment.TrialVars{ID: "test-trial", Index: index}
	for _, p := range exp.Space.Params {
		v, ok := values[p.Name]
		if !ok {
			v = cty.UnknownVal(p.Dist.Type())
		}
		tv.Values = append(tv.Values, v)
	}
	return tv
}

func shapeOf(t *testing.T, exp *experiment.Experiment, tv experiment.TrialVars) *experiment.Shape {
	t.Helper()
	shape, diags := exp.ResolveShape(tv)
	require.False(t, diags.HasErrors(), "unexpected errors:%s", describe(diags))
	return shape
}

func tasksOf(t *testing.T, exp *experiment.Experiment, tv experiment.TrialVars) [][]experiment.TaskSpec {
	t.Helper()
	tasks, diags := exp.ResolveTasks(tv)
	require.False(t, diags.HasErrors(), "unexpected errors:%s", describe(diags))
	return tasks
}

// kinds lists the space as "name:kind" in order.
func kinds(exp *experiment.Experiment) []string {
	var out []string
	for _, p := range exp.Space.Params {
		out = append(out, p.Name+":"+string(p.Dist.Kind))
	}
	return out
}

func goValues(vals []cty.Value) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = experiment.GoValue(v)
	}
	return out
}

func TestEveryValidFileLoadsWithoutDiagnostics(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "valid", "*"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			exp, diags := tunehcl.LoadFile(path, tunehcl.Options{})
			assert.Empty(t, diags, "diagnostics:%s", describe(diags))
			require.NotNil(t, exp)
			assert.Equal(t, path, exp.Filename)
			abs, err := filepath.Abs(filepath.Dir(path))
			require.NoError(t, err)
			assert.Equal(t, abs, exp.Dir)
		})
	}
}

func TestTheDesignExampleDecodesToTheModel(t *testing.T) {
	for _, name := range []string{"quadratic.hcl", "quadratic.json"} {
		t.Run(name, func(t *testing.T) {
			exp, diags := tunehcl.LoadFile(filepath.Join("testdata", "valid", name), tunehcl.Options{})
			require.False(t, diags.HasErrors(), describe(diags))

			assert.Equal(t, "quadratic", exp.Name)
			assert.Equal(t, "loss", exp.Metric)
			assert.Equal(t, experiment.ModeMin, exp.Mode)
			assert.Equal(t, 8, exp.NumSamples)
			assert.Equal(t, 4, exp.MaxConcurrentTrials)
			assert.Equal(t, uint64(1), exp.Seed)
			assert.Equal(t, experiment.PlacementPack, exp.Placement)
			assert.Equal(t, experiment.OnUnfitWait, exp.OnUnfit)
			assert.Equal(t, experiment.AdmissionReserve, exp.Admission, "reservations are the default")
			assert.Equal(t, []string{"x:uniform", "lr:loguniform", "layers:grid", "opt:choice"}, kinds(exp))
			x := exp.Space.Lookup("x").Dist
			assert.Equal(t, [2]float64{-5, 5}, [2]float64{x.Lo, x.Hi})
			lr := exp.Space.Lookup("lr").Dist
			assert.InDelta(t, 1e-4, lr.Lo, 1e-12)
			assert.InDelta(t, 1e-1, lr.Hi, 1e-12)
			assert.Equal(t, []any{int64(2), int64(3), int64(4)}, goValues(exp.Space.Lookup("layers").Dist.Values))
			assert.Equal(t, []any{"adam", "sgd"}, goValues(exp.Space.Lookup("opt").Dist.Values))
			assert.Equal(t, 3, exp.Space.GridPoints())

			require.Len(t, exp.Groups, 1)
			g := exp.Groups[0]
			assert.Equal(t, "trial", g.Name)
			assert.Nil(t, g.Count)
			require.Len(t, g.Tasks, 1)
			assert.Equal(t, "train", g.Tasks[0].Name)
			assert.Equal(t, "raw_exec", g.Tasks[0].Driver)

			assert.Equal(t, experiment.Failure{MaxFailures: 2}, exp.Failure)
			assert.Equal(t, experiment.Stop{TimeBudget: time.Hour, TrialTimeout: 10 * time.Minute}, exp.Stop)
			assert.Equal(t, []string{"dc1"}, exp.Nomad.Datacenters)
			assert.Equal(t, "gpu", exp.Nomad.NodePool)
			assert.Equal(t, 40, exp.Nomad.Priority)
			assert.Equal(t, experiment.DefaultGPUDevice, exp.Nomad.GPUDevice)
			assert.Equal(t, 2*time.Minute, exp.Nomad.GangTimeout)
			assert.Nil(t, exp.WaitForGPU)

			adam := trialOf(exp, 0, map[string]cty.Value{"x": cty.NumberFloatVal(0.5), "lr": cty.NumberFloatVal(0.01), "layers": cty.NumberIntVal(3), "opt": cty.StringVal("adam")})
			shape := shapeOf(t, exp, adam)
			require.Len(t, shape.Groups, 1)
			assert.Equal(t, 1, shape.Groups[0].Count)
			task := shape.Groups[0].Tasks[0]
			assert.Equal(t, "train", task.Task)
			assert.InDelta(t, 0.5, task.CPU, 1e-12)
			assert.Equal(t, 256, task.MemoryMiB)
			assert.InDelta(t, 1.0, task.GPU, 1e-12)

			sgd := adam
			sgd.Values = append([]cty.Value(nil), adam.Values...)
			sgd.Values[3] = cty.StringVal("sgd")
			assert.Zero(t, shapeOf(t, exp, sgd).Groups[0].Tasks[0].GPU)

			tasks := tasksOf(t, exp, adam)
			require.Len(t, tasks, 1)
			require.Len(t, tasks[0], 1)
			assert.Equal(t, "python3", tasks[0][0].Command)
			assert.Equal(t, []string{"train.py", "--x=0.5", "--layers=3"}, tasks[0][0].Args)
		})
	}
}

func TestAdmissionChoosesTheOrderOfTrialsThatDoNotFitAtOnce(t *testing.T) {
	for _, want := range []experiment.Admission{experiment.AdmissionReserve, experiment.AdmissionGreedy} {
		src := fmt.Sprintf("experiment \"order\" {\n  admission = %q\n  task \"train\" {\n    command = \"true\"\n  }\n}\n", want)
		exp, diags := tunehcl.Load("order.hcl", []byte(src), tunehcl.Options{})
		require.False(t, diags.HasErrors(), describe(diags))
		assert.Equal(t, want, exp.Admission)
	}
}

func TestTheDistributedExampleDecodesGroupsDevicesAndEveryBlock(t *testing.T) {
	path := filepath.Join("testdata", "valid", "distributed.hcl")
	exp, diags := tunehcl.LoadFile(path, tunehcl.Options{})
	require.False(t, diags.HasErrors(), describe(diags))

	assert.Equal(t, "data-parallel training", exp.Description)
	assert.Equal(t, experiment.ModeMax, exp.Mode)
	assert.Equal(t, experiment.PlacementSpread, exp.Placement)
	assert.Equal(t, experiment.OnUnfitQueue, exp.OnUnfit)
	assert.Equal(t, []string{"workers:grid", "lr:qloguniform", "batch:qrandint"}, kinds(exp))
	lr := exp.Space.Lookup("lr").Dist
	assert.InDelta(t, 1e-4, lr.Q, 1e-12)
	assert.InDelta(t, 10, lr.Base, 0)
	batch := exp.Space.Lookup("batch").Dist
	assert.Equal(t, [3]float64{32, 256, 32}, [3]float64{batch.Lo, batch.Hi, batch.Q})

	assert.Equal(t, experiment.Failure{MaxFailures: -1, Restarts: 1, RetryDelay: 30 * time.Second}, exp.Failure)
	assert.Equal(t, experiment.Stop{
		TimeBudget: 48 * time.Hour,
		AtLeast:    map[string]float64{"training_iteration": 100},
		AtMost:     map[string]float64{"loss": 0.01},
	}, exp.Stop)
	assert.Equal(t, experiment.Nomad{
		Datacenters:   []string{"dc1", "dc2"},
		Namespace:     "ml",
		Region:        "eu",
		GPUDevice:     "nvidia/gpu",
		CPUMHzPerCore: 2500,
		Purge:         true,
		Meta:          map[string]string{"team": "vision"},
		GangTimeout:   5 * time.Minute,
		UILinks:       []experiment.UILink{{Label: "Dashboard", URL: "https://grafana.example.com/d/tune"}},
	}, exp.Nomad)
	require.NotNil(t, exp.WaitForGPU)
	assert.Equal(t, 110, exp.WaitForGPU.DefRange.Start.Line, "the block's line, for errors about it")
	exp.WaitForGPU.DefRange = hcl.Range{}
	assert.Equal(t, &experiment.WaitForGPU{MaxUsed: 0.05, Timeout: 3 * time.Minute, Interval: 10 * time.Second}, exp.WaitForGPU)

	require.Len(t, exp.Groups, 2)
	assert.Equal(t, "ps", exp.Groups[0].Name)
	assert.Equal(t, "worker", exp.Groups[1].Name)
	assert.True(t, exp.Groups[1].Tasks[0].Leader)
	assert.Equal(t, "docker", exp.Groups[1].Tasks[0].Driver)

	tv := trialOf(exp, 7, map[string]cty.Value{"workers": cty.NumberIntVal(4), "lr": cty.NumberFloatVal(0.002), "batch": cty.NumberIntVal(64)})
	shape := shapeOf(t, exp, tv)
	linux := experiment.Constraint{Attribute: "${attr.kernel.name}", Operator: "=", Value: "linux"}
	assert.Equal(t, []experiment.GroupShape{
		{
			Name:        "ps",
			Count:       1,
			Tasks:       []experiment.TaskResources{{Task: "server", Cores: 2, MemoryMiB: 2048, GPURange: shape.Groups[0].Tasks[0].GPURange}},
			Constraints: []experiment.Constraint{linux},
		},
		{
			Name:  "worker",
			Count: 4,
			Tasks: []experiment.TaskResources{{
				Task: "train", CPU: 4, MemoryMiB: 16 * 1024, MemoryMaxMiB: 24 * 1024,
				Devices: []experiment.DeviceRequest{{
					Name: "nvidia/gpu", Count: 1,
					Constraints: []experiment.Constraint{{Attribute: "${device.attr.memory}", Operator: ">=", Value: "40 GiB"}},
				}},
				GPURange: shape.Groups[1].Tasks[0].GPURange,
			}},
			Constraints: []experiment.Constraint{linux, {Operator: "distinct_hosts", Value: "true"}},
		},
	}, shape.Groups)
	assert.Equal(t, 5, shape.Allocs())

	tasks := tasksOf(t, exp, tv)
	require.Len(t, tasks, 2)
	assert.Equal(t, []string{"ps.py", "--data=/mnt/datasets/data"}, tasks[0][0].Args)
	train := tasks[1][0]
	assert.Equal(t, "worker", train.Group)
	assert.Equal(t, []experiment.EnvVar{
		{Name: "ARCH", Value: "${attr.cpu.arch}"},
		{Name: "SCRATCH", Value: "${NOMAD_TASK_DIR}/scratch"},
		{Name: "WORLD", Value: "4"},
	}, train.Env)
	assert.Equal(t, map[string]any{
		"image":   "pytorch/pytorch:2.4.0-cuda12.1-cudnn9-runtime",
		"command": "torchrun",
		"args":    []any{"--nproc-per-node=1", "train.py", "--lr=0.002", "--batch=64"},
		"volumes": []any{"${NOMAD_ALLOC_DIR}/ckpt:/ckpt"},
		"mount":   []map[string]any{{"type": "bind", "source": "/mnt/datasets", "target": "/data"}},
	}, train.Config)
}

func TestLoadDecodesEachSetting(t *testing.T) {
	const task = `
  task "train" {
    command = "python3"
  }`
	tests := []struct {
		name  string
		src   string
		check func(t *testing.T, exp *experiment.Experiment)
	}{
		{
			name: "a file that sets nothing gets the defaults",
			src:  `experiment "plain" {` + task + "\n}",
			check: func(t *testing.T, exp *experiment.Experiment) {
				assert.Equal(t, "plain", exp.Name)
				assert.Equal(t, experiment.ModeNone, exp.Mode)
				assert.Empty(t, exp.Metric)
				assert.Equal(t, 1, exp.NumSamples)
				assert.Zero(t, exp.MaxConcurrentTrials)
				assert.Zero(t, exp.Seed)
				assert.Equal(t, experiment.PlacementPack, exp.Placement)
				assert.Equal(t, experiment.OnUnfitWait, exp.OnUnfit)
				assert.Empty(t, exp.Space.Params)
				assert.Equal(t, experiment.Failure{}, exp.Failure)
				assert.Equal(t, experiment.Stop{}, exp.Stop)
				assert.Equal(t, experiment.Nomad{GPUDevice: "nvidia/gpu", GangTimeout: 2 * time.Minute}, exp.Nomad)
				assert.Nil(t, exp.WaitForGPU)
				shape := shapeOf(t, exp, exp.UnknownTrial())
				assert.Equal(t, "1 × {cpu 1, memory 300 MiB}", shape.String())
			},
		},
		{
			name: "memory sizes are read in binary and decimal units and rounded up to MiB",
			src: `experiment "memory" {
  resources {
    memory     = "1GB"
    memory_max = "2GiB"
  }` + task + "\n}",
			check: func(t *testing.T, exp *experiment.Experiment) {
				res := shapeOf(t, exp, exp.UnknownTrial()).Groups[0].Tasks[0]
				assert.Equal(t, 954, res.MemoryMiB)
				assert.Equal(t, 2048, res.MemoryMaxMiB)
			},
		},
		{
			name: "a bare memory number is MiB",
			src: `experiment "memory" {
  resources {
    memory = 512
  }` + task + "\n}",
			check: func(t *testing.T, exp *experiment.Experiment) {
				assert.Equal(t, 512, shapeOf(t, exp, exp.UnknownTrial()).Groups[0].Tasks[0].MemoryMiB)
			},
		},
		{
			name: "cores reserve whole cores instead of cpu",
			src: `experiment "cores" {
  resources {
    cores = 2
  }` + task + "\n}",
			check: func(t *testing.T, exp *experiment.Experiment) {
				res := shapeOf(t, exp, exp.UnknownTrial()).Groups[0].Tasks[0]
				assert.Equal(t, 2, res.Cores)
				assert.Zero(t, res.CPU)
			},
		},
		{
			name: "a fraction of one GPU is kept",
			src: `experiment "share" {
  resources {
    gpu = 0.25
  }` + task + "\n}",
			check: func(t *testing.T, exp *experiment.Experiment) {
				assert.InDelta(t, 0.25, shapeOf(t, exp, exp.UnknownTrial()).Groups[0].Tasks[0].GPU, 1e-12)
			},
		},
		{
			name: "durations take days and combined units",
			src: `experiment "timed" {` + task + `
  stop {
    time_budget   = "1d"
    trial_timeout = "1h30m"
  }
  failure {
    retry_delay = "1.5s"
  }
}`,
			check: func(t *testing.T, exp *experiment.Experiment) {
				assert.Equal(t, 24*time.Hour, exp.Stop.TimeBudget)
				assert.Equal(t, 90*time.Minute, exp.Stop.TrialTimeout)
				assert.Equal(t, 1500*time.Millisecond, exp.Failure.RetryDelay)
			},
		},
		{
			name: "num_samples = -1 is an open-ended run that a trial cap or budget ends",
			src: `experiment "open" {` + task + `
  num_samples = -1
  stop {
    max_trials = 40
  }
}`,
			check: func(t *testing.T, exp *experiment.Experiment) {
				assert.True(t, exp.OpenEnded())
				assert.Equal(t, 40, exp.Stop.MaxTrials)
				assert.Equal(t, 40, exp.TrialCap())
			},
		},
		{
			name: "an open-ended run with only a time budget is capped at the hard ceiling",
			src: `experiment "open" {` + task + `
  num_samples = -1
  stop {
    time_budget = "5m"
  }
}`,
			check: func(t *testing.T, exp *experiment.Experiment) {
				assert.True(t, exp.OpenEnded())
				assert.Equal(t, experiment.MaxTrials, exp.TrialCap())
			},
		},
		{
			name: "an empty wait_for_gpu block gets Ray Tune's defaults",
			src:  `experiment "gpu" {` + task + "\n  wait_for_gpu {}\n}",
			check: func(t *testing.T, exp *experiment.Experiment) {
				require.NotNil(t, exp.WaitForGPU)
				w := *exp.WaitForGPU
				w.DefRange = hcl.Range{}
				assert.Equal(t, experiment.WaitForGPU{MaxUsed: 0.01, Timeout: 100 * time.Second, Interval: 5 * time.Second}, w)
			},
		},
		{
			name: "placement strict_pack and fail_fast are read",
			src: `experiment "gang" {
  placement = "strict_pack"` + task + `
  failure {
    fail_fast = true
  }
}`,
			check: func(t *testing.T, exp *experiment.Experiment) {
				assert.Equal(t, experiment.PlacementStrictPack, exp.Placement)
				assert.True(t, exp.Failure.FailFast)
				assert.Contains(t, exp.Ranges, "placement")
			},
		},
		{
			name: "a numeric string converts where a number is wanted",
			src: `experiment "strings" {
  num_samples = "3"
  seed        = "42"` + task + "\n}",
			check: func(t *testing.T, exp *experiment.Experiment) {
				assert.Equal(t, 3, exp.NumSamples)
				assert.Equal(t, uint64(42), exp.Seed)
			},
		},
		{
			name: "every distribution keeps its arguments",
			src: `experiment "space" {
  space {
    a = uniform(-1, 1)
    b = quniform(0, 10, 0.5)
    c = loguniform(1e-3, 1, 2)
    d = qloguniform(1, 1000, 5)
    e = randint(0, 10)
    f = qrandint(0, 100, 10)
    g = lograndint(1, 1024)
    h = qlograndint(1, 1024, 4)
    i = randn()
    j = randn(5)
    k = randn(5, 2)
    l = qrandn(0, 1, 0.1)
    m = choice([1, "two", true])
    n = grid(["a", "b"])
    o = 7
    p = { depth = 3 }
  }` + task + "\n}",
			check: func(t *testing.T, exp *experiment.Experiment) {
				type args struct {
					Kind          experiment.Kind
					Lo, Hi, Q, Bs float64
				}
				got := map[string]args{}
				for _, p := range exp.Space.Params {
					got[p.Name] = args{p.Dist.Kind, p.Dist.Lo, p.Dist.Hi, p.Dist.Q, p.Dist.Base}
				}
				assert.Equal(t, map[string]args{
					"a": {experiment.KindUniform, -1, 1, 0, 10},
					"b": {experiment.KindQUniform, 0, 10, 0.5, 10},
					"c": {experiment.KindLogUniform, 1e-3, 1, 0, 2},
					"d": {experiment.KindQLogUniform, 1, 1000, 5, 10},
					"e": {experiment.KindRandInt, 0, 10, 0, 10},
					"f": {experiment.KindQRandInt, 0, 100, 10, 10},
					"g": {experiment.KindLogRandInt, 1, 1024, 0, 10},
					"h": {experiment.KindQLogRandInt, 1, 1024, 4, 10},
					"i": {experiment.KindRandN, 0, 1, 0, 10},
					"j": {experiment.KindRandN, 5, 1, 0, 10},
					"k": {experiment.KindRandN, 5, 2, 0, 10},
					"l": {experiment.KindQRandN, 0, 1, 0.1, 10},
					"m": {experiment.KindChoice, 0, 0, 0, 0},
					"n": {experiment.KindGrid, 0, 0, 0, 0},
					"o": {experiment.KindConstant, 0, 0, 0, 0},
					"p": {experiment.KindConstant, 0, 0, 0, 0},
				}, got)
				assert.Equal(t, []any{int64(1), "two", true}, goValues(exp.Space.Lookup("m").Dist.Values))
				assert.Equal(t, cty.DynamicPseudoType, exp.Space.Lookup("m").Dist.Type())
				assert.Equal(t, []any{map[string]any{"depth": int64(3)}}, goValues(exp.Space.Lookup("p").Dist.Values))
				assert.Equal(t, "a b c d e f g h i j k l m n o p", joinNames(exp.Space.Names()), "parameters keep the order of the file")
			},
		},
		{
			name: "a task with a driver config needs no command",
			src: `experiment "mock" {
  task "train" {
    driver = "mock_driver"
    config {
      run_for = "2s"
    }
  }
}`,
			check: func(t *testing.T, exp *experiment.Experiment) {
				tasks := tasksOf(t, exp, exp.UnknownTrial())
				assert.Equal(t, "mock_driver", tasks[0][0].Driver)
				assert.Equal(t, map[string]any{"run_for": "2s"}, tasks[0][0].Config)
			},
		},
		{
			name: "labelled config blocks nest under their labels",
			src: `experiment "labels" {
  task "train" {
    driver = "docker"
    config {
      image = "busybox"
      logging "json-file" {
        max_files = 3
      }
    }
  }
}`,
			check: func(t *testing.T, exp *experiment.Experiment) {
				cfg := tasksOf(t, exp, exp.UnknownTrial())[0][0].Config
				assert.Equal(t, []map[string]any{{"json-file": map[string]any{"max_files": int64(3)}}}, cfg["logging"])
			},
		},
		{
			name: "a group without count has one allocation and group resources go to its task",
			src: `experiment "group" {
  group "solo" {
    resources {
      cpu = 3
    }
    task "train" {
      command = "python3"
    }
  }
}`,
			check: func(t *testing.T, exp *experiment.Experiment) {
				shape := shapeOf(t, exp, exp.UnknownTrial())
				assert.Equal(t, 1, shape.Groups[0].Count)
				assert.InDelta(t, 3, shape.Groups[0].Tasks[0].CPU, 0)
			},
		},
		{
			name: "a task without resources gets the default cpu and memory",
			src: `experiment "sidecar" {
  group "main" {
    task "train" {
      command = "python3"
      resources {
        memory = "1GiB"
      }
    }
    task "log" {
      command = "tail"
    }
  }
}`,
			check: func(t *testing.T, exp *experiment.Experiment) {
				tasks := shapeOf(t, exp, exp.UnknownTrial()).Groups[0].Tasks
				require.Len(t, tasks, 2)
				assert.Equal(t, experiment.TaskResources{Task: "log", CPU: experiment.DefaultCPU, MemoryMiB: experiment.DefaultMemoryMiB}, tasks[1])
				assert.Equal(t, 1024, tasks[0].MemoryMiB)
				assert.InDelta(t, experiment.DefaultCPU, tasks[0].CPU, 0)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, load(t, tt.src, tunehcl.Options{}))
		})
	}
}

func joinNames(names []string) string {
	out := ""
	for i, n := range names {
		if i > 0 {
			out += " "
		}
		out += n
	}
	return out
}

func TestVariablesTakeDefaultsFilesAndOptionsInThatOrder(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
		return path
	}
	hclFile := write("a.tfvars", "epochs = 20\nname = \"from-file\"\n")
	jsonFile := write("b.json", `{"epochs": 30, "sizes": [8, 16]}`)

	const src = `
variable "epochs" {
  default = 10
}
variable "name" {
  type    = string
  default = "default"
}
variable "anything" {
  default = "unset"
}
variable "sizes" {
  type    = list(number)
  default = [1]
}
experiment "vars" {
  task "train" {
    command = "python3"
  }
}`
	tests := []struct {
		name string
		opts tunehcl.Options
		want map[string]any
	}{
		{
			name: "without options every variable has its default",
			want: map[string]any{"epochs": int64(10), "name": "default", "anything": "unset", "sizes": []any{int64(1)}},
		},
		{
			name: "a -var number is parsed as a number",
			opts: tunehcl.Options{Vars: []string{"epochs=12"}},
			want: map[string]any{"epochs": int64(12), "name": "default", "anything": "unset", "sizes": []any{int64(1)}},
		},
		{
			name: "a -var for a string variable is taken as raw text",
			opts: tunehcl.Options{Vars: []string{"name=007", `anything=hello world`}},
			want: map[string]any{"epochs": int64(10), "name": "007", "anything": "hello world", "sizes": []any{int64(1)}},
		},
		{
			name: "a -var with quotes keeps them for a string variable",
			opts: tunehcl.Options{Vars: []string{`name="quoted"`}},
			want: map[string]any{"epochs": int64(10), "name": `"quoted"`, "anything": "unset", "sizes": []any{int64(1)}},
		},
		{
			name: "a -var for a list is an HCL expression",
			opts: tunehcl.Options{Vars: []string{"sizes=[2, 4]"}},
			want: map[string]any{"epochs": int64(10), "name": "default", "anything": "unset", "sizes": []any{int64(2), int64(4)}},
		},
		{
			name: "a -var may hold an equals sign in its value",
			opts: tunehcl.Options{Vars: []string{"anything=a=b"}},
			want: map[string]any{"epochs": int64(10), "name": "default", "anything": "a=b", "sizes": []any{int64(1)}},
		},
		{
			name: "-var-file files are read in order and later ones win",
			opts: tunehcl.Options{VarFiles: []string{hclFile, jsonFile}},
			want: map[string]any{"epochs": int64(30), "name": "from-file", "anything": "unset", "sizes": []any{int64(8), int64(16)}},
		},
		{
			name: "-var wins over -var-file and the last -var wins",
			opts: tunehcl.Options{VarFiles: []string{hclFile}, Vars: []string{"epochs=40", "epochs=50"}},
			want: map[string]any{"epochs": int64(50), "name": "from-file", "anything": "unset", "sizes": []any{int64(1)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp := load(t, src, tt.opts)
			assert.Equal(t, tt.want, experiment.GoValue(exp.Context.Variables["var"]))
		})
	}
}

func TestVariablesReachEveryExpression(t *testing.T) {
	exp := load(t, `
variable "samples" {
  type = number
}
variable "script" {
  type = string
}
experiment "vars" {
  num_samples = var.samples
  space {
    x = uniform(0, var.samples)
  }
  resources {
    cpu = var.samples / 2
  }
  task "train" {
    command = "python3"
    args    = [var.script, "--x=${trial.x}"]
  }
}`, tunehcl.Options{Vars: []string{"samples=6", "script=train.py"}})
	assert.Equal(t, 6, exp.NumSamples)
	assert.InDelta(t, 6, exp.Space.Lookup("x").Dist.Hi, 0)
	tv := trialOf(exp, 0, map[string]cty.Value{"x": cty.NumberFloatVal(1.5)})
	assert.InDelta(t, 3, shapeOf(t, exp, tv).Groups[0].Tasks[0].CPU, 0)
	assert.Equal(t, []string{"train.py", "--x=1.5"}, tasksOf(t, exp, tv)[0][0].Args)
}

func TestVariableOptionErrorsAreReported(t *testing.T) {
	dir := t.TempDir()
	badFile := filepath.Join(dir, "bad.tfvars")
	require.NoError(t, os.WriteFile(badFile, []byte("epochs = 1\nepoch = 2\n"), 0o600))
	const src = `
variable "epochs" {
  type    = number
  default = 1
}
experiment "vars" {
  task "train" {
    command = "python3"
  }
}`
	tests := []struct {
		name        string
		opts        tunehcl.Options
		want        string
		wantSubject *hcl.Pos
	}{
		{
			name: "a -var for an undeclared variable suggests the declared one",
			opts: tunehcl.Options{Vars: []string{"epoch=3"}},
			want: `Value for undeclared variable: The option -var epoch sets "epoch", but the experiment file declares no variable "epoch". Declare it with a variable block (did you mean "epochs"?).`,
		},
		{
			name: "a -var without an equals sign is refused",
			opts: tunehcl.Options{Vars: []string{"epochs"}},
			want: `Invalid -var option: The option -var "epochs" is not of the form name=value.`,
		},
		{
			name: "a -var that is not a number for a number variable is refused",
			opts: tunehcl.Options{Vars: []string{"epochs=ten"}},
			want: "Invalid value for variable: The option -var epochs=ten is not a valid number value",
		},
		{
			name: "a -var-file that does not exist is reported",
			opts: tunehcl.Options{VarFiles: []string{filepath.Join(dir, "missing.tfvars")}},
			want: "Cannot read variable file: open " + filepath.Join(dir, "missing.tfvars"),
		},
		{
			name:        "a -var-file that sets an undeclared variable points at it",
			opts:        tunehcl.Options{VarFiles: []string{badFile}},
			want:        "Value for undeclared variable: The variable file " + badFile + ` sets "epoch"`,
			wantSubject: &hcl.Pos{Line: 2, Column: 1, Byte: 11},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp, diags := tunehcl.Load("experiment.hcl", []byte(src), tt.opts)
			assert.Nil(t, exp)
			require.Len(t, diags.Errs(), 1, describe(diags))
			d := diags[0]
			assert.Contains(t, d.Summary+": "+d.Detail, tt.want)
			if tt.wantSubject != nil {
				require.NotNil(t, d.Subject)
				assert.Equal(t, badFile, d.Subject.Filename)
				assert.Equal(t, *tt.wantSubject, d.Subject.Start)
			}
		})
	}
}

func TestLocalsMayUseEachOtherInAnyOrder(t *testing.T) {
	exp := load(t, `
variable "root" {
  default = "/data"
}
locals {
  train = "${local.base}/train"
  base  = "${var.root}/${local.name}"
}
locals {
  name   = "mnist"
  epochs = length(local.files) * 10
  files  = [local.train, local.base]
}
experiment "locals" {
  num_samples = local.epochs
  task "train" {
    command = "python3"
    args    = concat(local.files, ["--name=${local.name}"])
  }
}`, tunehcl.Options{})
	assert.Equal(t, 20, exp.NumSamples)
	assert.Equal(t, []string{"/data/mnist/train", "/data/mnist", "--name=mnist"}, tasksOf(t, exp, exp.UnknownTrial())[0][0].Args)
}

func TestRuntimeInterpolationsPassThroughUnchanged(t *testing.T) {
	const hclSrc = `
experiment "runtime" {
  space {
    x = uniform(0, 1)
  }
  constraint {
    attribute = "${attr.cpu.arch}"
    value     = "amd64"
  }
  constraint {
    attribute = "${meta.rack}"
    operator  = "!="
    value     = "${node.class}-${trial.index}"
  }
  task "train" {
    driver  = "docker"
    command = "${NOMAD_TASK_DIR}/run.sh"
    args    = ["--out=${NOMAD_ALLOC_DIR}/out", "--x=${trial.x}", "--host=${attr.unique.hostname}", "${env["HOME"]}"]
    env {
      ARCH  = "${attr.cpu.arch}"
      TRIAL = "${trial.id}"
    }
    config {
      image   = "busybox"
      volumes = ["${NOMAD_ALLOC_DIR}/data:/data"]
      labels  = { dc = "${node.datacenter}" }
    }
  }
}`
	const jsonSrc = `{
  "experiment": {
    "runtime": {
      "space": {"x": "${uniform(0, 1)}"},
      "constraint": [
        {"attribute": "${attr.cpu.arch}", "value": "amd64"},
        {"attribute": "${meta.rack}", "operator": "!=", "value": "${node.class}-${trial.index}"}
      ],
      "task": {
        "train": {
          "driver": "docker",
          "command": "${NOMAD_TASK_DIR}/run.sh",
          "args": ["--out=${NOMAD_ALLOC_DIR}/out", "--x=${trial.x}", "--host=${attr.unique.hostname}", "${env[\"HOME\"]}"],
          "env": {"ARCH": "${attr.cpu.arch}", "TRIAL": "${trial.id}"},
          "config": {
            "image": "busybox",
            "volumes": ["${NOMAD_ALLOC_DIR}/data:/data"],
            "labels": {"dc": "${node.datacenter}"}
          }
        }
      }
    }
  }
}`
	for _, tt := range []struct{ name, filename, src string }{
		{"in native syntax", "runtime.hcl", hclSrc},
		{"in HCL JSON", "runtime.json", jsonSrc},
	} {
		t.Run(tt.name, func(t *testing.T) {
			exp := loadAs(t, tt.filename, tt.src, tunehcl.Options{})
			tv := trialOf(exp, 3, map[string]cty.Value{"x": cty.NumberFloatVal(0.25)})

			task := tasksOf(t, exp, tv)[0][0]
			assert.Equal(t, "${NOMAD_TASK_DIR}/run.sh", task.Command)
			assert.Equal(t, []string{"--out=${NOMAD_ALLOC_DIR}/out", "--x=0.25", "--host=${attr.unique.hostname}", `${env["HOME"]}`}, task.Args)
			assert.Equal(t, []experiment.EnvVar{{Name: "ARCH", Value: "${attr.cpu.arch}"}, {Name: "TRIAL", Value: "test-trial"}}, task.Env)
			assert.Equal(t, map[string]any{
				"image":   "busybox",
				"volumes": []any{"${NOMAD_ALLOC_DIR}/data:/data"},
				"labels":  map[string]any{"dc": "${node.datacenter}"},
			}, task.Config)

			assert.Equal(t, []experiment.Constraint{
				{Attribute: "${attr.cpu.arch}", Operator: "=", Value: "amd64"},
				{Attribute: "${meta.rack}", Operator: "!=", Value: "${node.class}-3"},
			}, shapeOf(t, exp, tv).Groups[0].Constraints)
		})
	}
}

func TestPerTrialExpressionsGiveEachTrialItsOwnShape(t *testing.T) {
	exp := load(t, `
experiment "shapes" {
  space {
    opt     = choice(["adam", "sgd"])
    workers = grid([1, 3])
    mem     = choice(["1GiB", "3GiB"])
  }
  group "worker" {
    count = trial.workers
    resources {
      cpu    = trial.workers * 0.5
      memory = trial.mem
      gpu    = trial.opt == "adam" ? 1 : 0
    }
    task "train" {
      command = "python3"
      args    = ["--opt=${trial.opt}", "--index=${trial.index}"]
    }
  }
}`, tunehcl.Options{})
	tests := []struct {
		name    string
		values  map[string]cty.Value
		count   int
		want    experiment.TaskResources
		wantArg string
	}{
		{
			name:   "adam with one worker asks for a GPU",
			values: map[string]cty.Value{"opt": cty.StringVal("adam"), "workers": cty.NumberIntVal(1), "mem": cty.StringVal("1GiB")},
			count:  1,
			want:   experiment.TaskResources{Task: "train", CPU: 0.5, MemoryMiB: 1024, GPU: 1},
		},
		{
			name:   "sgd with three workers asks for none",
			values: map[string]cty.Value{"opt": cty.StringVal("sgd"), "workers": cty.NumberIntVal(3), "mem": cty.StringVal("3GiB")},
			count:  3,
			want:   experiment.TaskResources{Task: "train", CPU: 1.5, MemoryMiB: 3072},
		},
	}
	keys := map[string]bool{}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tv := trialOf(exp, i, tt.values)
			shape := shapeOf(t, exp, tv)
			g := shape.Groups[0]
			assert.Equal(t, tt.count, g.Count)
			got := g.Tasks[0]
			got.GPURange = hcl.Range{}
			assert.Equal(t, tt.want, got)
			keys[shape.Key()] = true
			assert.Equal(t, []string{"--opt=" + tt.values["opt"].AsString(), "--index=" + string(rune('0'+i))}, tasksOf(t, exp, tv)[0][0].Args)
		})
	}
	assert.Len(t, keys, 2, "different trials have different shape keys")
}

func TestAStaticTemplateIsSharedByEveryTrial(t *testing.T) {
	exp := load(t, `
experiment "static" {
  space {
    x = uniform(0, 1)
  }
  resources {
    cpu = 2
  }
  task "train" {
    command = "python3"
  }
}`, tunehcl.Options{})
	a := shapeOf(t, exp, trialOf(exp, 0, map[string]cty.Value{"x": cty.NumberFloatVal(0.1)}))
	b := shapeOf(t, exp, trialOf(exp, 1, map[string]cty.Value{"x": cty.NumberFloatVal(0.9)}))
	assert.Same(t, a, b)
}

func TestLoadFileReportsAFileThatCannotBeRead(t *testing.T) {
	exp, diags := tunehcl.LoadFile(filepath.Join(t.TempDir(), "missing.hcl"), tunehcl.Options{})
	assert.Nil(t, exp)
	require.Len(t, diags, 1)
	assert.Equal(t, "Cannot read experiment file", diags[0].Summary)
	assert.Contains(t, diags[0].Detail, "missing.hcl")
}

func TestLoadKeepsParsedFilesInTheCallersParser(t *testing.T) {
	opts := tunehcl.Options{Parser: nil}
	path := filepath.Join("testdata", "invalid", "cpu_negative.hcl")
	src, err := os.ReadFile(path)
	require.NoError(t, err)
	parser := newParser()
	opts.Parser = parser
	_, diags := tunehcl.Load(path, src, opts)
	require.True(t, diags.HasErrors())
	assert.Contains(t, parser.Files(), path, "a caller prints diagnostics with snippets from its parser")
}

func newParser() *hclparse.Parser { return hclparse.NewParser() }
