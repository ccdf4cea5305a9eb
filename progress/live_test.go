package progress

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/controller"
	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/results"
)

var ansi = regexp.MustCompile(`\r|\x1b\[[0-9]*[A-Za-z]`)

// screen is what a write shows once the escape sequences are taken out.
func screen(s string) []string {
	return strings.Split(strings.TrimSuffix(ansi.ReplaceAllString(s, ""), "\n"), "\n")
}

// busy is 4 trials running, 8 done (one errored), 12 pending, with a best.
func busy(elapsed time.Duration) *controller.Snapshot {
	s := snapshot(elapsed)
	s.TimeBudget = time.Hour
	s.Running, s.Pending, s.Terminated, s.Errored = 4, 12, 7, 1
	s.InUse.CPUCores, s.InUse.MemoryMiB = 2, 512
	for i := range 4 {
		s.Active = append(s.Active, trial(fmt.Sprintf("0001%d-run%03d", i, i), results.Running, float64(i)+0.5, 0.001*float64(i+1), i*10, 1/float64(i+3), time.Duration(i+1)*time.Minute))
	}
	s.Recent = []controller.TrialView{
		trial("00003-ab12cd", results.Terminated, 1.2, 0.001, 5, 0.0123, 83*time.Second),
		trial("00002-ffffff", results.Error, -3.25, 0.0456789, 2, 9.87654, 4*time.Second),
	}
	s.Best = &s.Recent[0]
	return s
}

func TestTheLiveBlockShowsTheExperimentTheBestTrialAndATable(t *testing.T) {
	var out bytes.Buffer
	r := New(&out, Options{Live: true, Width: 200})
	r.Tick(busy(83 * time.Second))
	assert.Equal(t, []string{
		"tune: quadratic  elapsed 0:01:23 (budget 1:00:00)  running 4 · pending 12 · done 8 (1 error)  CPU 2/2 · memory 0.5/23.4 GiB · GPU 0/0",
		"best so far: 00003-ab12cd loss=0.0123 (x=1.2, lr=0.001)",
		"TRIAL         STATUS          x       lr  ITER    loss     TIME",
		"00010-run000  RUNNING       0.5    0.001     0          0:01:00",
		"00011-run001  RUNNING       1.5    0.002    10    0.25  0:02:00",
		"00012-run002  RUNNING       2.5    0.003    20     0.2  0:03:00",
		"00013-run003  RUNNING       3.5    0.004    30  0.1667  0:04:00",
		"00003-ab12cd  TERMINATED    1.2    0.001     5  0.0123  0:01:23",
		"00002-ffffff  ERROR       -3.25  0.04568     2   9.877  0:00:04",
	}, screen(out.String()))
}

// draws runs r through the calls and returns what each one wrote.
func draws(out *bytes.Buffer, calls ...func()) []string {
	var writes []string
	for _, call := range calls {
		out.Reset()
		call()
		writes = append(writes, out.String())
	}
	return writes
}

func TestLaterDrawsMoveUpOverTheBlockAndOverwriteItLineByLine(t *testing.T) {
	var out bytes.Buffer
	r := New(&out, Options{Live: true, Width: 200})
	writes := draws(&out,
		func() { r.Tick(busy(83 * time.Second)) },
		func() { r.Tick(busy(84 * time.Second)) },
	)
	assert.NotRegexp(t, `\x1b\[[0-9]*A`, writes[0], "nothing is above the first block to move over")
	assert.True(t, strings.HasPrefix(writes[1], "\r\x1b[9A\x1b[2Ktune: quadratic  elapsed 0:01:24"), "%q", writes[1])
	assert.Equal(t, 9, strings.Count(writes[1], "\x1b[2K"), "every line is cleared before it is written")
	assert.NotContains(t, writes[1], "\x1b[2J", "the screen is never cleared whole")
	assert.Contains(t, writes[1], "00013-run003  RUNNING       3.5    0.004    30  0.1667  0:04:00\n")
}

func TestAShorterBlockClearsWhatIsLeftBelowIt(t *testing.T) {
	var out bytes.Buffer
	r := New(&out, Options{Live: true, Width: 200})
	short := busy(84 * time.Second)
	short.Active, short.Recent = nil, nil
	writes := draws(&out,
		func() { r.Tick(busy(83 * time.Second)) },
		func() { r.Tick(short) },
	)
	assert.True(t, strings.HasPrefix(writes[1], "\r\x1b[9A"))
	assert.True(t, strings.HasSuffix(writes[1], "\n\x1b[J"), "%q", writes[1])
	assert.Len(t, screen(writes[1]), 2)
}

