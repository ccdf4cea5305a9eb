package nomadsim

import (
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func eventTypes(ts *api.TaskState) []string {
	var out []string
	for _, e := range ts.Events {
		out = append(out, e.Type)
	}
	return out
}

func lastEvent(ts *api.TaskState, typ string) *api.TaskEvent {
	for i := len(ts.Events) - 1; i >= 0; i-- {
		if ts.Events[i].Type == typ {
			return ts.Events[i]
		}
	}
	return nil
}

func jobDead(t *testing.T, c *api.Client, id string) func() bool {
	return func() bool {
		info, _, err := c.Jobs().Info(id, nil)
		return err == nil && *info.Status == "dead"
	}
}

func TestTasks(t *testing.T) {
	t.Run("a failing task restarts by policy, fails, and is rescheduled once", func(t *testing.T) {
		srv, c := startSim(t, Options{Nodes: []NodeSpec{{Count: 2}}, TimeScale: 2000})
		_, _, err := c.Jobs().Register(mockJob("flaky", 1, map[string]any{"run_for": "1s", "exit_code": 3}), nil)
		require.NoError(t, err)
		eventually(t, jobDead(t, c, "flaky"), "job dead after its reschedule fails too")
		waitIdle(t, srv)
		allocs := jobAllocs(t, c, "flaky")
		require.Len(t, allocs, 2)
		first, second := allocs[1], allocs[0]
		ts := first.TaskStates["work"]
		assert.Equal(t, "failed", first.ClientStatus)
		assert.True(t, ts.Failed)
		assert.Equal(t, uint64(3), ts.Restarts)
		nr := lastEvent(ts, "Not Restarting")
		require.NotNil(t, nr)
		assert.Equal(t, `Exceeded allowed attempts 3 in interval 24h0m0s and mode is "fail"`, nr.DisplayMessage)
		assert.True(t, nr.FailsTask)
		term := lastEvent(ts, "Terminated")
		require.NotNil(t, term)
		assert.Equal(t, "Exit Code: 3", term.DisplayMessage)
		assert.Equal(t, "alloc was rescheduled because it failed", first.DesiredDescription)
		assert.Equal(t, second.ID, first.NextAllocation)

		full, _, err := c.Allocations().Info(second.ID, nil)
		require.NoError(t, err)
		require.NotNil(t, full.RescheduleTracker)
		require.Len(t, full.RescheduleTracker.Events, 1)
		ev := full.RescheduleTracker.Events[0]
		assert.Equal(t, first.ID, ev.PrevAllocID)
		finished := first.TaskStates["work"].FinishedAt
		assert.GreaterOrEqual(t, time.Unix(0, ev.RescheduleTime).Sub(finished), 5*time.Second-time.Millisecond,
			"batch jobs reschedule after the default 5s delay")
		assert.NotEqual(t, first.NodeID, second.NodeID, "the failed node is penalised")

		sum, _, err := c.Jobs().Summary("flaky", nil)
		require.NoError(t, err)
		assert.Equal(t, 2, sum.Summary["main"].Failed)
	})

	t.Run("a task group with no restarts and no reschedules fails once", func(t *testing.T) {
		_, c := startSim(t, Options{TimeScale: 1000})
		job := mockJob("once", 1, map[string]any{"exit_code": 1})
		job.TaskGroups[0].RestartPolicy = &api.RestartPolicy{Attempts: new(0)}
		job.TaskGroups[0].ReschedulePolicy = &api.ReschedulePolicy{Attempts: new(0), Unlimited: new(false)}
		_, _, err := c.Jobs().Register(job, nil)
		require.NoError(t, err)
		eventually(t, jobDead(t, c, "once"), "job dead")
		allocs := jobAllocs(t, c, "once")
		require.Len(t, allocs, 1)
		ts := allocs[0].TaskStates["work"]
		assert.Equal(t, []string{"Received", "Task Setup", "Started", "Terminated", "Not Restarting"}, eventTypes(ts))
		assert.Equal(t, "Policy allows no restarts", lastEvent(ts, "Not Restarting").DisplayMessage)
	})

	t.Run("a task that succeeds completes without restarting", func(t *testing.T) {
		_, c, clk := startManual(t, Options{})
		_, _, err := c.Jobs().Register(mockJob("ok", 1, map[string]any{"run_for": "10s"}), nil)
		require.NoError(t, err)
		waitStarted(t, c, "ok", "work")
		advance(t, clk, 1, 10*time.Second)
		eventually(t, jobDead(t, c, "ok"), "job dead")
		a := jobAllocs(t, c, "ok")[0]
		assert.Equal(t, "complete", a.ClientStatus)
		assert.Equal(t, "All tasks have completed", a.ClientDescription)
		ts := a.TaskStates["work"]
		assert.Equal(t, []string{"Received", "Task Setup", "Started", "Terminated"}, eventTypes(ts))
		assert.Equal(t, 10*time.Second, ts.FinishedAt.Sub(ts.StartedAt), "run_for is simulated time")
	})

	t.Run("max_run_duration ends the allocation as complete", func(t *testing.T) {
		_, c, clk := startManual(t, Options{})
		job := mockJob("timeout", 1, map[string]any{"run_for": "10h"})
		job.TaskGroups[0].MaxRunDuration = new(10 * time.Minute)
		_, _, err := c.Jobs().Register(job, nil)
		require.NoError(t, err)
		waitStarted(t, c, "timeout", "work")
		// The allocation's deadline and the task's run_for.
		advance(t, clk, 2, 10*time.Minute)
		eventually(t, jobDead(t, c, "timeout"), "job dead")
		a := jobAllocs(t, c, "timeout")[0]
		assert.Equal(t, "complete", a.ClientStatus)
		assert.Equal(t, "allocation exceeded max_run_duration", a.ClientDescription)
		ts := a.TaskStates["work"]
		assert.Equal(t, "allocation exceeded max_run_duration", lastEvent(ts, "Killing").DisplayMessage)
		assert.False(t, ts.Failed)
		assert.Equal(t, 10*time.Minute, ts.FinishedAt.Sub(time.Unix(0, a.CreateTime)))
	})

	t.Run("an unrecoverable start error fails the task at once", func(t *testing.T) {
		_, c := startSim(t, Options{TimeScale: 1000})
		job := mockJob("broken", 1, map[string]any{"start_error": "no GPU driver"})
		job.TaskGroups[0].ReschedulePolicy = &api.ReschedulePolicy{Attempts: new(0), Unlimited: new(false)}
		_, _, err := c.Jobs().Register(job, nil)
		require.NoError(t, err)
		eventually(t, jobDead(t, c, "broken"), "job dead")
		ts := jobAllocs(t, c, "broken")[0].TaskStates["work"]
		assert.Equal(t, []string{"Received", "Task Setup", "Driver Failure", "Not Restarting"}, eventTypes(ts))
		assert.Equal(t, "no GPU driver", lastEvent(ts, "Driver Failure").DisplayMessage)
		assert.Equal(t, "Error was unrecoverable", lastEvent(ts, "Not Restarting").DisplayMessage)
		assert.True(t, ts.StartedAt.IsZero())
	})

	t.Run("a recoverable start error is retried under the restart policy", func(t *testing.T) {
		_, c := startSim(t, Options{TimeScale: 1000})
		job := mockJob("retry", 1, map[string]any{"start_error": "busy", "start_error_recoverable": true})
		job.TaskGroups[0].RestartPolicy = &api.RestartPolicy{Attempts: new(2), Delay: new(time.Second), Interval: new(time.Hour), Mode: new("fail")}
		job.TaskGroups[0].ReschedulePolicy = &api.ReschedulePolicy{Attempts: new(0), Unlimited: new(false)}
		_, _, err := c.Jobs().Register(job, nil)
		require.NoError(t, err)
		eventually(t, jobDead(t, c, "retry"), "job dead")
		ts := jobAllocs(t, c, "retry")[0].TaskStates["work"]
		assert.Equal(t, uint64(2), ts.Restarts)
	})

	t.Run("unknown mock_driver settings fail the task as the driver's config schema does", func(t *testing.T) {
		_, c := startSim(t, Options{TimeScale: 1000})
		job := mockJob("typo", 1, map[string]any{"run_forr": "1s"})
		job.TaskGroups[0].ReschedulePolicy = &api.ReschedulePolicy{Attempts: new(0), Unlimited: new(false)}
		_, _, err := c.Jobs().Register(job, nil)
		require.NoError(t, err)
		eventually(t, jobDead(t, c, "typo"), "job dead")
		ts := jobAllocs(t, c, "typo")[0].TaskStates["work"]
		assert.Contains(t, lastEvent(ts, "Driver Failure").DisplayMessage, `"run_forr"`)
	})
}

func TestLifecycle(t *testing.T) {
	t.Run("a prestart task finishes before the main task starts and a sidecar is killed when main ends", func(t *testing.T) {
		_, c, clk := startManual(t, Options{})
		job := mockJob("life", 1, map[string]any{"run_for": "5s"})
		tg := job.TaskGroups[0]
		init := api.NewTask("init", "mock_driver")
		init.Config = map[string]any{"run_for": "3s"}
		init.Lifecycle = &api.TaskLifecycle{Hook: "prestart"}
		side := api.NewTask("side", "mock_driver")
		side.Config = map[string]any{"run_for": "1h"}
		side.Lifecycle = &api.TaskLifecycle{Hook: "prestart", Sidecar: true}
		tg.AddTask(init)
		tg.AddTask(side)
		_, _, err := c.Jobs().Register(job, nil)
		require.NoError(t, err)
		waitStarted(t, c, "life", "init")
		advance(t, clk, 2, 3*time.Second) // the prestart tasks run
		waitStarted(t, c, "life", "work")
		advance(t, clk, 2, 5*time.Second) // then the main task, beside the sidecar
		eventually(t, jobDead(t, c, "life"), "job dead")
		a := jobAllocs(t, c, "life")[0]
		assert.Equal(t, "complete", a.ClientStatus)
		main, pre, car := a.TaskStates["work"], a.TaskStates["init"], a.TaskStates["side"]
		assert.False(t, main.StartedAt.Before(pre.FinishedAt), "main starts after the prestart task ends")
		assert.Equal(t, 5*time.Second, main.FinishedAt.Sub(main.StartedAt))
		assert.Equal(t, []string{"Received", "Task Setup", "Started", "Main Tasks Dead", "Killing", "Terminated", "Killed"}, eventTypes(car))
	})

	t.Run("a failing task kills its siblings", func(t *testing.T) {
		_, c, clk := startManual(t, Options{})
		job := mockJob("sib", 1, map[string]any{"run_for": "1h"})
		bad := api.NewTask("bad", "mock_driver")
		bad.Config = map[string]any{"run_for": "1s", "exit_code": 2}
		job.TaskGroups[0].AddTask(bad)
		job.TaskGroups[0].RestartPolicy = &api.RestartPolicy{Attempts: new(0)}
		job.TaskGroups[0].ReschedulePolicy = &api.ReschedulePolicy{Attempts: new(0), Unlimited: new(false)}
		_, _, err := c.Jobs().Register(job, nil)
		require.NoError(t, err)
		advance(t, clk, 2, time.Second)
		eventually(t, jobDead(t, c, "sib"), "job dead")
		a := jobAllocs(t, c, "sib")[0]
		assert.Equal(t, "failed", a.ClientStatus)
		sibling := lastEvent(a.TaskStates["work"], "Sibling Task Failed")
		require.NotNil(t, sibling)
		assert.Equal(t, `Task's sibling "bad" failed`, sibling.DisplayMessage)
		assert.False(t, a.TaskStates["work"].Failed)
	})

	t.Run("a dead leader kills the other tasks", func(t *testing.T) {
		_, c, clk := startManual(t, Options{})
		job := mockJob("lead", 1, map[string]any{"run_for": "1s"})
		job.TaskGroups[0].Tasks[0].Leader = true
		follower := api.NewTask("follower", "mock_driver")
		follower.Config = map[string]any{"run_for": "1h"}
		job.TaskGroups[0].AddTask(follower)
		_, _, err := c.Jobs().Register(job, nil)
		require.NoError(t, err)
		advance(t, clk, 2, time.Second)
		eventually(t, jobDead(t, c, "lead"), "job dead")
		a := jobAllocs(t, c, "lead")[0]
		assert.Equal(t, "complete", a.ClientStatus)
		assert.NotNil(t, lastEvent(a.TaskStates["follower"], "Leader Task Dead"))
	})
}

func TestRawExec(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh on this machine")
	}
	t.Run("a raw_exec task runs with Nomad's environment, its GPUs and rendered template variables", func(t *testing.T) {
		_, c := startSim(t, Options{Nodes: []NodeSpec{{Count: 1, GPUs: 2}}})
		job := mockJob("env", 3, nil)
		task := job.TaskGroups[0].Tasks[0]
		task.Driver = "raw_exec"
		task.Config = map[string]any{"command": "/bin/sh", "args": []string{"-c", "env | sort; echo node=${node.unique.name}"}}
		task.Env = map[string]string{"TUNE_CPUS": "1", "EARLY": "${NVIDIA_VISIBLE_DEVICES}"}
		task.Resources.Devices = []*api.RequestedDevice{{Name: "nvidia/gpu", Count: new(uint64(1))}}
		task.Resources.CPU = new(100)
		task.Templates = []*api.Template{{
			DestPath:     new("local/tune.env"),
			EmbeddedTmpl: new("CUDA_VISIBLE_DEVICES={{ env \"NVIDIA_VISIBLE_DEVICES\" }}\nTUNE_RANK={{ env \"NOMAD_ALLOC_INDEX\" | parseInt | add 3 }}\n"),
			Envvars:      new(true),
		}}
		job.TaskGroups[0].Count = new(2)
		_, _, err := c.Jobs().Register(job, nil)
		require.NoError(t, err)
		eventually(t, jobDead(t, c, "env"), "job dead")
		for _, stub := range jobAllocs(t, c, "env") {
			require.Equal(t, "complete", stub.ClientStatus)
			a, _, err := c.Allocations().Info(stub.ID, nil)
			require.NoError(t, err)
			out := readLogs(t, c, a, "work", "stdout", false)
			gpu := a.AllocatedResources.Tasks["work"].Devices[0].DeviceIDs[0]
			idx := allocIndex(a.Name)
			assert.Contains(t, out, "NVIDIA_VISIBLE_DEVICES="+gpu+"\n")
			assert.Contains(t, out, "CUDA_VISIBLE_DEVICES="+gpu+"\n")
			assert.Contains(t, out, "TUNE_RANK="+[]string{"3", "4"}[idx]+"\n")
			assert.Contains(t, out, "NOMAD_ALLOC_INDEX="+[]string{"0", "1"}[idx]+"\n")
			assert.Contains(t, out, "NOMAD_ALLOC_ID="+a.ID+"\n")
			assert.Contains(t, out, "NOMAD_JOB_ID=env\n")
			assert.Contains(t, out, "NOMAD_TASK_NAME=work\n")
			assert.Contains(t, out, "NOMAD_ALLOC_DIR=")
			assert.Contains(t, out, "NOMAD_CPU_LIMIT=100\n")
			assert.Contains(t, out, "EARLY=${NVIDIA_VISIBLE_DEVICES}\n", "env is interpolated before device variables exist")
			assert.Contains(t, out, "node="+a.NodeName+"\n")
		}
	})

	t.Run("a stopped raw_exec task gets SIGINT", func(t *testing.T) {
		srv, c := startSim(t, Options{})
		job := mockJob("trap", 1, nil)
		task := job.TaskGroups[0].Tasks[0]
		task.Driver = "raw_exec"
		task.Config = map[string]any{"command": "/bin/sh", "args": []string{"-c", "trap 'echo got INT; exit 0' INT; echo ready; while true; do sleep 0.05; done"}}
		_, _, err := c.Jobs().Register(job, nil)
		require.NoError(t, err)
		waitIdle(t, srv)
		var a *api.Allocation
		eventually(t, func() bool {
			allocs := jobAllocs(t, c, "trap")
			if len(allocs) == 0 || allocs[0].ClientStatus != "running" {
				return false
			}
			a, _, err = c.Allocations().Info(allocs[0].ID, nil)
			return err == nil && strings.Contains(readLogs(t, c, a, "work", "stdout", false), "ready")
		}, "running")
		_, _, err = c.Jobs().Deregister("trap", false, nil)
		require.NoError(t, err)
		eventually(t, func() bool { return allDone(jobAllocs(t, c, "trap"), "complete") }, "stopped")
		assert.Contains(t, readLogs(t, c, a, "work", "stdout", false), "got INT")
	})

	t.Run("a missing command fails the task", func(t *testing.T) {
		_, c := startSim(t, Options{})
		job := mockJob("nocmd", 1, nil)
		job.TaskGroups[0].Tasks[0].Driver = "raw_exec"
		job.TaskGroups[0].Tasks[0].Config = map[string]any{"command": "definitely-not-a-command-xyz"}
		job.TaskGroups[0].ReschedulePolicy = &api.ReschedulePolicy{Attempts: new(0), Unlimited: new(false)}
		_, _, err := c.Jobs().Register(job, nil)
		require.NoError(t, err)
		eventually(t, jobDead(t, c, "nocmd"), "job dead")
		ts := jobAllocs(t, c, "nocmd")[0].TaskStates["work"]
		assert.Contains(t, lastEvent(ts, "Driver Failure").DisplayMessage, "executable file not found")
	})
}

// readLogs reads a task's whole log through the API, without following.
func readLogs(t *testing.T, c *api.Client, a *api.Allocation, task, typ string, follow bool) string {
	t.Helper()
	cancel := make(chan struct{})
	defer close(cancel)
	frames, errs := c.AllocFS().Logs(a, follow, task, typ, "start", 0, cancel, nil)
	r := api.NewFrameReader(frames, errs, make(chan struct{}))
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return ""
	}
	return string(b)
}
