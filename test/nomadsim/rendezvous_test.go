package nomadsim

import (
	"net"
	"os/exec"
	"strconv"
	"testing"

	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// envJob is a raw_exec job whose one task prints its environment and
// what its args became.
func envJob(id string, args ...string) *api.Job {
	job := mockJob(id, 1, nil)
	task := job.TaskGroups[0].Tasks[0]
	task.Driver = "raw_exec"
	task.Config = map[string]any{"command": "/bin/sh", "args": append([]string{"-c", `env | sort; for a in "$@"; do echo "arg=$a"; done`, "sh"}, args...)}
	job.TaskGroups[0].ReschedulePolicy = &api.ReschedulePolicy{Attempts: new(0), Unlimited: new(false)}
	job.TaskGroups[0].RestartPolicy = &api.RestartPolicy{Attempts: new(0), Mode: new("fail")}
	return job
}

func onlyAlloc(t *testing.T, c *api.Client, job string) *api.Allocation {
	t.Helper()
	stubs := jobAllocs(t, c, job)
	require.Len(t, stubs, 1)
	a, _, err := c.Allocations().Info(stubs[0].ID, nil)
	require.NoError(t, err)
	return a
}

func TestDynamicPortsAndTemplatesOfVariables(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh on this machine")
	}

	t.Run("a dynamic port is allocated and named in the task's environment as Nomad names it", func(t *testing.T) {
		_, c := startSim(t, Options{})
		job := envJob("ports")
		job.TaskGroups[0].Networks = []*api.NetworkResource{{DynamicPorts: []api.Port{{Label: "rdzv"}}}}
		_, _, err := c.Jobs().Register(job, nil)
		require.NoError(t, err)
		eventually(t, jobDead(t, c, "ports"), "job dead")
		a := onlyAlloc(t, c, "ports")
		require.Equal(t, "complete", a.ClientStatus)
		require.Len(t, a.AllocatedResources.Shared.Ports, 1)
		p := a.AllocatedResources.Shared.Ports[0]
		assert.Equal(t, "rdzv", p.Label)
		assert.Positive(t, p.Value)
		port := strconv.Itoa(p.Value)
		out := readLogs(t, c, a, "work", "stdout", false)
		for _, want := range []string{
			"NOMAD_IP_rdzv=" + p.HostIP, "NOMAD_IPv4_rdzv=" + p.HostIP, "NOMAD_PORT_rdzv=" + port,
			"NOMAD_HOST_PORT_rdzv=" + port, "NOMAD_ADDR_rdzv=" + net.JoinHostPort(p.HostIP, port),
		} {
			assert.Contains(t, out, want+"\n")
		}
	})

	t.Run("a template reading a variable holds the task until the variable exists", func(t *testing.T) {
		srv, c := startSim(t, Options{})
		job := envJob("waits")
		job.TaskGroups[0].Tasks[0].Templates = []*api.Template{{
			DestPath:      new("local/tune.env"),
			EmbeddedTmpl:  new(`{{ with nomadVar "nomad/jobs/waits" }}MASTER_ADDR={{ .addr_1 }}{{ end }}` + "\n"),
			Envvars:       new(true),
			ErrMissingKey: new(true),
		}}
		_, _, err := c.Jobs().Register(job, nil)
		require.NoError(t, err)
		waitIdle(t, srv)
		_, _, err = c.Variables().Create(&api.Variable{Path: "nomad/jobs/waits", Items: api.VariableItems{"addr_1": "10.0.0.7"}}, nil)
		require.NoError(t, err)
		eventually(t, jobDead(t, c, "waits"), "job dead")
		a := onlyAlloc(t, c, "waits")
		require.Equal(t, "complete", a.ClientStatus)
		assert.Contains(t, readLogs(t, c, a, "work", "stdout", false), "MASTER_ADDR=10.0.0.7\n",
			"the variable was written after the job: the task rendered it because it waited")
	})

	t.Run("an item the variable lacks fails the task when error_on_missing_key is set", func(t *testing.T) {
		_, c := startSim(t, Options{})
		_, _, err := c.Variables().Create(&api.Variable{Path: "nomad/jobs/stale", Items: api.VariableItems{"addr_0": "10.0.0.7"}}, nil)
		require.NoError(t, err)
		job := envJob("stale")
		job.TaskGroups[0].Tasks[0].Templates = []*api.Template{{
			DestPath:      new("local/tune.env"),
			EmbeddedTmpl:  new(`{{ with nomadVar "nomad/jobs/stale" }}MASTER_ADDR={{ .addr_1 }}{{ end }}` + "\n"),
			Envvars:       new(true),
			ErrMissingKey: new(true),
		}}
		_, _, err = c.Jobs().Register(job, nil)
		require.NoError(t, err)
		eventually(t, jobDead(t, c, "stale"), "job dead")
		a := onlyAlloc(t, c, "stale")
		assert.Equal(t, "failed", a.ClientStatus)
		assert.Contains(t, lastEvent(a.TaskStates["work"], api.TaskSetupFailure).DisplayMessage, "Template failed")
	})

	t.Run("driver config strings are HCL templates over the task's variables", func(t *testing.T) {
		_, c := startSim(t, Options{})
		job := envJob("hcl", "$${NOMAD_JOB_ID}", "${NOMAD_JOB_ID}", "100%%{x}", "${NOMAD_META_d}{node.unique.name}")
		job.Meta = map[string]string{"d": "$"}
		_, _, err := c.Jobs().Register(job, nil)
		require.NoError(t, err)
		eventually(t, jobDead(t, c, "hcl"), "job dead")
		a := onlyAlloc(t, c, "hcl")
		require.Equal(t, "complete", a.ClientStatus)
		out := readLogs(t, c, a, "work", "stdout", false)
		assert.Contains(t, out, "arg=${NOMAD_JOB_ID}\n", "$${ is HCL's escape")
		assert.Contains(t, out, "arg=hcl\n")
		assert.Contains(t, out, "arg=100%{x}\n", "%%{ is HCL's escape")
		assert.Contains(t, out, "arg=${node.unique.name}\n", "what a reference brings in is not read again")
	})

	t.Run("an unknown variable in the driver config fails the task", func(t *testing.T) {
		_, c := startSim(t, Options{})
		job := envJob("unknown", "${no_such_thing}")
		_, _, err := c.Jobs().Register(job, nil)
		require.NoError(t, err)
		eventually(t, jobDead(t, c, "unknown"), "job dead")
		a := onlyAlloc(t, c, "unknown")
		assert.Equal(t, "failed", a.ClientStatus)
		assert.Contains(t, lastEvent(a.TaskStates["work"], "Driver Failure").DisplayMessage, "failed to parse config")
	})
}
