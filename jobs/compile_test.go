package jobs_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/experiment"
	tunehcl "github.com/nomad-tune/tune/hcl"
	"github.com/nomad-tune/tune/jobs"
	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/trialenv"
)

// validJobID is stricter than Nomad (which rejects only spaces and NUL):
// IDs must also be safe in URLs, file names and meta filters.
var validJobID = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)

func TestJobID(t *testing.T) {
	long := strings.Repeat("x", 200)
	tests := []struct {
		name       string
		experiment string
		trial      string
		want       string
	}{
		{name: "a usual name is kept as written", experiment: "quadratic", trial: "00042-7f3a9c", want: "tune-quadratic-00042-7f3a9c"},
		{name: "dots and underscores are kept", experiment: "res_net.v2", trial: "00000-000000", want: "tune-res_net.v2-00000-000000"},
		{name: "spaces and slashes are replaced and a hash keeps the ID unique", experiment: "my exp/1", trial: "00001-abcdef"},
		{name: "non-ASCII letters are replaced", experiment: "lärm", trial: "00001-abcdef"},
		{name: "a name too long for an ID is cut and hashed", experiment: long, trial: "00001-abcdef"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := jobs.JobID(tc.experiment, tc.trial)
			assert.Regexp(t, validJobID, id)
			assert.Equal(t, id, jobs.JobID(tc.experiment, tc.trial), "the ID must be deterministic")
			assert.True(t, strings.HasPrefix(id, "tune-"), "the ID must start with tune-: %s", id)
			if tc.want != "" {
				assert.Equal(t, tc.want, id)
			}
		})
	}
}

func TestJobIDKeepsDistinctInputsDistinct(t *testing.T) {
	tests := []struct {
		name string
		a, b [2]string
	}{
		{name: "names that clean to the same text differ", a: [2]string{"a b", "00001-abcdef"}, b: [2]string{"a/b", "00001-abcdef"}},
		{name: "a cleaned name differs from the name it looks like", a: [2]string{"a b", "00001-abcdef"}, b: [2]string{"a-b", "00001-abcdef"}},
		{name: "long names that share a prefix differ", a: [2]string{strings.Repeat("x", 200) + "1", "00001-abcdef"}, b: [2]string{strings.Repeat("x", 200) + "2", "00001-abcdef"}},
		{name: "trials of one experiment differ", a: [2]string{"exp", "00001-abcdef"}, b: [2]string{"exp", "00002-abcdef"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.NotEqual(t, jobs.JobID(tc.a[0], tc.a[1]), jobs.JobID(tc.b[0], tc.b[1]))
		})
	}
}

