package report

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/results"
)

var (
	figurePattern = regexp.MustCompile(`(?s)<figure id="fig-([^"]+)"[^>]*>(.*?)</figure>`)
	rowPattern    = regexp.MustCompile(`<tr[^>]*><td`)
	// fetchPattern finds anything a browser would load from elsewhere.
	fetchPattern = regexp.MustCompile(`(?i)(<script[^>]+src=|<link[^>]+href=|<img[^>]+src=|url\(|@import)`)
)

// figuresOf maps each figure's id to its body.
func figuresOf(page string) map[string]string {
	out := map[string]string{}
	for _, m := range figurePattern.FindAllStringSubmatch(page, -1) {
		out[m[1]] = m[2]
	}
	return out
}

func TestThePageShowsEveryPlotOrSaysWhyNot(t *testing.T) {
	tests := []struct {
		name      string
		f         fixture
		plotted   []string
		empty     []string
		rows      int
		contains  []string
		errTitles int
	}{
		{
			name:     "a finished experiment plots everything",
			f:        fixtures[0].f,
			plotted:  []string{"curves", "curves-time", "best-time", "best-count", "parallel", "param-layers", "param-lr", "param-opt", "schedule", "utilisation"},
			rows:     24,
			contains: []string{"3 trials — max_concurrent_trials", "Nomad job tune-demo-00006-00b99a", "ValueError: lr", "stopped early (6)", "lr (trial parameter, log scale)", "training_iteration (reports)", "time_total_s (s since the attempt started)", "wall time since the experiment started (s)", "trials finished (count)", "capacity in use (%)", "trials running (count)"},
		},
		{
			name:     "no finished trial leaves every plot empty with a reason",
			f:        fixtures[1].f,
			empty:    []string{"curves", "curves-time", "best-time", "best-count", "parallel", "param-layers", "param-lr", "param-opt", "schedule", "utilisation"},
			rows:     5,
			contains: []string{"none yet", "No trial has started yet."},
		},
		{
			name:     "errors only: the schedule and the errors, no metric plots",
			f:        fixtures[2].f,
			plotted:  []string{"schedule", "utilisation"},
			empty:    []string{"curves", "best-time", "best-count", "parallel", "param-lr"},
			rows:     4,
			contains: []string{"Errored trials (4)", "Traceback (most recent call last):", "ValueError: lr"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, m := buildFixture(t, tt.f)
			page, err := Render(m, false)
			require.NoError(t, err)
			text := string(page)
			figs := figuresOf(text)
			for _, id := range tt.plotted {
				require.Contains(t, figs, id)
				assert.Regexp(t, `(?s)<svg .*<path`, figs[id], id)
			}
			for _, id := range tt.empty {
				require.Contains(t, figs, id)
				assert.Contains(t, figs[id], `class="empty"`, id)
				assert.NotContains(t, figs[id], "<svg", id)
			}
			assert.Len(t, rowPattern.FindAllString(text, -1), tt.rows)
			for _, s := range tt.contains {
				// The page is too long to print when this fails.
				assert.True(t, strings.Contains(text, s), "the page shows %q", s)
			}
			assert.Empty(t, fetchPattern.FindAllString(text, -1), "the page must load nothing from elsewhere")
			assert.False(t, strings.Contains(text, `http-equiv="refresh"`), "a final page does not reload itself")

			path, err := Write(root, tt.f.name, fixtureStart, true)
			require.NoError(t, err)
			written, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, filepath.Join(root, tt.f.name, File), path)
			assert.True(t, strings.Contains(string(written), `http-equiv="refresh"`), "a page written while running reloads itself")
		})
	}
}

func TestTheTableIsSortedBestFirstAndMarksTheBest(t *testing.T) {
	_, m := buildFixture(t, fixtures[0].f)
	page, err := Render(m, false)
	require.NoError(t, err)
	text := string(page)
	first := strings.Index(text, `<tr class="best"><td class="n" data-s="21">`+m.Best+`</td>`)
	require.GreaterOrEqual(t, first, 0, "the best trial's row is marked")
	assert.Less(t, first, strings.Index(text, "<tbody>")+len("<tbody>\n")+1, "and comes first")
}

func TestWhatTrialsWroteIsTextOnThePage(t *testing.T) {
	_, m := buildFixture(t, fixtures[0].f)
	evil := `<script>document.title="owned"</script>`
	for _, tr := range m.Trials {
		tr.Params["opt"] = evil
		if len(tr.ErrorTail) > 0 {
			tr.ErrorTail = append(tr.ErrorTail, evil)
		}
	}
	page, err := Render(m, false)
	require.NoError(t, err)
	text := string(page)
	assert.False(t, strings.Contains(text, evil), "a value is never markup, in the table, the errors or a plot's labels")
	assert.True(t, strings.Contains(text, "&lt;script&gt;document.title="), "it is shown as text")
}

func TestThePageSaysWhatTheSchedulerDid(t *testing.T) {
	_, m := buildFixture(t, fixtures[0].f)
	page, err := Render(m, false)
	require.NoError(t, err)
	assert.NotContains(t, string(page), "submitted → running", "no figures, no lines")

	m.Summary.Scheduling = &results.Scheduling{
		Attempts: 3, Ran: 2, BusyS: 90,
		SubmitToRunning: results.Latency{Count: 2, P50S: 0.5, P99S: 1.25, MaxS: 1.25},
		Concurrency:     results.Concurrency{Peak: 2, Mean: 1.5},
		Utilisation:     []results.Utilisation{{Resource: "nvidia/gpu", Unit: "devices", Capacity: 4, Mean: 3, Fraction: 0.75}},
	}
	page, err = Render(m, false)
	require.NoError(t, err)
	text := string(page)
	for _, line := range []string{
		"<dt>attempts that ran</dt><dd>2 of 3, over 1m30s busy</dd>",
		"<dt>submitted → running</dt><dd>p50 500ms, p99 1.25s, max 1.25s (2 attempts)</dd>",
		"<dt>admitted → running</dt><dd>not known</dd>",
		"<dt>running at once</dt><dd>peak 2, mean 1.5</dd>",
		"<dt>nvidia/gpu</dt><dd>75.0% of 4 devices</dd>",
	} {
		assert.Contains(t, text, line)
	}
}
