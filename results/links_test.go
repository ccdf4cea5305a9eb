//go:build unix

package results

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// victim is a file outside the results folder that a planted link points
// at; it must come through untouched.
func victim(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "victim")
	require.NoError(t, os.WriteFile(path, []byte("precious\n"), 0o600))
	return path
}

func assertUntouched(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "precious\n", string(b), "the file a link points at is untouched")
}

func TestLinksInTheResultsFolderAreNeverFollowed(t *testing.T) {
	t.Run("a lock file that links to another file is refused", func(t *testing.T) {
		root, v := t.TempDir(), victim(t)
		require.NoError(t, os.Mkdir(filepath.Join(root, "quadratic"), 0o777))
		require.NoError(t, os.Symlink(v, filepath.Join(root, "quadratic", lockName)))
		_, err := Open(root, testInfo(), testTrials(1))
		var linkErr *LinkError
		require.ErrorAs(t, err, &linkErr)
		assert.Equal(t, filepath.Join(root, "quadratic", lockName), linkErr.Path)
		assert.Contains(t, err.Error(), "is a symbolic link; tune does not write through links")
		assertUntouched(t, v)
	})
	t.Run("an experiment folder that links elsewhere is refused", func(t *testing.T) {
		root, elsewhere := t.TempDir(), t.TempDir()
		require.NoError(t, os.Symlink(elsewhere, filepath.Join(root, "quadratic")))
		_, err := Open(root, testInfo(), testTrials(1))
		var linkErr *LinkError
		require.ErrorAs(t, err, &linkErr)
		entries, err := os.ReadDir(elsewhere)
		require.NoError(t, err)
		assert.Empty(t, entries, "nothing was written through the link")
	})
	t.Run("a trial folder planted as a link during a run is refused", func(t *testing.T) {
		root, elsewhere := t.TempDir(), t.TempDir()
		s := openStore(t, root, 1)
		rec := s.Records()[0]
		require.NoError(t, os.WriteFile(filepath.Join(elsewhere, ResultFile), []byte("precious\n"), 0o600))
		require.NoError(t, os.Symlink(elsewhere, filepath.Join(root, "quadratic", rec.ID)))
		rec.Attempts = 2 // a retry removes the last attempt's results
		_, _, err := s.BeginAttempt(rec, 1, t0)
		var linkErr *LinkError
		require.ErrorAs(t, err, &linkErr)
		assertUntouched(t, filepath.Join(elsewhere, ResultFile))
	})
	t.Run("a trial folder swapped for a link while the attempt runs redirects nothing", func(t *testing.T) {
		root, elsewhere := t.TempDir(), t.TempDir()
		s := openStore(t, root, 1)
		rec := s.Records()[0]
		rec.Attempts = 1
		out, _, err := s.BeginAttempt(rec, 0, t0)
		require.NoError(t, err)
		out.WriteLine("first line") // makes and opens the trial's folder
		dir := filepath.Join(root, "quadratic", rec.ID)
		moved := filepath.Join(root, "moved")
		require.NoError(t, os.Rename(dir, moved))
		require.NoError(t, os.Symlink(elsewhere, dir))

		_, err = s.Report(rec, map[string]any{"loss": 1.0}, t0)
		require.NoError(t, err)
		out.WriteLine("second line")
		rec.Status = Terminated
		require.NoError(t, s.EndAttempt(rec))
		entries, err := os.ReadDir(elsewhere)
		require.NoError(t, err)
		assert.Empty(t, entries, "nothing was written through the link")
		assert.Len(t, readLines(t, filepath.Join(moved, ResultFile)), 1, "the attempt's folder got its report")
		assert.FileExists(t, filepath.Join(moved, TrialFile))
	})
	t.Run("a trial folder that links elsewhere stops a resume", func(t *testing.T) {
		root, elsewhere := t.TempDir(), t.TempDir()
		s := openStore(t, root, 2)
		runTrial(t, s, s.Records()[0], 0, Terminated, 0.5)
		require.NoError(t, s.Close())
		require.NoError(t, os.Symlink(elsewhere, filepath.Join(root, "quadratic", s.Records()[1].ID)))
		_, err := Open(root, testInfo(), testTrials(2))
		var linkErr *LinkError
		require.ErrorAs(t, err, &linkErr)
	})
	for _, name := range []string{ResultFile, StdoutFile} {
		t.Run(name+" that links to another file is not written through", func(t *testing.T) {
			root, v := t.TempDir(), victim(t)
			s := openStore(t, root, 1)
			rec := s.Records()[0]
			rec.Attempts = 1
			out, _, err := s.BeginAttempt(rec, 0, t0)
			require.NoError(t, err)
			dir := filepath.Join(root, "quadratic", rec.ID)
			require.NoError(t, os.MkdirAll(dir, 0o777))
			require.NoError(t, os.Symlink(v, filepath.Join(dir, name)))
			out.WriteLine("hello")
			_, reportErr := s.Report(rec, map[string]any{"loss": 1.0}, t0)
			endErr := s.EndAttempt(rec)
			var linkErr *LinkError
			if name == ResultFile {
				require.ErrorAs(t, reportErr, &linkErr)
			} else {
				require.ErrorAs(t, endErr, &linkErr, "the log's write error is the attempt's")
			}
			assertUntouched(t, v)
		})
	}
}

