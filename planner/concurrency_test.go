package planner

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/nomad-tune/tune/experiment"
)

// repeat is n trials of one shape value, as an experiment whose resources
// do not depend on the trial has.
func repeat(n int, s *experiment.Shape) []*experiment.Shape {
	out := make([]*experiment.Shape, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// laptop is the local target of Ray Tune's examples: 4 CPUs, plenty of
// memory, gpus GPUs that trials may share.
func laptop(gpus int) *Capacity {
	c := testCapacity(testNode("local", 4, 65536, gpus))
	c.Target = "local"
	c.FractionalGPUs = true
	return c
}

func TestAtOnce(t *testing.T) {
	sixteenGPUsAsTwoGroups := shape(group("a", 1, task(1, 1024, 8)), group("b", 1, task(1, 1024, 8)))
	sixteenGPUsAsACountOfTwo := shape(group("worker", 2, task(1, 1024, 8)))
	tests := []struct {
		name      string
		c         *Capacity
		shapes    []*experiment.Shape
		placement experiment.Placement
		max       int
		count     int
		limit     Limit
		detail    string
	}{
		{
			name:   "4 CPUs and the default 1 CPU per trial run 4 at once",
			c:      laptop(0),
			shapes: repeat(10, single(experiment.DefaultCPU, experiment.DefaultMemoryMiB, 0)),
			count:  4, limit: LimitCapacity, detail: "4 at once: CPU (4 cores / 1 per trial)",
		},
		{
			name:   "cpu = 2 runs 2 at once",
			c:      laptop(0),
			shapes: repeat(10, single(2, 300, 0)),
			count:  2, limit: LimitCapacity, detail: "2 at once: CPU (4 cores / 2 per trial)",
		},
		{
			name:   "cpu = 4 runs 1 at once",
			c:      laptop(0),
			shapes: repeat(10, single(4, 300, 0)),
			count:  1, limit: LimitCapacity, detail: "1 at once: CPU (4 cores / 4 per trial)",
		},
		{
			name:   "cpu = 0.5 runs 8 at once",
			c:      laptop(0),
			shapes: repeat(10, single(0.5, 300, 0)),
			count:  8, limit: LimitCapacity, detail: "8 at once: CPU (4 cores / 0.5 per trial)",
		},
		{
			name:   "8 GPUs and gpu = 1 run 8 at once",
			c:      testCapacity(testNode("gpu-box", 64, 524288, 8)),
			shapes: repeat(20, single(1, 300, 1)),
			count:  8, limit: LimitCapacity, detail: "8 at once: nvidia/gpu (8 / 1 per trial)",
		},
		{
			name:   "4 CPUs and 1 GPU with cpu = 2 and gpu = 1 run 1 at once",
			c:      laptop(1),
			shapes: repeat(10, single(2, 300, 1)),
			count:  1, limit: LimitCapacity, detail: "1 at once: nvidia/gpu (1 / 1 per trial)",
		},
		{
			name:   "a 16-GPU trial as two groups of 8 runs 2 at once on 4 nodes of 8 GPUs",
			c:      cluster(4, 64, 524288, 8),
			shapes: repeat(20, sixteenGPUsAsTwoGroups),
			max:    10,
			count:  2, limit: LimitCapacity, detail: "2 at once: nvidia/gpu (32 / 16 per trial)",
		},
		{
			name:   "a 16-GPU trial as a group of count 2 runs 2 at once on 4 nodes of 8 GPUs",
			c:      cluster(4, 64, 524288, 8),
			shapes: repeat(20, sixteenGPUsAsACountOfTwo),
			max:    10,
			count:  2, limit: LimitCapacity, detail: "2 at once: nvidia/gpu (32 / 16 per trial)",
		},
		{
			name:   "four trials of a quarter GPU share one GPU",
			c:      laptop(1),
			shapes: repeat(10, single(0.5, 300, 0.25)),
			count:  4, limit: LimitCapacity, detail: "4 at once: nvidia/gpu (1 / 0.25 per trial)",
		},
		{
			name:   "max_concurrent_trials stops admission before the target is full",
			c:      laptop(0),
			shapes: repeat(10, single(0.5, 300, 0)),
			max:    4,
			count:  4, limit: LimitMaxConcurrent, detail: "4 at once: max_concurrent_trials = 4",
		},
		{
			name:   "fewer trials than room runs them all",
			c:      laptop(0),
			shapes: repeat(3, single(1, 300, 0)),
			max:    8,
			count:  3, limit: LimitTrials, detail: "3 at once: all 3 trials",
		},
		{
			name:   "one trial is the only trial",
			c:      laptop(0),
			shapes: repeat(1, single(1, 300, 0)),
			count:  1, limit: LimitTrials, detail: "1 at once: the only trial",
		},
		{
			name:  "no trials run none at once",
			c:     laptop(0),
			count: 0, limit: LimitTrials, detail: "0 at once: there are no trials",
		},
		{
			name:   "memory can be the limit",
			c:      testCapacity(testNode("local", 16, 4096, 0)),
			shapes: repeat(10, single(1, 1024, 0)),
			count:  4, limit: LimitCapacity, detail: "4 at once: memory (4096 MiB / 1024 per trial)",
		},
		{
			name:   "whole cores can be the limit",
			c:      cluster(2, 8, 65536, 0),
			shapes: repeat(10, shape(group("trial", 1, experiment.TaskResources{Task: "t", Cores: 4, MemoryMiB: 300}))),
			count:  4, limit: LimitCapacity, detail: "4 at once: cores (16 / 4 per trial)",
		},
		{
			name:   "trials that fit in total but not per node say so",
			c:      cluster(3, 4, 65536, 0),
			shapes: repeat(10, single(3, 300, 0)),
			count:  3, limit: LimitCapacity,
			detail: "3 at once: CPU (12 cores / 3 per trial); no node has 3 free CPUs (largest: 1)",
		},
		{
			name:      "strict_spread leaves a node that one allocation cannot use alone",
			c:         cluster(3, 64, 65536, 0),
			shapes:    repeat(100, shape(group("worker", 2, task(1, 300, 0)))),
			placement: experiment.PlacementStrictSpread,
			count:     64, limit: LimitCapacity, detail: "64 at once: CPU (192 cores / 2 per trial); no node has 1 free CPU (largest: 0) after placing 1 of 2 allocations, with 1 node ruled out by strict_spread",
		},
		{
			name:   "a large trial waits while smaller ones behind it start",
			c:      laptop(0),
			shapes: []*experiment.Shape{single(3, 300, 0), single(2, 300, 0), single(1, 300, 0), single(0.5, 300, 0)},
			count:  2, limit: LimitCapacity, detail: "2 at once: CPU (4 of 4 cores in use); no node has 0.5 free CPUs (largest: 0)",
		},
		{
			name:   "large trials that wait early are not the limit when small ones fill the target",
			c:      testCapacity(testNode("local", 10, 65536, 0)),
			shapes: []*experiment.Shape{single(3, 300, 0), single(1, 300, 0), single(3, 300, 0), single(1, 300, 0), single(3, 300, 0), single(1, 300, 0), single(1, 300, 0), single(1, 300, 0)},
			count:  6, limit: LimitCapacity, detail: "6 at once: CPU (10 of 10 cores in use); no node has 1 free CPU (largest: 0)",
		},
		{
			name:   "the CPU is the limit when GPU trials wait but CPU-only trials fill the CPUs",
			c:      laptop(1),
			shapes: []*experiment.Shape{single(1, 300, 1), single(1, 300, 0), single(1, 300, 1), single(1, 300, 0), single(1, 300, 0), single(1, 300, 0)},
			count:  4, limit: LimitCapacity, detail: "4 at once: CPU (4 of 4 cores in use); no node has 1 free CPU (largest: 0)",
		},
		{
			name:   "trials with cpu = 0 take no CPU, as Ray's {\"gpu\": 1} does",
			c:      laptop(8),
			shapes: repeat(10, single(0, 300, 1)),
			count:  8, limit: LimitCapacity, detail: "8 at once: nvidia/gpu (8 / 1 per trial)",
		},
		{
			name:   "the GPU is the limit when CPUs are left over",
			c:      testCapacity(testNode("local", 16, 65536, 2)),
			shapes: repeat(8, single(2, 300, 1)),
			count:  2, limit: LimitCapacity, detail: "2 at once: nvidia/gpu (2 / 1 per trial)",
		},
		{
			name:   "trials that can never run are not the limit",
			c:      laptop(0),
			shapes: []*experiment.Shape{single(16, 300, 0), single(1, 300, 0), single(1, 300, 0)},
			count:  2, limit: LimitTrials, detail: "2 at once: all 2 trials that can run on this target",
		},
		{
			name:   "the one trial that can run is named in the singular",
			c:      laptop(0),
			shapes: []*experiment.Shape{single(16, 300, 0), single(1, 300, 0)},
			count:  1, limit: LimitTrials, detail: "1 at once: the only trial that can run on this target",
		},
		{
			name:   "nothing runs when no trial ever fits",
			c:      laptop(0),
			shapes: repeat(5, single(16, 300, 0)),
			count:  0, limit: LimitTrials, detail: "0 at once: no trial can run on this target",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			placement := orPack(tt.placement)
			before := tt.c.Clone()
			got := AtOnce(tt.c, tt.shapes, placement, tt.max)
			assert.Equal(t, tt.count, got.Count)
			assert.Equal(t, tt.limit, got.Limit)
			assert.Equal(t, tt.detail, got.Detail)
			assert.Equal(t, tt.limit == LimitCapacity, got.Unfit != nil)
			assert.Equal(t, before, tt.c, "AtOnce only simulates")
		})
	}
}

func TestAtOnceIgnoresWhatIsRunningNow(t *testing.T) {
	c := laptop(0)
	c.Nodes[0].Used = Usage{CPUShares: 4000, MemoryMiB: 1024}
	got := AtOnce(c, repeat(10, single(1, 300, 0)), experiment.PlacementPack, 0)
	assert.Equal(t, 4, got.Count, "the count is for the experiment's start on an idle target")
}

func TestAtOnceAdmitsSmallerTrialsPastOneThatWaits(t *testing.T) {
	c := cluster(16, 32, 131072, 8)
	shapes := make([]*experiment.Shape, 1000)
	for i := range shapes {
		gpu := float64(1 + i%2)
		shapes[i] = single(2, 4096, gpu)
	}
	got := AtOnce(c, shapes, experiment.PlacementPack, 0)
	// 128 GPUs and trials alternating 1 and 2 GPUs: 42 pairs use 126, the
	// next 1-GPU trial makes 127, the 2-GPU trial after it waits, and the
	// 1-GPU trial after that takes the last GPU: 85 + 1.
	assert.Equal(t, 86, got.Count)
	assert.Equal(t, LimitCapacity, got.Limit)
	assert.Equal(t, "86 at once: nvidia/gpu (128 of 128 in use); no node has 1 free nvidia/gpu (largest: 0)", got.Detail)
}

// The speed of this case is measured by BenchmarkAtOnce; the test holds
// the answer for many trials whether or not they share a shape value.
func TestAtOnceCountsManyTrialsWhetherOrNotTheyShareAShape(t *testing.T) {
	c := cluster(16, 64, 262144, 8)
	shared := single(1, 1024, 1)
	distinct := make([]*experiment.Shape, 100_000)
	for i := range distinct {
		distinct[i] = single(1, 1024, 1)
	}
	tests := []struct {
		name   string
		shapes []*experiment.Shape
	}{
		{"100,000 trials sharing one shape value", repeat(100_000, shared)},
		{"100,000 trials with equal shapes of their own", distinct},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AtOnce(c, tt.shapes, experiment.PlacementPack, 0)
			assert.Equal(t, 128, got.Count)
			assert.Equal(t, LimitCapacity, got.Limit)
		})
	}
}

func BenchmarkAtOnce(b *testing.B) {
	c := cluster(16, 64, 262144, 8)
	distinct := make([]*experiment.Shape, 100_000)
	for i := range distinct {
		distinct[i] = single(0.5, 1024, 0)
	}
	b.Run("100k equal shapes on 16 nodes", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			AtOnce(c, distinct, experiment.PlacementPack, 0)
		}
	})
	b.Run("100k trials of one shape value on the local target", func(b *testing.B) {
		local := laptop(1)
		shapes := repeat(100_000, single(0.5, 300, 0))
		for i := 0; i < b.N; i++ {
			AtOnce(local, shapes, experiment.PlacementPack, 0)
		}
	})
}
