package nomad

import (
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/assert"

	"github.com/nomad-tune/tune/experiment"
)

func shapeOf(groups ...experiment.GroupShape) *experiment.Shape {
	return &experiment.Shape{Groups: groups}
}

func groupShape(name string, count int, tasks ...string) experiment.GroupShape {
	g := experiment.GroupShape{Name: name, Count: count}
	for _, t := range tasks {
		g.Tasks = append(g.Tasks, experiment.TaskResources{Task: t})
	}
	return g
}

func TestRanksNumberAllocationsGroupAfterGroup(t *testing.T) {
	r := rankTable(shapeOf(groupShape("worker", 3, "train"), groupShape("ps", 2, "serve")), experiment.PlacementPack)

	assert.Equal(t, 5, r.world)
	assert.Equal(t, 0, r.rank("worker", 0, "train"))
	assert.Equal(t, 2, r.rank("worker", 2, "train"))
	assert.Equal(t, 3, r.rank("ps", 0, "serve"))
	assert.Equal(t, 4, r.rank("ps", 1, "serve"))
}

func TestStrictPackRanksComeFromTheMergedTaskNames(t *testing.T) {
	r := rankTable(shapeOf(groupShape("worker", 2, "train", "log"), groupShape("ps", 1, "serve")), experiment.PlacementStrictPack)

	assert.Equal(t, 3, r.world)
	assert.Equal(t, 0, r.rank("trial", 0, "worker-0-train"))
	assert.Equal(t, 0, r.rank("trial", 0, "worker-0-log"))
	assert.Equal(t, 1, r.rank("trial", 0, "worker-1-train"))
	assert.Equal(t, 2, r.rank("trial", 0, "ps-0-serve"))
}

func TestASingleAllocationStrictPackTrialIsNotMerged(t *testing.T) {
	r := rankTable(shapeOf(groupShape("trial", 1, "train")), experiment.PlacementStrictPack)

	assert.Nil(t, r.tasks)
	assert.Equal(t, 0, r.rank("trial", 0, "train"))
}

func TestAllocationIndexesComeFromTheirNames(t *testing.T) {
	assert.Equal(t, 0, allocIndex("tune-exp-00000-abc.trial[0]"))
	assert.Equal(t, 12, allocIndex("tune-exp.v1-00000.worker[12]"))
	assert.Equal(t, -1, allocIndex("tune-exp.worker"))
	assert.Equal(t, -1, allocIndex("tune-exp.worker[x]"))
}

// judged is the outcome of an attempt of world allocations once the given
// allocation has ended.
func judged(world int, al allocView) *attempt {
	a := &attempt{d: &Driver{stopWait: DefaultStopWait}, ranks: rankTable(shapeOf(groupShape("worker", world, "train")), experiment.PlacementPack), prefix: world > 1}
	v := newView(al)
	a.judge(&v)
	return a
}

func terminated(code int, failed bool) *api.TaskState {
	return &api.TaskState{
		State: "dead", Failed: failed, StartedAt: time.Unix(1, 0), FinishedAt: time.Unix(2, 0),
		Events: []*api.TaskEvent{
			{Type: api.TaskStarted},
			{Type: api.TaskTerminated, ExitCode: code, Details: map[string]string{"exit_code": itoa(code)}},
		},
	}
}

