package nomadsim

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAMockJobRunsToCompletion(t *testing.T) {
	srv, c := startSim(t, Options{TimeScale: 100})
	job := mockJob("smoke", 2, map[string]any{"run_for": "1s", "stdout_string": "hello\n"})
	resp, _, err := c.Jobs().Register(job, nil)
	require.NoError(t, err)
	require.NotEmpty(t, resp.EvalID)
	waitIdle(t, srv)
	eventually(t, func() bool { return allDone(jobAllocs(t, c, "smoke"), "complete") }, "allocations complete")
	info, _, err := c.Jobs().Info("smoke", nil)
	require.NoError(t, err)
	eventually(t, func() bool {
		info, _, err = c.Jobs().Info("smoke", nil)
		return err == nil && *info.Status == "dead"
	}, "job dead")
	sum, _, err := c.Jobs().Summary("smoke", nil)
	require.NoError(t, err)
	assert.Equal(t, 2, sum.Summary["main"].Complete)
}
