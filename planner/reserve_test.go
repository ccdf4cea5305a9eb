package planner

import (
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/experiment"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// unknown marks an end nobody knows, in minutes from t0.
const unknown = -1

// at is t0 plus minutes; unknown is the zero time.
func at(minutes int) time.Time {
	if minutes == unknown {
		return time.Time{}
	}
	return t0.Add(time.Duration(minutes) * time.Minute)
}

// onNode is a one-GPU-count trial pinned to a node, so a case says where
// each running or candidate trial is.
func onNode(node string, gpus int) *experiment.Shape {
	return withConstraints(single(0.1, 64, float64(gpus)), experiment.Constraint{Attribute: "${node.unique.id}", Operator: "=", Value: node})
}

// place fits and commits a trial, as the controller does when it starts
// one.
func place(t *testing.T, c *Capacity, s *experiment.Shape) *Assignment {
	t.Helper()
	a, u := c.Fit(s, experiment.PlacementPack)
	require.Nil(t, u, "the case's trial must fit: %s", u.Reason())
	c.Commit(a)
	return a
}

func TestReservation(t *testing.T) {
	type held struct {
		node string
		gpus int
		end  int
	}
	type candidate struct {
		node     string
		gpus     int
		end      int
		admitted bool
	}
	gang := func(count, gpus int) *experiment.Shape {
		return shape(group("worker", count, task(0.1, 64, float64(gpus))))
	}
	tests := []struct {
		name       string
		nodes      int
		gpus       int
		outside    []held
		running    []held
		head       *experiment.Shape
		placement  experiment.Placement
		none       bool
		wantAt     int
		wantNodes  []string
		candidates []candidate
	}{
		{
			name:    "short trials run before the shadow time and long ones wait",
			nodes:   1,
			gpus:    8,
			running: []held{{"node-0", 2, 10}, {"node-0", 2, 20}},
			head:    single(1, 64, 6),
			wantAt:  10, wantNodes: []string{"node-0"},
			candidates: []candidate{
				{"node-0", 1, 5, true},
				{"node-0", 1, 15, false},
				{"node-0", 1, unknown, false},
				{"node-0", 1, 10, true},
			},
		},
		{
			name:    "trials run on nodes the head does not need however long they run",
			nodes:   2,
			gpus:    4,
			running: []held{{"node-0", 4, 10}, {"node-1", 2, 30}},
			head:    single(1, 64, 4),
			wantAt:  10, wantNodes: []string{"node-0"},
			candidates: []candidate{
				{"node-1", 1, unknown, true},
				{"node-1", 1, 100, true},
			},
		},
		{
			name:    "known ends are counted on before unknown ones",
			nodes:   2,
			gpus:    4,
			running: []held{{"node-0", 4, unknown}, {"node-1", 4, 50}},
			head:    single(1, 64, 4),
			wantAt:  50, wantNodes: []string{"node-1"},
		},
		{
			name:    "unknown ends are counted on in the order given, one at a time",
			nodes:   3,
			gpus:    4,
			running: []held{{"node-1", 4, unknown}, {"node-0", 4, unknown}, {"node-2", 2, unknown}},
			head:    single(1, 64, 4),
			wantAt:  unknown, wantNodes: []string{"node-1"},
			candidates: []candidate{
				{"node-2", 2, unknown, true},
			},
		},
		{
			name:    "with an unknown shadow time no trial ends before it",
			nodes:   1,
			gpus:    8,
			running: []held{{"node-0", 6, unknown}},
			head:    single(1, 64, 7),
			wantAt:  unknown, wantNodes: []string{"node-0"},
			candidates: []candidate{
				{"node-0", 1, 1, true},
				{"node-0", 1, 1, false},
			},
		},
		{
			name:    "a head held back by work that is not the experiment's gets no reservation",
			nodes:   1,
			gpus:    8,
			outside: []held{{"node-0", 4, unknown}},
			running: []held{{"node-0", 2, 10}},
			head:    single(1, 64, 8),
			none:    true,
		},
		{
			name:    "a head no node can ever hold gets no reservation",
			nodes:   2,
			gpus:    4,
			running: []held{{"node-0", 2, 10}},
			head:    single(1, 64, 8),
			none:    true,
		},
		{
			name:    "a gang of two whole nodes waits for the second node while others use the rest",
			nodes:   3,
			gpus:    8,
			running: []held{{"node-0", 4, 10}, {"node-0", 2, 40}, {"node-1", 8, 20}},
			head:    gang(2, 8),
			wantAt:  20, wantNodes: []string{"node-1", "node-2"},
			candidates: []candidate{
				{"node-2", 2, 15, true},
				{"node-2", 2, 25, false},
				{"node-0", 2, unknown, true},
			},
		},
		{
			name:      "a strict_spread gang keeps a share of every node it spans",
			nodes:     3,
			gpus:      4,
			running:   []held{{"node-1", 4, 10}, {"node-2", 4, 20}},
			head:      gang(3, 2),
			placement: experiment.PlacementStrictSpread,
			wantAt:    20, wantNodes: []string{"node-0", "node-1", "node-2"},
			candidates: []candidate{
				{"node-0", 2, 30, true},
				{"node-0", 1, 30, false},
				{"node-0", 1, 15, true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cluster(tt.nodes, 64, 1<<20, tt.gpus)
			for _, h := range tt.outside {
				place(t, c, onNode(h.node, h.gpus))
			}
			var running []Running
			for _, h := range tt.running {
				running = append(running, Running{Assignment: place(t, c, onNode(h.node, h.gpus)), End: at(h.end)})
			}
			placement := orPack(tt.placement)
			_, u := c.Fit(tt.head, placement)
			require.NotNil(t, u, "the head must not fit now")
			before := c.Clone()
			r := c.Reserve(tt.head, placement, running)
			assert.Equal(t, before, c, "reserving changes nothing")
			if tt.none {
				assert.Nil(t, r)
				return
			}
			require.NotNil(t, r)
			assert.Equal(t, at(tt.wantAt), r.At)
			nodes := nodesOf(r.Assignment)
			sort.Strings(nodes)
			assert.Equal(t, tt.wantNodes, nodes)
			for i, cand := range tt.candidates {
				a := place(t, c, onNode(cand.node, cand.gpus))
				got := r.Admits(a, at(cand.end))
				assert.Equal(t, cand.admitted, got, "candidate %d", i)
				if !got {
					c.Release(a)
				}
			}
		})
	}
}

// TestReservationsKeepAWideTrialFromStarving plays one node of four GPUs
// where four one-GPU trials end a minute apart, a four-GPU trial waits
// first in line, and one-GPU trials of four minutes keep coming behind
// it. Passing it whenever it does not fit (Ray Tune's order) gives every
// freed GPU to a one-GPU trial for ever; with a reservation, the trials
// that would run past the shadow time wait, and the wide trial starts as
// soon as the first four have ended.
func TestReservationsKeepAWideTrialFromStarving(t *testing.T) {
	tests := []struct {
		name      string
		reserve   bool
		wantStart int
	}{
		{name: "passing it whenever it does not fit starves it", reserve: false, wantStart: unknown},
		{name: "a reservation starts it once the first trials have ended", reserve: true, wantStart: 4},
	}
	const horizon = 100
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cluster(1, 64, 1<<20, 4)
			one, wide := single(0.1, 64, 1), single(0.1, 64, 4)
			type run struct {
				a   *Assignment
				end int
			}
			var runs []run
			for end := 1; end <= 4; end++ {
				runs = append(runs, run{place(t, c, one), end})
			}
			start := unknown
			for now := 0; now <= horizon && start == unknown; now++ {
				kept := runs[:0]
				for _, r := range runs {
					if r.end <= now {
						c.Release(r.a)
						continue
					}
					kept = append(kept, r)
				}
				runs = kept
				if a, u := c.Fit(wide, experiment.PlacementPack); u == nil {
					c.Commit(a)
					start = now
					break
				}
				var res *Reservation
				if tt.reserve {
					held := make([]Running, len(runs))
					for i, r := range runs {
						held[i] = Running{Assignment: r.a, End: at(r.end)}
					}
					res = c.Reserve(wide, experiment.PlacementPack, held)
					require.NotNil(t, res)
				}
				// The stream of one-GPU trials never runs dry.
				for {
					a, u := c.Fit(one, experiment.PlacementPack)
					if u != nil || res != nil && !res.Admits(a, at(now+4)) {
						break
					}
					c.Commit(a)
					runs = append(runs, run{a, now + 4})
				}
			}
			assert.Equal(t, tt.wantStart, start)
		})
	}
}

// BenchmarkReserve is one reservation on the scenario b cluster of
// scripts/bench-nomad (16 nodes of 8 GPUs, every GPU held by a one-GPU
// trial) for a gang of 2 × 4 GPUs, with one backfill check.
func BenchmarkReserve(b *testing.B) {
	c := cluster(16, 64, 1<<20, 8)
	one := single(0.1, 64, 1)
	var running []Running
	for i := 0; i < 128; i++ {
		a, u := c.Fit(one, experiment.PlacementPack)
		require.Nil(b, u)
		c.Commit(a)
		running = append(running, Running{Assignment: a, End: at(i % 37)})
	}
	head := shape(group("worker", 2, task(0.1, 64, 4)))
	c.Release(running[0].Assignment)
	a, u := c.Fit(one, experiment.PlacementPack)
	require.Nil(b, u)
	b.ReportAllocs()
	for b.Loop() {
		r := c.Reserve(head, experiment.PlacementPack, running[1:])
		require.NotNil(b, r)
		r.Admits(a, at(40))
	}
}
