package nomad

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/jobs"
)

// allocationFrame is a stream frame of n allocation events as Nomad sends
// them: allocations of a running one-task job, without their job, with
// the resources, metrics and task events a real allocation carries.
func allocationFrame(t testing.TB, n int) []byte {
	t.Helper()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var events []api.Event
	for i := range n {
		al := &api.Allocation{
			ID: "8d3a1c2e-0000-4000-8000-00000000000" + string(rune('0'+i%10)), Name: "tune-exp-t1.rank[0]", Namespace: "default",
			NodeID: "node-1", NodeName: "gpu-1", JobID: "tune-exp-t1", TaskGroup: "rank",
			ClientStatus: api.AllocClientStatusRunning, DesiredStatus: api.AllocDesiredStatusRun,
			CreateIndex: 100, ModifyIndex: uint64(101 + i),
			AllocatedResources: &api.AllocatedResources{
				Tasks: map[string]*api.AllocatedTaskResources{"train": {
					Cpu:    api.AllocatedCpuResources{CpuShares: 2400},
					Memory: api.AllocatedMemoryResources{MemoryMB: 1024},
				}},
				Shared: api.AllocatedSharedResources{DiskMB: 300, Ports: []api.PortMapping{{Label: jobs.RendezvousPort, Value: 23456, HostIP: "10.0.0.7"}}},
			},
			Metrics: &api.AllocationMetric{NodesEvaluated: 100, NodesAvailable: map[string]int{"dc1": 100},
				ScoreMetaData: []*api.NodeScoreMeta{{NodeID: "node-1", Scores: map[string]float64{"binpack": 0.5}, NormScore: 0.5}}},
			TaskStates: map[string]*api.TaskState{"train": {
				State: "running", StartedAt: start,
				Events: []*api.TaskEvent{
					{Type: "Received", Time: start.UnixNano(), DisplayMessage: "Task received by client"},
					{Type: "Task Setup", Time: start.UnixNano(), DisplayMessage: "Building Task Directory"},
					{Type: "Started", Time: start.UnixNano(), DisplayMessage: "Task started by client"},
				},
			}},
		}
		raw, err := json.Marshal(map[string]any{"Allocation": al})
		require.NoError(t, err)
		var payload map[string]any
		require.NoError(t, json.Unmarshal(raw, &payload))
		events = append(events, api.Event{Topic: api.TopicAllocation, Type: "AllocationUpdated", Key: al.ID,
			FilterKeys: []string{al.JobID}, Index: 200, Payload: payload})
	}
	b, err := json.Marshal(api.Events{Index: 200, Events: events})
	require.NoError(t, err)
	return append(b, '\n')
}

func TestTheSlimDecodingReadsWhatTheAPIPackageDoes(t *testing.T) {
	raw := allocationFrame(t, 1)
	var full api.Events
	require.NoError(t, json.Unmarshal(raw, &full))
	want, err := full.Events[0].Allocation()
	require.NoError(t, err)
	// A heartbeat before the frame is passed over.
	frame, err := nextFrame(json.NewDecoder(bytes.NewReader(append([]byte("{}\n"), raw...))))
	require.NoError(t, err)

	require.Len(t, frame.Events, 1)
	ev := frame.Events[0]
	assert.Equal(t, uint64(200), frame.Index)
	assert.Equal(t, []string{"tune-exp-t1"}, ev.FilterKeys)
	var p allocPayload
	require.NoError(t, json.Unmarshal(ev.Payload, &p))
	got := p.Allocation.view()
	assert.Equal(t, want.ID, got.id)
	assert.Equal(t, want.JobID, p.Allocation.JobID)
	assert.Equal(t, 0, got.index)
	assert.Equal(t, want.ClientStatus, got.clientStatus)
	assert.Equal(t, want.ModifyIndex, got.modifyIndex)
	assert.True(t, got.ran)
	assert.Equal(t, want.TaskStates["train"].StartedAt.UTC(), got.tasks["train"].StartedAt.UTC())
	assert.Equal(t, want.TaskStates["train"].Events, got.tasks["train"].Events)
	ip, port, ok := jobs.RendezvousAddress(want)
	require.True(t, ok)
	assert.Equal(t, ip, got.masterIP)
	assert.Equal(t, port, got.masterPort)
}

// BenchmarkAllocationEvents decodes a frame of allocation events as the
// api package's EventStream and Event.Allocation do, and as the driver
// does (go test -bench AllocationEvents -benchmem ./driver/nomad).
func BenchmarkAllocationEvents(b *testing.B) {
	raw := allocationFrame(b, 10)
	b.Run("api package", func(b *testing.B) {
		for b.Loop() {
			var frame api.Events
			if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&frame); err != nil {
				b.Fatal(err)
			}
			for i := range frame.Events {
				if _, err := frame.Events[i].Allocation(); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("slim", func(b *testing.B) {
		for b.Loop() {
			frame, err := nextFrame(json.NewDecoder(bytes.NewReader(raw)))
			if err != nil {
				b.Fatal(err)
			}
			for i := range frame.Events {
				var p allocPayload
				if err := json.Unmarshal(frame.Events[i].Payload, &p); err != nil {
					b.Fatal(err)
				}
				_ = p.Allocation.view()
			}
		}
	})
}