func TestRedrawsAreThrottledByTheSnapshotClock(t *testing.T) {
	var out bytes.Buffer
	r := New(&out, Options{Live: true, Width: 200})
	fewer := func(elapsed time.Duration) *controller.Snapshot {
		s := busy(elapsed)
		s.Pending = 11
		return s
	}
	v := busy(0).Active[0]
	writes := draws(&out,
		func() { r.Changed(change(controller.TrialReported, v, ""), busy(83*time.Second)) },
		func() { r.Changed(change(controller.TrialReported, v, ""), fewer(83*time.Second+100*time.Millisecond)) },
		func() { r.Tick(fewer(83*time.Second + 150*time.Millisecond)) },
		func() { r.Tick(fewer(83*time.Second + 250*time.Millisecond)) },
		func() { r.Tick(fewer(83*time.Second + 500*time.Millisecond)) },
		func() { r.Done(fewer(83*time.Second + 510*time.Millisecond)) },
	)
	assert.NotEmpty(t, writes[0], "the first change draws at once")
	assert.Empty(t, writes[1], "a change 100ms after a draw waits")
	assert.Empty(t, writes[2], "so does a tick")
	assert.Contains(t, writes[3], "pending 11", "the next tick due shows it")
	assert.Empty(t, writes[4], "an unchanged block is not written again")
	assert.Empty(t, writes[5], "Done draws whatever the clock, but nothing changed")
}

func TestWarningsAndFailuresArePrintedAboveTheBlock(t *testing.T) {
	var out bytes.Buffer
	r := New(&out, Options{Live: true, Width: 200})
	failed := busy(0).Active[1]
	failed.Status, failed.Error = results.Pending, "exit status 3"
	writes := draws(&out,
		func() { r.Tick(busy(83 * time.Second)) },
		func() {
			r.Changed(change(controller.Warning, controller.TrialView{}, "trial 00011-run001: the @tune line is not valid JSON"), busy(83*time.Second+10*time.Millisecond))
		},
		func() {
			r.Changed(change(controller.TrialFailed, failed, "exit status 3; retrying (1 of 2)"), busy(83*time.Second+20*time.Millisecond))
		},
		func() { r.Tick(busy(90 * time.Second)) },
	)
	assert.True(t, strings.HasPrefix(writes[1], "\r\x1b[9A\x1b[J"), "the old block goes before the warning takes its place: %q", writes[1])
	shown := screen(writes[1])
	assert.Equal(t, "warning: trial 00011-run001: the @tune line is not valid JSON", shown[0])
	assert.True(t, strings.HasPrefix(shown[1], "tune: quadratic"), "the block is drawn again below")
	assert.Len(t, shown, 10)

	assert.Equal(t, "[0:01:23] trial 00011-run001 failed (exit status 3), retrying (1 of 2)", screen(writes[2])[0])
	assert.True(t, strings.HasPrefix(writes[3], "\r\x1b[9A"), "the next redraw moves over the block only, leaving the lines above in the scrollback")
}

func TestLinesAreCutToTheWidthInRunes(t *testing.T) {
	var out bytes.Buffer
	r := New(&out, Options{Live: true, Width: 40})
	s := busy(83 * time.Second)
	s.Experiment = "qüädrätic-ëxpérimént"
	r.Tick(s)
	shown := screen(out.String())
	for _, line := range shown {
		assert.LessOrEqual(t, utf8.RuneCountInString(line), 40, line)
	}
	assert.Equal(t, "tune: qüädrätic-ëxpérimént  elapsed 0:0…", shown[0])
	assert.Greater(t, len(shown[0]), 40, "the header is longer than 40 bytes: runes, not bytes, were counted")
}

func TestParameterColumnsGoFirstWhenTheTableIsTooWide(t *testing.T) {
	var out bytes.Buffer
	r := New(&out, Options{Live: true, Width: 60})
	r.Tick(busy(83 * time.Second))
	shown := screen(out.String())
	assert.Equal(t, "TRIAL         STATUS          x  ITER    loss     TIME", shown[2])
	assert.Equal(t, "00013-run003  RUNNING       3.5    30  0.1667  0:04:00", shown[6])
}

func TestTheTableIsCutAtMaxRowsWithACountOfTheRest(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		rows int
		more string
	}{
		{"MaxRows", Options{MaxRows: 2}, 2, "... 2 more running"},
		{"the terminal's height", Options{Height: 8}, 3, "... 1 more running"},
		{"a tiny terminal still shows a row", Options{Height: 2}, 1, "... 3 more running"},
		{"room for all", Options{MaxRows: 4}, 4, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			tt.opts.Live, tt.opts.Width = true, 200
			r := New(&out, tt.opts)
			r.Tick(busy(83 * time.Second))
			shown := screen(out.String())
			var running int
			for _, line := range shown {
				if strings.Contains(line, "  RUNNING  ") {
					running++
				}
			}
			assert.Equal(t, tt.rows, running)
			assert.NotContains(t, out.String(), "TERMINATED", "finished trials only fill rows the running ones leave")
			if tt.more != "" {
				assert.Equal(t, tt.more, shown[len(shown)-1])
			} else {
				assert.NotContains(t, out.String(), "more running")
			}
		})
	}
}