func TestHowAnAllocationEndedDecidesTheAttempt(t *testing.T) {
	const id = "1a2b3c4d-0000-0000-0000-000000000000"
	t.Run("a task that exited non-zero fails it, naming the task, allocation and code", func(t *testing.T) {
		a := judged(1, allocView{id: id, name: "j.worker[0]", group: "worker", clientStatus: api.AllocClientStatusFailed,
			tasks: map[string]*api.TaskState{"train": terminated(3, true)}})
		assert.Equal(t, outcome{kind: outcomeFailed, message: `task "train" of allocation 1a2b3c4d exited with code 3`, exitCode: 3}, a.outcome)
	})
	t.Run("the rank is named in a multi-allocation trial", func(t *testing.T) {
		st := terminated(1, true)
		st.Restarts = 2
		a := judged(2, allocView{id: id, name: "j.worker[1]", group: "worker", clientStatus: api.AllocClientStatusFailed,
			tasks: map[string]*api.TaskState{"train": st}})
		assert.Equal(t, outcome{kind: outcomeFailed, message: `task "train" of allocation 1a2b3c4d (rank 1) exited with code 1 (after 2 restarts)`, exitCode: 1}, a.outcome)
	})
	t.Run("a driver failure is told in the driver's words", func(t *testing.T) {
		st := &api.TaskState{State: "dead", Failed: true, Events: []*api.TaskEvent{
			{Type: api.TaskDriverFailure, DriverError: "failed to start: exec: \"trian.py\": not found"},
			{Type: api.TaskNotRestarting, DisplayMessage: "Policy allows no restarts", FailsTask: true},
		}}
		a := judged(1, allocView{id: id, name: "j.worker[0]", group: "worker", clientStatus: api.AllocClientStatusFailed,
			tasks: map[string]*api.TaskState{"train": st}})
		assert.Equal(t, outcome{kind: outcomeFailed, message: `task "train" of allocation 1a2b3c4d failed: failed to start: exec: "trian.py": not found`}, a.outcome)
	})
	t.Run("a sibling's failure is not the story", func(t *testing.T) {
		sib := terminated(0, true)
		sib.Events = append(sib.Events, &api.TaskEvent{Type: api.TaskSiblingFailed})
		a := judged(1, allocView{id: id, name: "j.worker[0]", group: "worker", clientStatus: api.AllocClientStatusFailed,
			tasks: map[string]*api.TaskState{"a-sidecar": sib, "train": terminated(2, true)}})
		assert.Equal(t, outcome{kind: outcomeFailed, message: `task "train" of allocation 1a2b3c4d exited with code 2`, exitCode: 2}, a.outcome)
	})
	t.Run("a lost allocation fails it, naming the node", func(t *testing.T) {
		a := judged(1, allocView{id: id, name: "j.worker[0]", group: "worker", nodeName: "gpu-7",
			clientStatus: api.AllocClientStatusLost, desiredStatus: api.AllocDesiredStatusStop})
		assert.Equal(t, outcome{kind: outcomeFailed, message: "allocation 1a2b3c4d lost: node gpu-7 down"}, a.outcome)
	})
	t.Run("max_run_duration ends it cleanly", func(t *testing.T) {
		a := judged(1, allocView{id: id, name: "j.worker[0]", group: "worker", clientStatus: api.AllocClientStatusComplete,
			clientDesc: maxRunDurationExceeded, tasks: map[string]*api.TaskState{"train": terminated(0, false)}})
		assert.Equal(t, outcome{kind: outcomeTimedOut, message: timeoutMessage}, a.outcome)
		assert.Equal(t, timeoutMessage, a.exitEvent().Message)
		assert.False(t, a.exitEvent().Failed)
	})
	t.Run("an allocation Nomad stopped on its own fails it", func(t *testing.T) {
		a := judged(1, allocView{id: id, name: "j.worker[0]", group: "worker", clientStatus: api.AllocClientStatusComplete,
			desiredStatus: api.AllocDesiredStatusStop, desiredDesc: "alloc is being migrated",
			tasks: map[string]*api.TaskState{"train": terminated(0, false)}})
		assert.Equal(t, outcome{kind: outcomeEvicted, message: "allocation 1a2b3c4d was stopped by Nomad: alloc is being migrated"}, a.outcome)
		assert.True(t, a.exitEvent().Failed)
	})
	t.Run("a clean exit succeeds", func(t *testing.T) {
		a := judged(1, allocView{id: id, name: "j.worker[0]", group: "worker", clientStatus: api.AllocClientStatusComplete,
			desiredStatus: api.AllocDesiredStatusRun, tasks: map[string]*api.TaskState{"train": terminated(0, false)}})
		ev := a.exitEvent()
		assert.False(t, ev.Failed)
		assert.Equal(t, 0, ev.ExitCode)
		assert.Empty(t, ev.Message)
	})
	t.Run("once stopped, how the allocations end does not matter", func(t *testing.T) {
		a := &attempt{d: &Driver{stopWait: DefaultStopWait}, ranks: rankTable(shapeOf(groupShape("worker", 1, "train")), experiment.PlacementPack),
			outcome: outcome{kind: outcomeStopped, message: "loss <= 0.1"}}
		v := newView(allocView{id: id, name: "j.worker[0]", group: "worker", clientStatus: api.AllocClientStatusFailed,
			tasks: map[string]*api.TaskState{"train": terminated(137, true)}})
		a.judge(&v)
		ev := a.exitEvent()
		assert.True(t, ev.Stopped)
		assert.False(t, ev.Failed)
		assert.Equal(t, "loss <= 0.1", ev.Message)
	})
}
