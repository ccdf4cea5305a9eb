package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/experiment"
)

func TestEndpoint(t *testing.T) {
	assert.Equal(t, "/v1/job/*/plan", endpoint("/v1/job/tune-x-00001-abc/plan"))
	assert.Equal(t, "/v1/job/*", endpoint("/v1/job/tune-x-00001-abc"))
	assert.Equal(t, "/v1/node/*", endpoint("/v1/node/5f2c"))
	assert.Equal(t, "/v1/client/fs/logs/*", endpoint("/v1/client/fs/logs/0a1b2c"))
	assert.Equal(t, "/v1/jobs", endpoint("/v1/jobs"))
}

func TestParseScales(t *testing.T) {
	got, err := parseScales("600, 5")
	require.NoError(t, err)
	assert.Equal(t, []float64{600, 5}, got)
	for _, bad := range []string{"", "0", "-1", "fast"} {
		_, err := parseScales(bad)
		assert.Error(t, err, bad)
	}
}

func TestSummarise(t *testing.T) {
	s := summarise([]time.Duration{3 * time.Millisecond, time.Millisecond, 2 * time.Millisecond})
	assert.Equal(t, 3, s.n)
	assert.Equal(t, 2*time.Millisecond, s.mean)
	assert.Equal(t, 2*time.Millisecond, s.p50)
	assert.Equal(t, 3*time.Millisecond, s.p99)
	assert.InDelta(t, 500, s.perSecond(), 1e-9)
	assert.Zero(t, summarise(nil).perSecond())
}

func TestLogCounter(t *testing.T) {
	l, counter := config{logLevel: "off"}.logger()
	l.Named("controller").Info("fine")
	assert.Empty(t, counter.summary())
	l.Named("nomad").Warn("slow")
	l.Named("controller").Error("cannot record a trial", "error", "too many open files")
	s := counter.summary()
	assert.Contains(t, s, "1 error and 1 warning")
	assert.Contains(t, s, "cannot record a trial")
	assert.Contains(t, s, "too many open files")
}

// The scenario b experiment must load with either task driver: the
// rendezvous script goes into HCL as a string literal.
func TestGPUExperimentLoads(t *testing.T) {
	for _, drv := range []string{"raw_exec", "mock_driver"} {
		c := config{bGangs: 2, bSingles: 4, bGangGPUs: 4, bGangAllocs: 2, bGangRun: 20 * time.Minute, bSingleRun: 10 * time.Minute,
			bPlacement: "pack", bAdmission: "greedy", bDriver: drv, timeScale: 600, limit: time.Minute}
		w := gpuWorkload{c: c, k: c.bSingles/c.bGangs + 1}
		exp, trials, err := load(t.TempDir(), "bench-b", w.experimentSource("/tmp/rdv"))
		require.NoError(t, err, drv)
		require.Len(t, trials, 6)
		gangs := 0
		for _, tr := range trials {
			if w.gang(tr.Index) {
				gangs++
				assert.Equal(t, 2, tr.Shape.Groups[0].Count)
			} else {
				assert.Equal(t, 1, tr.Shape.Groups[0].Count)
			}
		}
		assert.Equal(t, 2, gangs)
		assert.Equal(t, "bench-b", exp.Name)
		assert.Equal(t, experiment.AdmissionGreedy, exp.Admission, "the experiment runs in the admission order asked for")
	}
	assert.False(t, strings.Contains(rendezvous, "${") || strings.Contains(rendezvous, "%{"), "the script must not hold HCL template sequences")
}