func TestATrialRunningAgainIsShownOnceAsRunning(t *testing.T) {
	var out bytes.Buffer
	r := New(&out, Options{Live: true, Width: 200})
	s := busy(83 * time.Second)
	again := s.Active[0]
	again.Status = results.Pending
	s.Recent = append([]controller.TrialView{again, s.Recent[0]}, s.Recent...)
	r.Tick(s)
	assert.Equal(t, 1, strings.Count(out.String(), "00010-run000"))
	assert.Equal(t, 1, strings.Count(out.String(), "00003-ab12cd  TERMINATED"))
}

func TestAnExperimentWithNothingStartedShowsTheHeaderAlone(t *testing.T) {
	var out bytes.Buffer
	r := New(&out, Options{Live: true})
	s := snapshot(0)
	s.Capacity = planner.Totals{}
	r.Tick(s)
	assert.Equal(t, []string{"tune: quadratic  elapsed 0:00:00  running 0 · pending 24 · done 0"}, screen(out.String()))
}

func TestExtraMetricColumnsArePickedFromReportsAndStay(t *testing.T) {
	var out bytes.Buffer
	r := New(&out, Options{Live: true, Width: 200})
	s := busy(83 * time.Second)
	s.Recent, s.Best = nil, nil
	s.Active = s.Active[:1]
	s.Active[0].Last = map[string]any{"loss": 0.5, "f1": 0.7, "acc": 0.9, "phase": "warmup", "training_iteration": 3.0, "time_total_s": 1.5, "trial_id": "00010-run000"}
	r.Tick(s)
	assert.Equal(t, "TRIAL         STATUS     x     lr  ITER  loss  acc   f1     TIME", screen(out.String())[1])

	s = busy(84 * time.Second)
	s.Recent, s.Best = nil, nil
	s.Active = s.Active[:1]
	s.Active[0].Last = map[string]any{"loss": 0.4, "acc": 0.95, "zeta": 3.0, "beta": 1.0}
	out.Reset()
	r.Tick(s)
	assert.Equal(t, []string{
		"TRIAL         STATUS     x     lr  ITER  loss   acc  f1  beta     TIME",
		"00010-run000  RUNNING  0.5  0.001     0   0.4  0.95         1  0:01:00",
	}, screen(out.String())[1:])
}

func TestExtraMetricColumnsNamedInTheOptionsAreShownAsGiven(t *testing.T) {
	var out bytes.Buffer
	r := New(&out, Options{Live: true, Width: 200, Metrics: []string{"loss", "acc", "f1", "mse", "ignored"}})
	s := busy(83 * time.Second)
	s.Recent, s.Best = nil, nil
	s.Active = s.Active[:1]
	s.Active[0].Last = map[string]any{"loss": 0.5, "acc": 0.9, "other": 1.0}
	r.Tick(s)
	assert.Equal(t, "TRIAL         STATUS     x     lr  ITER  loss  acc  f1     TIME", screen(out.String())[1])
}

func TestDoneDrawsTheFinalBlockThenTheExperimentsLastLine(t *testing.T) {
	var out bytes.Buffer
	r := New(&out, Options{Live: true, Width: 200})
	r.Tick(busy(83 * time.Second))

	final := busy(83*time.Second + 10*time.Millisecond)
	final.Active, final.Running, final.Pending, final.Terminated = nil, 0, 0, 23
	writes := draws(&out,
		func() {
			r.Changed(controller.Change{Kind: controller.ExperimentDone, Message: "finished: 23 trials terminated, 1 errored"}, final)
		},
		func() { r.Done(final) },
		func() { r.Tick(busy(90 * time.Second)) },
	)
	assert.Empty(t, writes[0], "the end waits for Done, which always draws")
	require.True(t, strings.HasPrefix(writes[1], "\r\x1b[9A"))
	shown := screen(writes[1])
	assert.Equal(t, "tune: quadratic  elapsed 0:01:23 (budget 1:00:00)  running 0 · pending 0 · done 24 (1 error)  CPU 2/2 · memory 0.5/23.4 GiB · GPU 0/0", shown[0])
	assert.Equal(t, "[0:01:23] experiment quadratic finished: 23 trials terminated, 1 errored", shown[len(shown)-1])
	assert.Empty(t, writes[2], "nothing is drawn after Done")
}

func TestAParameterNamedLikeAMetricIsShownAsConfig(t *testing.T) {
	var out bytes.Buffer
	r := New(&out, Options{Live: true, Width: 200})
	s := busy(83 * time.Second)
	s.Recent, s.Best = nil, nil
	s.Active = s.Active[:1]
	s.ParamNames = []string{"x", "lr", "workers"}
	s.Active[0].Params["workers"] = 4.0
	s.Active[0].Last = map[string]any{"loss": 0.5, "workers": 3.0}
	r.Tick(s)
	assert.Equal(t, []string{
		"TRIAL         STATUS     x     lr  config/workers  ITER  loss  workers     TIME",
		"00010-run000  RUNNING  0.5  0.001               4     0   0.5        3  0:01:00",
	}, screen(out.String())[1:])
}