// compileSource loads an experiment from src and compiles trial index.
func compileSource(t *testing.T, src string, index int, opts jobs.Options) (*api.Job, hcl.Diagnostics, *experiment.Experiment) {
	t.Helper()
	e, diags := tunehcl.Load("test.hcl", []byte(src), tunehcl.Options{})
	require.False(t, diags.HasErrors(), "load: %s", diagText(diags))
	trials, diags := planner.Trials(e)
	require.False(t, diags.HasErrors(), "trials: %s", diagText(diags))
	require.Less(t, index, len(trials))
	job, diags := jobs.Compile(e, trials[index], opts)
	return job, diags, e
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		trial   int
		opts    jobs.Options
		summary string
		detail  string
		// subject is the text the diagnostic points at, "" for none.
		subject string
	}{
		{
			name: "a fractional GPU cannot run on Nomad",
			src: `experiment "frac" {
  resources {
    gpu = 0.5
  }
  task "train" {
    command = "python3"
  }
}`,
			opts:    jobs.Options{MHzPerCore: 2400},
			summary: "Fractional GPU on Nomad",
			detail:  "Nomad devices are whole; gpu = 0.5 cannot run on Nomad",
			subject: "0.5",
		},
		{
			name: "a fractional GPU that depends on the trial is reported for that trial",
			src: `experiment "frac" {
  space {
    share = grid([1, 0.25])
  }
  resources {
    gpu = trial.share
  }
  task "train" {
    command = "python3"
  }
}`,
			trial:   1,
			opts:    jobs.Options{MHzPerCore: 2400},
			summary: "Fractional GPU on Nomad",
			detail:  "gpu = 0.25 cannot run on Nomad (trial 00001-",
			subject: "trial.share",
		},
		{
			name: "a compile without a CPU speed is refused",
			src: `experiment "nospeed" {
  task "train" {
    command = "python3"
  }
}`,
			opts:    jobs.Options{},
			summary: "Unknown CPU speed",
			detail:  "got 0",
			subject: `experiment "nospeed"`,
		},
		{
			name: "a template may not overwrite tune's own env template",
			src: `experiment "env" {
  task "train" {
    command = "python3"
    template {
      data        = "X=1"
      destination = "local/../local/tune.env"
    }
  }
}`,
			opts:    jobs.Options{MHzPerCore: 2400},
			summary: "Template destination taken",
			detail:  "render this template to another file",
			subject: "template",
		},
		{
			name: "strict_pack cannot merge two volumes of one name",
			src: `experiment "pack" {
  placement = "strict_pack"
  group "a" {
    volume "data" {
      source = "imagenet"
    }
    task "t" {
      command = "/bin/true"
    }
  }
  group "b" {
    volume "data" {
      source = "coco"
    }
    task "t" {
      command = "/bin/true"
    }
  }
}`,
			opts:    jobs.Options{MHzPerCore: 2400},
			summary: "Volume names collide",
			detail:  "volume \"data\" would mean two volumes",
			subject: `volume "data"`,
		},
		{
			name: "strict_pack cannot give a network to a group of several allocations",
			src: `experiment "pack" {
  placement = "strict_pack"
  group "a" {
    count = 2
    network {
      port "http" {}
    }
    task "t" {
      command = "/bin/true"
    }
  }
}`,
			opts:    jobs.Options{MHzPerCore: 2400},
			summary: "Network in a strict_pack trial",
			detail:  "the ports of group \"a\" would be shared",
			subject: "network",
		},
		{
			name: "a port may not take the rendezvous port's label",
			src: `experiment "port" {
  group "a" {
    network {
      port "tune_rendezvous" {}
    }
    task "t" {
      command = "/bin/true"
    }
  }
}`,
			opts:    jobs.Options{MHzPerCore: 2400},
			summary: "Port label taken",
			detail:  "name this port otherwise",
			subject: "network",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			job, diags, _ := compileSource(t, tc.src, tc.trial, tc.opts)
			require.True(t, diags.HasErrors(), "want an error")
			assert.Nil(t, job, "no job comes with an error")
			require.Len(t, diags, 1)
			d := diags[0]
			assert.Equal(t, tc.summary, d.Summary)
			assert.Contains(t, d.Detail, tc.detail)
			require.NotNil(t, d.Subject)
			assert.Equal(t, "test.hcl", d.Subject.Filename)
			assert.Equal(t, tc.subject, string(d.Subject.SliceBytes([]byte(tc.src))))
		})
	}
}

func TestCompileFractionalGPUIsReportedOncePerTask(t *testing.T) {
	src := `experiment "frac" {
  placement = "strict_pack"
  group "worker" {
    count = 3
    resources {
      gpu = 0.5
    }
    task "train" {
      command = "python3"
    }
  }
}`
	_, diags, _ := compileSource(t, src, 0, jobs.Options{MHzPerCore: 2400})
	require.Len(t, diags, 1, "one diagnostic for three merged copies of the task: %s", diagText(diags))
}

func TestCompileWholeGPUsAreOneDeviceRequest(t *testing.T) {
	src := `experiment "gpus" {
  resources {
    gpu = 2
  }
  task "train" {
    command = "python3"
  }
  nomad {
    gpu_device = "nvidia/gpu/H100"
  }
}`
	job, diags, _ := compileSource(t, src, 0, jobs.Options{MHzPerCore: 2400})
	require.False(t, diags.HasErrors(), diagText(diags))
	devs := job.TaskGroups[0].Tasks[0].Resources.Devices
	require.Len(t, devs, 1)
	assert.Equal(t, "nvidia/gpu/H100", devs[0].Name)
	assert.Equal(t, uint64(2), *devs[0].Count)
}

