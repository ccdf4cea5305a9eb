package planner

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/experiment"
)

func TestUnfitGapIsTheShortfallAsAValue(t *testing.T) {
	shared := cluster(1, 8, 16384, 1)
	shared.FractionalGPUs = true
	shared.Nodes[0].Devices[0].Instances[0].Share = 900
	busy := cluster(2, 8, 16384, 4)
	busy.Nodes[0].Used = Usage{CPUShares: 6500}
	busy.Nodes[1].Used = Usage{CPUShares: 7000}
	tests := []struct {
		name      string
		c         *Capacity
		shape     *experiment.Shape
		placement experiment.Placement
		want      *Gap
	}{
		{
			name:  "GPUs: the request and the most free on one node",
			c:     cluster(3, 32, 65536, 4),
			shape: single(1, 1024, 8),
			want:  &Gap{Dimension: "devices: nvidia/gpu", Device: "nvidia/gpu", Needed: 8, Free: 4},
		},
		{
			name:  "CPU in cores, counting what runs on the nodes",
			c:     busy,
			shape: single(2, 512, 0),
			want:  &Gap{Dimension: "cpu", Needed: 2, Free: 1.5},
		},
		{
			name:  "memory in MiB",
			c:     cluster(2, 8, 4096, 0),
			shape: single(1, 8192, 0),
			want:  &Gap{Dimension: "memory", Needed: 8192, Free: 4096},
		},
		{
			name:  "a shared GPU in fractions of one",
			c:     shared,
			shape: single(1, 512, 0.25),
			want:  &Gap{Dimension: "devices: nvidia/gpu", Device: "nvidia/gpu", Needed: 0.25, Free: 0.1, Shared: true},
		},
		{
			name:  "a device no node has",
			c:     cluster(2, 8, 4096, 0),
			shape: single(1, 100, 1),
			want:  &Gap{Dimension: "devices: nvidia/gpu", Device: "nvidia/gpu", Needed: 1, Missing: true},
		},
		{
			name:      "strict_pack counts the whole trial against one node",
			c:         cluster(4, 64, 262144, 8),
			shape:     shape(group("worker", 3, task(1, 512, 3))),
			placement: experiment.PlacementStrictPack,
			want:      &Gap{Dimension: "devices: nvidia/gpu", Device: "nvidia/gpu", Needed: 9, Free: 8, OnOneNode: true, gpus: true},
		},
		{
			name:      "a placement rule is no lack of resources",
			c:         cluster(2, 8, 16384, 0),
			shape:     shape(group("worker", 3, task(1, 512, 0))),
			placement: experiment.PlacementStrictSpread,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			placement := orPack(tt.placement)
			_, u := tt.c.Fit(tt.shape, placement)
			require.NotNil(t, u)
			if tt.want == nil {
				assert.Nil(t, u.Gap)
				return
			}
			require.NotNil(t, u.Gap)
			assert.InDelta(t, tt.want.Free, u.Gap.Free, 1e-9)
			u.Gap.Free = tt.want.Free
			assert.Equal(t, tt.want, u.Gap)
			assert.Equal(t, u.Dimension, u.Gap.Dimension)
			assert.Equal(t, u.Gap.text(), u.Reason(), "the reason is written from the gap")
		})
	}
}

func TestTryReturnsTheGapOfTheNodeItTried(t *testing.T) {
	c := cluster(1, 8, 16384, 4)
	c.Nodes[0].Devices[0].Instances[0].Share = 1000
	f := newFitter(c, prepare(c, single(1, 512, 4)), experiment.PlacementPack, false)
	gap, _ := f.try(&f.tp.groups[0], 0)
	assert.Equal(t, Gap{Dimension: "devices: nvidia/gpu", Device: "nvidia/gpu", Needed: 4, Free: 3}, gap)

	f = newFitter(c, prepare(c, single(1, 512, 1)), experiment.PlacementPack, false)
	gap, score := f.try(&f.tp.groups[0], 0)
	assert.Empty(t, gap.Dimension, "a fit has no gap")
	assert.Positive(t, score)
}
