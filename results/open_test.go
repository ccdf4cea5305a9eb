package results

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAddedTrialsJoinTheSummaryAndAResumeFindsThem(t *testing.T) {
	root := t.TempDir()
	all := testTrials(12)
	s, err := Open(root, testInfo(), all[:2])
	require.NoError(t, err)
	added, err := s.Add(all[2:6])
	require.NoError(t, err)
	require.Len(t, added, 4)
	for i, rec := range added {
		assert.Equal(t, all[2+i].ID, rec.ID)
		assert.Equal(t, Pending, rec.Status)
	}
	require.NoError(t, s.WriteSummary(Summary{Status: "running"}))
	// Trial 7 started after the last summary: only its folder tells.
	more, err := s.Add(all[6:8])
	require.NoError(t, err)
	runTrial(t, s, more[1], 0, Terminated, 0.5)
	require.NoError(t, s.Close())

	known, err := KnownTrials(root, testInfo().Name)
	require.NoError(t, err)
	assert.Equal(t, 8, known, "trial 7's folder counts beyond the summary's 6")

	s, err = Open(root, testInfo(), all[:known])
	require.NoError(t, err)
	assert.True(t, s.Resumed(), "the same trials, generated again, resume the folder")
	recs := s.Records()
	require.Len(t, recs, 8)
	assert.Equal(t, Terminated, recs[7].Status)
	require.NoError(t, s.WriteSummary(Summary{Status: "running"}))
	require.NoError(t, s.Close())

	s, err = Open(root, testInfo(), all[:8])
	require.NoError(t, err, "the summary now holds the hash of all eight")
	assert.Equal(t, 0, s.Added())
	require.NoError(t, s.Close())
}

func TestAddRefusesTrialsOutOfOrder(t *testing.T) {
	s := openStore(t, t.TempDir(), 2)
	_, err := s.Add(testTrials(4)[3:])
	require.ErrorContains(t, err, "has index 3; the next is 2")
	assert.Len(t, s.Records(), 2, "nothing was added")
}

func TestKnownTrialsOfAFolderThatDoesNotExistIsNone(t *testing.T) {
	n, err := KnownTrials(t.TempDir(), "nothing")
	require.NoError(t, err)
	assert.Zero(t, n)
}
