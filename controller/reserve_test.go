package controller

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/clock"
	"github.com/nomad-tune/tune/driver"
	"github.com/nomad-tune/tune/planner"
)

// gangExperiment has ten trials: trial 0 is a gang of two allocations of
// one GPU, trial 1 a gang of two allocations of two GPUs, and the others
// one GPU each.
func gangExperiment(admission string) string {
	return fmt.Sprintf(`experiment "gangs" {
  num_samples = 10
  admission   = %q
  space {
    x = uniform(0, 1)
  }
  group "worker" {
    count = trial.index < 2 ? 2 : 1
    resources {
      gpu = trial.index == 1 ? 2 : 1
    }
    task "train" {
      command = "true"
    }
  }
}
`, admission)
}

// twoNodes is two nodes of two GPUs: the big gang needs both whole.
func twoNodes() *planner.Capacity {
	c := localCapacity(8, 2)
	second := *c.Nodes[0]
	second.ID, second.Name = "second", "second"
	g := *second.Devices[0]
	g.Instances = []*planner.DeviceInstance{{ID: "2", Healthy: true}, {ID: "3", Healthy: true}}
	second.Devices = []*planner.DeviceGroup{&g}
	c.Nodes = append(c.Nodes, &second)
	c.FractionalGPUs = false
	return c
}

func TestAGangStartsBeforeLaterTrialsOnceEnoughHasFreed(t *testing.T) {
	const bound = 20 * time.Second // only matters when the test fails
	tests := []struct {
		name      string
		admission string
		capacity  func() *planner.Capacity
		// first are the trials started at once; then trial 0 ends, and
		// next is the trial started after it.
		first []int
		next  int
	}{
		{"with reservations the big gang waits for the small one on the local target", "reserve", func() *planner.Capacity { return localCapacity(8, 4) }, []int{0}, 1},
		{"with reservations the big gang waits for the small one across two nodes", "reserve", twoNodes, []int{0}, 1},
		{"in the greedy order one-GPU trials take what the big gang waits for", "greedy", func() *planner.Capacity { return localCapacity(8, 4) }, []int{0, 2, 3}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, gangExperiment(tt.admission))
			d := newFakeDriver(tt.capacity(), func(*planner.Trial, int) script { return script{hold: true} })
			d.started = make(chan string, 16)
			clk := clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() {
				_, err := Run(ctx, Options{Experiment: f.exp, Trials: f.trials, Driver: d, Store: f.store, Target: "local", Clock: clk})
				done <- err
			}()
			next := func() string {
				t.Helper()
				select {
				case s := <-d.started:
					return s
				case <-time.After(bound):
					t.Fatal("no attempt was started")
					return ""
				}
			}
			for _, i := range tt.first {
				require.Equal(t, f.trials[i].ID+"#0", next())
			}
			clk.Advance(time.Minute)
			d.mu.Lock()
			delete(d.running, f.trials[0].ID)
			d.mu.Unlock()
			d.events <- driver.Event{Kind: driver.EventExited, TrialID: f.trials[0].ID, Time: clk.Now()}
			assert.Equal(t, f.trials[tt.next].ID+"#0", next())
			cancel()
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-time.After(bound):
				t.Fatal("the run did not end")
			}
		})
	}
}

func TestGangsGoBeforeOlderOneAllocationTrials(t *testing.T) {
	f := newFixture(t, experimentFile(6, `admission = "reserve"
  resources {
    gpu = trial.index == 3 ? 4 : 1
  }`))
	d := newFakeDriver(localCapacity(8, 4), func(*planner.Trial, int) script { return script{} })
	f.run(t, context.Background(), d, nil)
	require.NotEmpty(t, d.starts)
	assert.Equal(t, f.trials[0].ID+"#0", d.starts[0], "a trial of one allocation is no gang: the queue's order holds")

	g := newFixture(t, gangExperiment("reserve"))
	d = newFakeDriver(localCapacity(8, 4), func(*planner.Trial, int) script { return script{} })
	g.run(t, context.Background(), d, nil)
	require.Len(t, d.starts, 10)
	assert.Equal(t, []string{g.trials[0].ID + "#0", g.trials[1].ID + "#0"}, d.starts[:2], "the gangs go first, in order")
}

func TestDurationEstimates(t *testing.T) {
	minutes := func(ms ...int) []time.Duration {
		out := make([]time.Duration, len(ms))
		for i, m := range ms {
			out[i] = time.Duration(m) * time.Minute
		}
		return out
	}
	tests := []struct {
		name   string
		ran    []time.Duration
		want   time.Duration
		wantOK bool
	}{
		{name: "too few attempts say nothing", ran: minutes(5, 6)},
		{name: "three attempts give the longest", ran: minutes(5, 9, 6), want: 9 * time.Minute, wantOK: true},
		{name: "ten attempts give the ninth longest", ran: minutes(1, 2, 3, 4, 5, 6, 7, 8, 9, 30), want: 9 * time.Minute, wantOK: true},
		{
			name:   "only the newest attempts count",
			ran:    append(minutes(100, 100, 100, 100, 100, 100, 100), make([]time.Duration, estimateWindow)...),
			want:   0,
			wantOK: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &durations{}
			for _, v := range tt.ran {
				d.add(v)
			}
			got, ok := d.estimate()
			assert.Equal(t, tt.wantOK, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestMergeRunsPutsTheQueueBackInOrder(t *testing.T) {
	tests := []struct {
		name    string
		pending []int
		want    []int
	}{
		{"gangs then the others", []int{4, 8, 1, 2, 5, 9}, []int{1, 2, 4, 5, 8, 9}},
		{"one gang from the end", []int{9, 1, 2}, []int{1, 2, 9}},
		{"a queue in order already", []int{1, 2, 3}, []int{1, 2, 3}},
		{"only gangs left", []int{4}, []int{4}},
		{"nothing left", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, mergeRuns(tt.pending))
		})
	}
}