func TestCompileCPU(t *testing.T) {
	tests := []struct {
		name  string
		res   string
		mhz   int64
		cpu   *int
		cores *int
	}{
		{name: "a fraction of a core is that fraction of the core's MHz", res: "cpu = 0.5", mhz: 2400, cpu: new(1200)},
		{name: "MHz are rounded to the nearest whole MHz", res: "cpu = 0.3333", mhz: 1000, cpu: new(333)},
		{name: "a tiny request still asks for 1 MHz", res: "cpu = 0.0001", mhz: 1000, cpu: new(1)},
		{name: "no CPU asks for Nomad's minimum of 1 MHz", res: "cpu = 0", mhz: 2400, cpu: new(1)},
		{name: "no request is one core, as in Ray Tune", res: "memory = 128", mhz: 2000, cpu: new(2000)},
		{name: "whole cores are reserved as cores, not MHz", res: "cores = 3", mhz: 2400, cores: new(3)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := `experiment "cpu" {
  resources {
    ` + tc.res + `
  }
  task "train" {
    command = "python3"
  }
}`
			job, diags, _ := compileSource(t, src, 0, jobs.Options{MHzPerCore: tc.mhz})
			require.False(t, diags.HasErrors(), diagText(diags))
			res := job.TaskGroups[0].Tasks[0].Resources
			assert.Equal(t, tc.cpu, res.CPU)
			assert.Equal(t, tc.cores, res.Cores)
		})
	}
}

func TestCompileTuneNamesWin(t *testing.T) {
	src := `experiment "names" {
  task "train" {
    command = "python3"
    env {
      TUNE_RANK            = "7"
      CUDA_VISIBLE_DEVICES = "0,1"
      MY_VAR               = "kept"
    }
  }
  nomad {
    meta = {
      tune_experiment = "someone-else"
      owner           = "me"
    }
  }
}`
	job, diags, _ := compileSource(t, src, 0, jobs.Options{MHzPerCore: 2400})
	require.False(t, diags.HasErrors(), diagText(diags))
	env := job.TaskGroups[0].Tasks[0].Env
	assert.Equal(t, "0", env["TUNE_RANK"], "TUNE_RANK is tune's")
	assert.Equal(t, "", env["CUDA_VISIBLE_DEVICES"], "a task without GPUs sees none")
	assert.Equal(t, "kept", env["MY_VAR"])
	assert.Equal(t, "names", job.Meta[trialenv.MetaExperiment], "the driver finds jobs by tune's meta")
	assert.Equal(t, "me", job.Meta["owner"])
	assert.Equal(t, trialenv.ManagedBy, job.Meta[trialenv.MetaManagedBy])
}

func TestCompileStrictPackOfOneAllocationKeepsItsGroup(t *testing.T) {
	src := `experiment "single" {
  placement = "strict_pack"
  group "learner" {
    task "train" {
      command = "python3"
      leader  = true
    }
    task "logger" {
      command = "./log.sh"
    }
  }
}`
	job, diags, _ := compileSource(t, src, 0, jobs.Options{MHzPerCore: 2400})
	require.False(t, diags.HasErrors(), diagText(diags))
	require.Len(t, job.TaskGroups, 1)
	tg := job.TaskGroups[0]
	assert.Equal(t, "learner", *tg.Name)
	require.Len(t, tg.Tasks, 2)
	assert.Equal(t, "train", tg.Tasks[0].Name)
	assert.True(t, tg.Tasks[0].Leader, "one allocation is already on one node: nothing to merge")
	assert.Nil(t, tg.Tasks[1].Lifecycle)
}