func TestAResumeRepairsLinesAKilledTuneLeftHalfWritten(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root, 2)
	finished, running := s.Records()[0], s.Records()[1]
	runTrial(t, s, finished, 0, Terminated, 0.5, 0.25)
	runTrial(t, s, running, 0, "", 0.5)
	require.NoError(t, s.Close())
	// What kill -9 in the middle of a write, or a full disk, leaves.
	dir := filepath.Join(root, "quadratic")
	appendTo := func(id, name, text string) {
		f, err := os.OpenFile(filepath.Join(dir, id, name), os.O_WRONLY|os.O_APPEND, 0)
		require.NoError(t, err)
		_, err = f.WriteString(text)
		require.NoError(t, err)
		require.NoError(t, f.Close())
	}
	appendTo(finished.ID, ResultFile, `{"loss": 0.1`)
	appendTo(finished.ID, ProgressFile, `0.1,`)
	appendTo(running.ID, StdoutFile, "half a li")

	s = openStore(t, root, 2)
	rows := readLines(t, filepath.Join(dir, finished.ID, ResultFile))
	require.Len(t, rows, 2, "the partial line is dropped")
	for _, row := range rows {
		assert.True(t, json.Valid([]byte(row)), "result.json stays JSON lines: %q", row)
	}
	assert.Len(t, readCSV(t, filepath.Join(dir, finished.ID, ProgressFile)), 3, "a header and two whole rows")

	rec := s.Records()[1]
	rec.Attempts = 2
	out, _, err := s.BeginAttempt(rec, 1, t0)
	require.NoError(t, err)
	out.WriteLine("second attempt")
	require.NoError(t, s.EndAttempt(rec))
	lines := readLines(t, filepath.Join(dir, running.ID, StdoutFile))
	require.Len(t, lines, 5)
	assert.Equal(t, "half a li", lines[2], "the cut line is ended, not glued to the next")
	assert.True(t, strings.HasPrefix(lines[3], "=== attempt 1 started"), lines[3])
	assert.Equal(t, "second attempt", lines[4])
}

func TestResultFilesHonourTheUmask(t *testing.T) {
	old := syscall.Umask(0o002)
	defer syscall.Umask(old)
	root := t.TempDir()
	s := openStore(t, root, 1)
	rec := s.Records()[0]
	runTrial(t, s, rec, 0, Terminated, 0.5)
	require.NoError(t, s.WriteSummary(Summary{Status: "finished"}))
	dir := filepath.Join(root, "quadratic")
	for _, path := range []string{
		filepath.Join(dir, ExperimentFile), filepath.Join(dir, TrialsCSVFile), filepath.Join(dir, lockName),
		filepath.Join(dir, rec.ID, TrialFile), filepath.Join(dir, rec.ID, ParamsFile), filepath.Join(dir, rec.ID, ResultFile),
		filepath.Join(dir, rec.ID, ProgressFile), filepath.Join(dir, rec.ID, StdoutFile),
	} {
		fi, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o664), fi.Mode().Perm(), path)
	}
	for _, path := range []string{dir, filepath.Join(dir, rec.ID)} {
		fi, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o775), fi.Mode().Perm(), path)
	}
}

func TestLoadReadsOnlyExperimentsInsideTheResultsFolder(t *testing.T) {
	root := filepath.Join(t.TempDir(), "results")
	openStore(t, filepath.Join(root, "..", "outside"), 1)
	for _, name := range []string{"../outside/quadratic", "..", ".", "/etc", "a/b", ""} {
		_, _, err := Load(root, name)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "is not an experiment name", name)
	}
	require.NoError(t, os.MkdirAll(root, 0o777))
	require.NoError(t, os.Symlink(filepath.Join(root, "..", "outside", "quadratic"), filepath.Join(root, "linked")))
	_, _, err := Load(root, "linked")
	var linkErr *LinkError
	assert.ErrorAs(t, err, &linkErr, "an experiment folder that is a link leads outside the results folder")
}
