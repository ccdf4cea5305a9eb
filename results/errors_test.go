package results

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAFailedAttemptLeavesErrorTxtWithItsStderrTail(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root, 2)
	recs := s.Records()
	failed, fine := recs[0], recs[1]

	failed.Status, failed.Attempts = Running, 1
	_, errw, err := s.BeginAttempt(failed, 0, t0)
	require.NoError(t, err)
	errw.WriteLine("Traceback (most recent call last):")
	errw.WriteLine("")
	errw.WriteLine("\x1b[31mRuntimeError: CUDA out of memory\x1b[0m")
	assert.Equal(t, []string{"RuntimeError: CUDA out of memory"}, s.StderrTail(failed, 1))
	failed.Status, failed.Error, failed.ExitCode = Error, "train exited with status 1", 1
	require.NoError(t, s.EndAttempt(failed))

	b, err := os.ReadFile(filepath.Join(root, "quadratic", failed.ID, ErrorFile))
	require.NoError(t, err)
	assert.Equal(t, "Trial "+failed.ID+", attempt 0, failed at 0001-01-01T00:00:00Z\n"+
		"Error: train exited with status 1\n"+
		"Exit status: 1\n\n"+
		"Last lines of stderr.log:\n"+
		"  Traceback (most recent call last):\n"+
		"  RuntimeError: CUDA out of memory\n", string(b))

	runTrial(t, s, fine, 0, Terminated, 0.5)
	assert.NoFileExists(t, filepath.Join(root, "quadratic", fine.ID, ErrorFile), "a trial that never failed has no error.txt")
	assert.Nil(t, s.StderrTail(fine, 3), "an ended attempt has no tail to give")
}

func TestLoadTellsARunningExperimentFromOneWhoseTuneWasKilled(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root, 2)
	rec := s.Records()[0]
	runTrial(t, s, rec, 0, "", 0.5)
	rec.Status = Running
	require.NoError(t, s.WriteSummary(Summary{Status: "running"}))

	sum, records, err := Load(root, "quadratic")
	require.NoError(t, err)
	assert.Equal(t, "running", sum.Status, "the store holds the folder")
	assert.Equal(t, os.Getpid(), sum.PID)
	assert.Equal(t, Running, records[0].Status)

	// Closing without a final summary is what a killed tune leaves: the
	// lock goes with the process.
	require.NoError(t, s.Close())
	sum, records, err = Load(root, "quadratic")
	require.NoError(t, err)
	assert.Equal(t, Interrupted, sum.Status)
	assert.Equal(t, Pending, records[0].Status, "its running trials run again on resume")
}