func TestCompileAttemptChangesOnlyTheAttemptMetaAndEnv(t *testing.T) {
	src := `experiment "retry" {
  space {
    x = uniform(0, 1)
  }
  task "train" {
    command = "python3"
  }
}`
	first, diags, _ := compileSource(t, src, 0, jobs.Options{MHzPerCore: 2400})
	require.False(t, diags.HasErrors(), diagText(diags))
	again, _, _ := compileSource(t, src, 0, jobs.Options{MHzPerCore: 2400})
	assert.Equal(t, jobJSON(t, first), jobJSON(t, again), "the same trial must compile to the same job")

	retry, diags, _ := compileSource(t, src, 0, jobs.Options{MHzPerCore: 2400, Attempt: 2})
	require.False(t, diags.HasErrors(), diagText(diags))
	assert.Equal(t, *first.ID, *retry.ID, "every attempt is a version of one job")
	assert.Equal(t, "0", first.Meta[trialenv.MetaAttempt])
	assert.Equal(t, "2", retry.Meta[trialenv.MetaAttempt])
	assert.Equal(t, "0", first.TaskGroups[0].Tasks[0].Env[trialenv.Attempt])
	assert.Equal(t, "2", retry.TaskGroups[0].Tasks[0].Env[trialenv.Attempt])
	// Apart from the attempt, the task groups are the same.
	retry.TaskGroups[0].Tasks[0].Env[trialenv.Attempt] = "0"
	assert.Equal(t, first.TaskGroups, retry.TaskGroups)
}

func TestCompileParamsMeta(t *testing.T) {
	src := `experiment "meta" {
  space {
    lr    = grid([0.1])
    opt   = grid(["a<b"])
    sizes = grid([[1, 2]])
    flag  = true
  }
  task "train" {
    command = "python3"
  }
}`
	job, diags, _ := compileSource(t, src, 0, jobs.Options{MHzPerCore: 2400})
	require.False(t, diags.HasErrors(), diagText(diags))
	assert.Equal(t, "0.1", job.Meta["tune_param_lr"])
	assert.Equal(t, "a<b", job.Meta["tune_param_opt"], "strings are written as they are")
	assert.Equal(t, "[1,2]", job.Meta["tune_param_sizes"])
	assert.Equal(t, "true", job.Meta["tune_param_flag"])
	assert.Equal(t, `{"flag":true,"lr":0.1,"opt":"a<b","sizes":[1,2]}`, job.Meta[trialenv.MetaParams])
	assert.Equal(t, job.Meta[trialenv.MetaParams], job.TaskGroups[0].Tasks[0].Env["TUNE_CONFIG"])
}

func TestCompileOneEnvTemplateHoldsRankAndGPUs(t *testing.T) {
	src := `experiment "both" {
  group "ps" {
    task "ps" {
      command = "python3"
    }
  }
  group "worker" {
    count = 2
    resources {
      gpu = 1
    }
    task "train" {
      command = "python3"
    }
  }
}`
	job, diags, _ := compileSource(t, src, 0, jobs.Options{MHzPerCore: 2400})
	require.False(t, diags.HasErrors(), diagText(diags))
	task := job.TaskGroups[1].Tasks[0]
	require.Len(t, task.Templates, 1)
	tmpl := task.Templates[0]
	assert.Equal(t, "CUDA_VISIBLE_DEVICES={{ env \"NVIDIA_VISIBLE_DEVICES\" }}\n"+
		"GROUP_RANK={{ env \"NOMAD_ALLOC_INDEX\" | parseInt | add 1 }}\n"+
		"NODE_RANK={{ env \"NOMAD_ALLOC_INDEX\" | parseInt | add 1 }}\n"+
		"RANK={{ env \"NOMAD_ALLOC_INDEX\" | parseInt | add 1 }}\n"+
		"TUNE_RANK={{ env \"NOMAD_ALLOC_INDEX\" | parseInt | add 1 }}\n"+
		"{{ with nomadVar \"nomad/jobs/"+*job.ID+"\" }}MASTER_ADDR={{ .master_addr_0 }}\nMASTER_PORT={{ .master_port_0 }}\n{{ end }}", *tmpl.EmbeddedTmpl)
	assert.True(t, *tmpl.ErrMissingKey, "a variable of another attempt fails the task")
	assert.True(t, *tmpl.Envvars)
	assert.Equal(t, "local/tune.env", *tmpl.DestPath)
	for _, name := range []string{"TUNE_RANK", "RANK", "GROUP_RANK", "NODE_RANK"} {
		assert.NotContains(t, task.Env, name, "a variable set by the template must not also be in env")
	}
	assert.NotContains(t, task.Env, "CUDA_VISIBLE_DEVICES")
	assert.Equal(t, "3", task.Env["TUNE_WORLD_SIZE"])
	assert.Equal(t, "3", task.Env["WORLD_SIZE"])
	assert.Equal(t, "0", task.Env["LOCAL_RANK"])
	assert.Equal(t, "1", task.Env["LOCAL_WORLD_SIZE"])
	assert.Equal(t, "0", job.TaskGroups[0].Tasks[0].Env["TUNE_RANK"])
	assert.Equal(t, "0", job.TaskGroups[0].Tasks[0].Env["RANK"])
}

