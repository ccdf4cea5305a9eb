package results

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAnAdaptiveTrialKeepsTheValuesItStartedWithWhenTuneDiesBeforeItWritesAnything(t *testing.T) {
	root := t.TempDir()
	info := testInfo()
	info.Adaptive = true
	unsuggested := func() []TrialInfo {
		trials := testTrials(3)
		for i := range trials {
			trials[i].Params = nil
		}
		return trials
	}
	s, err := Open(root, info, unsuggested())
	require.NoError(t, err)
	rec := s.Records()[1]
	rec.Params = map[string]any{"x": 0.125, "opt": "sgd"}
	rec.Status, rec.Attempts = Running, 1
	_, _, err = s.BeginAttempt(rec, 0, t0)
	require.NoError(t, err)
	// The attempt wrote no output and did not end: only an eager
	// params.json holds its values.
	_, err = os.Stat(filepath.Join(s.Dir(), rec.ID, ParamsFile))
	require.NoError(t, err, "params.json is written before the attempt starts")
	require.NoError(t, s.Close())

	s, err = Open(root, info, unsuggested())
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	assert.Equal(t, map[string]any{"x": 0.125, "opt": "sgd"}, s.Records()[1].Params)
	assert.Nil(t, s.Records()[2].Params, "a trial never started has no values yet")
}
