package planner

import (
	"testing"

	"github.com/stretchr/testify/require"

	tunehcl "github.com/nomad-tune/tune/hcl"
)

// BenchmarkPlan100k generates and plans the 100,000 trials of
// scripts/testdata/plan-100k.hcl on a 16-CPU, 4-GPU local target.
// scripts/bench-plan.sh measures the same through the binary, with peak
// memory.
func BenchmarkPlan100k(b *testing.B) {
	exp, diags := tunehcl.LoadFile("../scripts/testdata/plan-100k.hcl", tunehcl.Options{})
	require.False(b, diags.HasErrors(), diags.Error())
	c := testCapacity(testNode("local", 16, 65536, 4))
	c.Target, c.FractionalGPUs = "local", true
	b.ReportAllocs()
	for b.Loop() {
		trials, diags := Trials(exp)
		require.False(b, diags.HasErrors())
		plan, _ := Build(exp, trials, c)
		require.Equal(b, 100_000, plan.NumTrials)
	}
}