func TestCompileTaskConfig(t *testing.T) {
	tests := []struct {
		name string
		task string
		want map[string]any
	}{
		{
			name: "raw_exec runs command and args",
			task: `command = "python3"
    args    = ["train.py"]`,
			want: map[string]any{"command": "python3", "args": []string{"train.py"}},
		},
		{
			name: "a raw_exec config without a command gets the task's command",
			task: `command = "python3"
    args    = ["train.py"]
    config {
      oom_score_adj = 500
    }`,
			want: map[string]any{"command": "python3", "args": []string{"train.py"}, "oom_score_adj": int64(500)},
		},
		{
			name: "a config's own command wins over the shorthand",
			task: `command = "python3"
    args    = ["local.py"]
    config {
      command = "/opt/venv/bin/python"
      args    = ["cluster.py"]
    }`,
			want: map[string]any{"command": "/opt/venv/bin/python", "args": []any{"cluster.py"}},
		},
		{
			name: "docker's config is passed as written, without the shorthand",
			task: `driver  = "docker"
    command = "python3"
    config {
      image = "python:3.12"
    }`,
			want: map[string]any{"image": "python:3.12"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := "experiment \"cfg\" {\n  task \"train\" {\n    " + tc.task + "\n  }\n}\n"
			job, diags, _ := compileSource(t, src, 0, jobs.Options{MHzPerCore: 2400})
			require.False(t, diags.HasErrors(), diagText(diags))
			assert.Equal(t, tc.want, job.TaskGroups[0].Tasks[0].Config)
		})
	}
}

func TestCompileCUDAVisibleDevices(t *testing.T) {
	tests := []struct {
		name      string
		resources string
		nomad     string
		// env is CUDA_VISIBLE_DEVICES in the task's env; nil means unset.
		env      *string
		template bool
	}{
		{name: "no GPU hides every GPU", resources: "memory = 256", env: new("")},
		{name: "gpu = 1 reads the GPUs NVIDIA's plugin granted", resources: "gpu = 1", template: true},
		{name: "an nvidia device block is GPUs too", resources: `device "nvidia/gpu" { count = 1 }`, template: true},
		{name: "a gpu device of any vendor may be NVIDIA's", resources: `device "gpu" { count = 1 }`, template: true},
		{name: "another vendor's GPUs are left to its plugin", resources: "gpu = 1", nomad: `nomad { gpu_device = "amd/gpu" }`},
		{name: "a device that is not a GPU leaves the task without GPUs", resources: `device "xilinx/fpga" { count = 1 }`, env: new("")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := "experiment \"cuda\" {\n  resources {\n    " + tc.resources + "\n  }\n  task \"train\" {\n    command = \"python3\"\n  }\n  " + tc.nomad + "\n}\n"
			job, diags, _ := compileSource(t, src, 0, jobs.Options{MHzPerCore: 2400})
			require.False(t, diags.HasErrors(), diagText(diags))
			task := job.TaskGroups[0].Tasks[0]
			v, ok := task.Env["CUDA_VISIBLE_DEVICES"]
			if tc.env == nil {
				assert.False(t, ok, "CUDA_VISIBLE_DEVICES must be unset, is %q", v)
			} else {
				assert.True(t, ok)
				assert.Equal(t, *tc.env, v)
			}
			if tc.template {
				require.Len(t, task.Templates, 1)
				assert.Contains(t, *task.Templates[0].EmbeddedTmpl, `CUDA_VISIBLE_DEVICES={{ env "NVIDIA_VISIBLE_DEVICES" }}`)
			} else {
				assert.Empty(t, task.Templates)
			}
		})
	}
}

