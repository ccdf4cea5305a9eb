//go:build unix

package test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shellExperiment is an experiment of samples trials of trial.sh, each
// with a parameter x, minimising loss.
func shellExperiment(name string, samples int) string {
	return fmt.Sprintf(`experiment %q {
  metric      = "loss"
  mode        = "min"
  num_samples = %d
  space {
    x = uniform(0, 1)
  }
  resources {
    memory = 64
  }
  task "train" {
    command = "sh"
    args    = ["trial.sh"]
  }
}
`, name, samples)
}

// trialIDs are the experiment's trial IDs by index: an ID starts with
// its trial's index.
func (w *workspace) trialIDs(t *testing.T, name string, n int) map[int]string {
	t.Helper()
	ids := map[int]string{}
	for i := range n {
		dirs, err := filepath.Glob(filepath.Join(w.results, name, fmt.Sprintf("%05d-*", i)))
		require.NoError(t, err)
		require.Len(t, dirs, 1)
		ids[i] = filepath.Base(dirs[0])
	}
	return ids
}

func TestApplyRecordsNaNAndNeverPicksItAsBest(t *testing.T) {
	w := newWorkspace(t)
	// Trial 0 diverges after a good start, as Python's json.dumps writes
	// it; trial 1 does worse than trial 0 once did, and is the best.
	w.write(t, "trial.sh", `if [ "$TUNE_TRIAL_INDEX" = 0 ]; then
  echo '@tune {"loss": 0.1}'
  echo '@tune {"loss": NaN, "grad": Infinity}'
else
  echo '@tune {"loss": 0.5, "grad": -Infinity}'
fi
`)
	w.write(t, "exp.hcl", shellExperiment("diverged", 2))
	r := w.apply(t, "-local-cpus", "2", "-local-memory", "64GiB")
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	assert.NotContains(t, r.stdout+r.stderr, "warning")
	ids := w.trialIDs(t, "diverged", 2)
	assert.Contains(t, r.stdout, "Best trial: "+ids[1]+" with loss=0.5")

	b, err := os.ReadFile(filepath.Join(w.results, "diverged", ids[0], "result.json"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Len(t, lines, 2)
	assert.Contains(t, lines[1], `"loss":NaN`)
	assert.Contains(t, lines[1], `"grad":Infinity`)

	table := tune(t, "", "results", "diverged", "-results", w.results)
	require.Equal(t, 0, table.code, table.stderr)
	assert.Contains(t, table.stdout, "Best trial: "+ids[1]+" with loss=0.5")
	assert.Regexp(t, ids[0]+`\s+TERMINATED.*\snan\s+inf\n`, table.stdout)
	assert.Regexp(t, ids[1]+`\s+TERMINATED.*\s0.5\s+-inf\n`, table.stdout)
	js := tune(t, "", "results", "diverged", "-results", w.results, "-json")
	require.Equal(t, 0, js.code, js.stderr)
	assert.Contains(t, js.stdout, `"loss": NaN`)
	assert.Contains(t, js.stdout, `"best_trial": "`+ids[1]+`"`)
}

func TestApplyExitsOneWhenTrialsNeverReportTheMetric(t *testing.T) {
	w := newWorkspace(t)
	w.write(t, "trial.sh", `echo '@tune: {"loss": 1}'
echo '@tune {"val_loss": 0.5, "epoch": 1}'
echo '@tune {"val_loss": 0.4, "epoch": 2}'
`)
	w.write(t, "exp.hcl", shellExperiment("misspelt", 2))
	r := w.apply(t, "-local-cpus", "2", "-local-memory", "64GiB")
	require.Equal(t, 1, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	ids := w.trialIDs(t, "misspelt", 2)

	var metricWarnings, protocolWarnings []string
	for _, l := range strings.Split(r.stdout, "\n") {
		switch {
		case strings.HasPrefix(l, "warning: ") && strings.Contains(l, `metric = "loss"`):
			metricWarnings = append(metricWarnings, l)
		case strings.HasPrefix(l, "warning: ") && strings.Contains(l, `not "@tune "`):
			protocolWarnings = append(protocolWarnings, l)
		}
	}
	assert.Len(t, protocolWarnings, 2, "the near miss is explained once per trial:\n%s", r.stdout)
	require.Len(t, metricWarnings, 2, "one warning per trial, at its first report:\n%s", r.stdout)
	for _, id := range ids {
		assert.Contains(t, r.stdout, "warning: trial "+id+` reported epoch, val_loss; metric = "loss" needs a number in every report`)
		assert.Contains(t, r.stdout, "  "+id+" reported epoch, val_loss\n")
	}
	assert.Contains(t, r.stdout, "Trials that never reported loss, the experiment's metric (2):")
	assert.Contains(t, r.stdout, "No finished trial has reported loss yet.")
	assert.Contains(t, r.stderr, "tune apply: 2 trials finished without reporting loss, the experiment's metric")

	table := tune(t, "", "results", "misspelt", "-results", w.results)
	require.Equal(t, 0, table.code, table.stderr)
	assert.Contains(t, table.stdout, "Trials that never reported loss, the experiment's metric (2):")
}

func TestApplyRefusesReportsNestedTooDeepOrTooLong(t *testing.T) {
	w := newWorkspace(t)
	// Trial 0 prints a report nested 9,900 deep (59 KB), trial 1 one of
	// 99 KB; both then report properly.
	w.write(t, "trial.sh", `key=a
[ "$TUNE_TRIAL_INDEX" = 1 ] && key=aaaaa
awk -v key="$key" 'BEGIN { s = "@tune "; for (i = 0; i < 9900; i++) s = s "{\"" key "\":"; s = s "1"; for (i = 0; i < 9900; i++) s = s "}"; print s }'
echo '@tune {"loss": 1}'
`)
	w.write(t, "exp.hcl", shellExperiment("deep", 2))
	r := w.apply(t, "-local-cpus", "2", "-local-memory", "64GiB")
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	ids := w.trialIDs(t, "deep", 2)
	assert.Contains(t, r.stdout, "warning: trial "+ids[0]+": task train printed an invalid @tune line, kept as ordinary output: the @tune line has more than 16 levels of nesting")
	assert.Contains(t, r.stdout, "warning: trial "+ids[1]+": task train printed an invalid @tune line, kept as ordinary output: the @tune line is 99007 bytes long, more than the limit of 65536")
	for _, id := range ids {
		rows := w.resultRows(t, "deep", id)
		require.Len(t, rows, 1, "only the proper report is recorded")
		assert.Equal(t, 1.0, rows[0]["loss"])
		for _, f := range []string{"trial.json", "result.json", "progress.csv"} {
			st, err := os.Stat(filepath.Join(w.results, "deep", id, f))
			require.NoError(t, err)
			assert.Less(t, st.Size(), int64(4096), "%s of trial %s", f, id)
		}
		assert.Greater(t, len(w.trialLog(t, "deep", id, "stdout.log")), 59000, "the refused line is kept in the log")
	}
	st, err := os.Stat(filepath.Join(w.results, "deep", "experiment.json"))
	require.NoError(t, err)
	assert.Less(t, st.Size(), int64(4096))
}