func TestCompileRendezvous(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		attempt   int
		group     int
		task      int
		wantEnv   map[string]string
		wantTmpl  string
		wantNoTpl bool
	}{
		{
			name: "a single allocation is rank 0 and listens on its own port",
			src: `experiment "one" {
  task "t" {
    command = "x"
  }
}`,
			wantEnv: map[string]string{"MASTER_ADDR": "${NOMAD_IP_tune_rendezvous}", "MASTER_PORT": "${NOMAD_PORT_tune_rendezvous}", "WORLD_SIZE": "1", "RANK": "0"},
		},
		{
			name: "a strict_pack trial finds rank 0 in its own allocation, on the node's port",
			src: `experiment "packed" {
  placement = "strict_pack"
  group "w" {
    count = 2
    task "t" {
      command = "x"
    }
  }
}`,
			task:    1,
			wantEnv: map[string]string{"MASTER_ADDR": "${NOMAD_IP_tune_rendezvous}", "MASTER_PORT": "${NOMAD_HOST_PORT_tune_rendezvous}", "RANK": "1"},
		},
		{
			name: "another group reads the attempt's items of the variable",
			src: `experiment "two" {
  group "a" {
    task "t" {
      command = "x"
    }
  }
  group "b" {
    task "t" {
      command = "x"
    }
  }
}`,
			attempt:  3,
			group:    1,
			wantEnv:  map[string]string{"RANK": "1", "WORLD_SIZE": "2"},
			wantTmpl: "{{ with nomadVar \"nomad/jobs/tune-two-00000-",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			job, diags, _ := compileSource(t, tt.src, 0, jobs.Options{MHzPerCore: 1000, Attempt: tt.attempt})
			require.False(t, diags.HasErrors(), diagText(diags))
			require.Len(t, job.TaskGroups[0].Networks, 1, "rank 0's group asks for the port")
			assert.Equal(t, "tune_rendezvous", job.TaskGroups[0].Networks[0].DynamicPorts[0].Label)
			if len(job.TaskGroups) > 1 {
				assert.Empty(t, job.TaskGroups[1].Networks, "only rank 0's group needs a port")
			}
			task := job.TaskGroups[tt.group].Tasks[tt.task]
			for k, v := range tt.wantEnv {
				assert.Equal(t, v, task.Env[k], k)
			}
			if tt.wantTmpl == "" {
				assert.Empty(t, task.Templates)
				return
			}
			require.Len(t, task.Templates, 1)
			assert.Contains(t, *task.Templates[0].EmbeddedTmpl, tt.wantTmpl)
			addr, port := jobs.RendezvousItems(tt.attempt)
			assert.Contains(t, *task.Templates[0].EmbeddedTmpl, "MASTER_ADDR={{ ."+addr+" }}")
			assert.Contains(t, *task.Templates[0].EmbeddedTmpl, "MASTER_PORT={{ ."+port+" }}")
			assert.NotContains(t, task.Env, "MASTER_ADDR", "the template sets it, nothing else")
		})
	}
}

func TestCompileRendezvousNeedsAJobIDThatNamesAVariable(t *testing.T) {
	src := `experiment "v1.2" {
  group "a" {
    task "t" {
      command = "x"
    }
  }
  group "b" {
    task "t" {
      command = "x"
    }
  }
}`
	_, diags, _ := compileSource(t, src, 0, jobs.Options{MHzPerCore: 1000})
	require.True(t, diags.HasErrors())
	assert.Contains(t, diagText(diags), "Experiment name cannot hold a rendezvous on Nomad")
	assert.Contains(t, diagText(diags), "test.hcl:1,", "the error names the experiment's line")
}

func TestCompileRefusesWaitForGPUWithItsLine(t *testing.T) {
	src := `experiment "gpu" {
  resources {
    gpu = 1
  }
  wait_for_gpu {
    max_used = 0.1
  }
  task "t" {
    command = "x"
  }
}`
	job, diags, _ := compileSource(t, src, 0, jobs.Options{MHzPerCore: 1000})
	require.True(t, diags.HasErrors(), "wait_for_gpu is never ignored")
	assert.Nil(t, job)
	assert.Contains(t, diagText(diags), "test.hcl:5,", "the error points at the block")
	assert.Contains(t, diagText(diags), "wait_for_gpu does not run on Nomad")
}

func TestCompileEscapesParameterTextOnlyAgainstNomadsInterpolation(t *testing.T) {
	src := `experiment "esc" {
  space {
    s = "$${node.unique.name} 5%%{x}"
  }
  task "t" {
    command = "x"
    args    = ["--s=${trial.s}", "--out=${NOMAD_ALLOC_DIR}"]
    env {
      S = trial.s
    }
  }
}`
	job, diags, _ := compileSource(t, src, 0, jobs.Options{MHzPerCore: 1000})
	require.False(t, diags.HasErrors(), diagText(diags))
	task := job.TaskGroups[0].Tasks[0]
	assert.Equal(t, []string{"--s=${NOMAD_META_tune_dollar}{node.unique.name} 5${NOMAD_META_tune_percent}{x}", "--out=${NOMAD_ALLOC_DIR}"}, task.Config["args"],
		"the parameter is escaped, the file's own interpolation is not")
	assert.Equal(t, "${NOMAD_META_tune_dollar}{node.unique.name} 5${NOMAD_META_tune_percent}{x}", task.Env["S"])
	assert.Equal(t, `{"s":"${NOMAD_META_tune_dollar}{node.unique.name} 5${NOMAD_META_tune_percent}{x}"}`, task.Env["TUNE_CONFIG"])
	assert.Equal(t, "$", job.Meta["tune_dollar"], "the escapes' references are defined")
	assert.Equal(t, "%", job.Meta["tune_percent"])
	assert.Equal(t, `{"s":"${node.unique.name} 5%{x}"}`, job.Meta["tune_params"], "meta is not interpolated: it keeps the text")
}

func TestCompileStrictPackMergesVolumesAndTheOneNetwork(t *testing.T) {
	job, diags, _ := compileSource(t, `experiment "pack" {
  placement = "strict_pack"
  group "a" {
    count = 2
    volume "data" {
      source    = "imagenet"
      read_only = true
    }
    task "t" {
      driver  = "exec"
      command = "/bin/true"
      volume_mount {
        volume      = "data"
        destination = "/data"
      }
    }
  }
  group "b" {
    volume "data" {
      source    = "imagenet"
      read_only = true
    }
    network {
      port "metrics" {
        to = 9100
      }
    }
    task "t" {
      command = "/bin/true"
    }
  }
}`, 0, jobs.Options{MHzPerCore: 2400})
	require.False(t, diags.HasErrors(), "%s", diags.Error())
	require.Len(t, job.TaskGroups, 1)
	tg := job.TaskGroups[0]
	require.Len(t, tg.Volumes, 1, "one volume written twice alike is one volume")
	assert.Equal(t, "imagenet", tg.Volumes["data"].Source)
	require.Len(t, tg.Networks, 1, "Nomad gives a group one network")
	var labels []string
	for _, p := range tg.Networks[0].DynamicPorts {
		labels = append(labels, p.Label)
	}
	assert.ElementsMatch(t, []string{jobs.RendezvousPort, "metrics"}, labels)
	mounts := 0
	for _, task := range tg.Tasks {
		mounts += len(task.VolumeMounts)
	}
	assert.Equal(t, 2, mounts, "each allocation's copy of task a/t mounts the volume")
}
