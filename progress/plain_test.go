package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/controller"
	"github.com/nomad-tune/tune/results"
)

func lines(b *bytes.Buffer) []string {
	s := strings.TrimSuffix(b.String(), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func TestPlainModePrintsOneLinePerChangeThatMatters(t *testing.T) {
	var out bytes.Buffer
	r := New(&out, Options{})

	a := trial("00003-ab12cd", results.Running, 1.2, 0.001, 0, 0, 0)
	b := trial("00004-cd34ef", results.Running, -0.5, 0.01, 0, 0, 0)

	s := snapshot(3 * time.Second)
	s.Running, s.Pending = 1, 23
	r.Changed(change(controller.TrialStarted, a, ""), s)

	a = trial("00003-ab12cd", results.Running, 1.2, 0.001, 1, 0.5, time.Second)
	s = snapshot(4 * time.Second)
	s.Running, s.Pending = 1, 23
	r.Changed(change(controller.TrialReported, a, ""), s)

	a = trial("00003-ab12cd", results.Terminated, 1.2, 0.001, 5, 0.0123, 2*time.Second)
	s = snapshot(5 * time.Second)
	s.Terminated, s.Pending, s.Best = 1, 23, &a
	r.Changed(change(controller.TrialFinished, a, ""), s)

	b.Error = "exit status 3"
	b.Status = results.Pending
	s = snapshot(6 * time.Second)
	s.Terminated, s.Pending, s.Best = 1, 23, &a
	r.Changed(change(controller.TrialFailed, b, "exit status 3; retrying (1 of 2)"), s)

	b.Status, b.Attempt = results.Running, 1
	s.Elapsed, s.Running, s.Pending = 7*time.Second, 1, 22
	r.Changed(change(controller.TrialStarted, b, ""), s)

	s.Elapsed = 8 * time.Second
	r.Changed(change(controller.Warning, b, `trial 00004-cd34ef: the @tune line is not valid JSON (the line is kept in its stdout.log)`), s)
	r.Changed(change(controller.Warning, controller.TrialView{}, "the GPU inventory could not be read"), s)

	b.Status, b.StopReason = results.Error, "trial_timeout 10m"
	s.Elapsed, s.Running, s.Errored = 31*time.Second, 0, 1
	r.Changed(change(controller.TrialStopped, b, "trial_timeout 10m"), s)

	s.Elapsed = 83 * time.Second
	r.Changed(controller.Change{Kind: controller.ExperimentDone, Message: "finished: 1 trial terminated, 1 errored"}, s)
	r.Done(s)
	r.Tick(s)

	assert.Equal(t, []string{
		"[0:00:03] trial 00003-ab12cd started (x=1.2, lr=0.001)",
		"[0:00:05] trial 00003-ab12cd finished after 5 iterations: loss=0.0123",
		"[0:00:06] trial 00004-cd34ef failed (exit status 3), retrying (1 of 2)",
		"[0:00:07] trial 00004-cd34ef started, attempt 2 (x=-0.5, lr=0.01)",
		"warning: trial 00004-cd34ef: the @tune line is not valid JSON (the line is kept in its stdout.log)",
		"warning: the GPU inventory could not be read",
		"[0:00:31] trial 00004-cd34ef stopped: trial_timeout 10m",
		"[0:00:31] running 0 · pending 22 · done 2 (1 error) · best 00003-ab12cd loss=0.0123",
		"[0:01:23] experiment quadratic finished: 1 trial terminated, 1 errored",
	}, lines(&out))
	assert.NotContains(t, out.String(), "\x1b", "plain output has no escape sequences")
}

func TestPlainFinishedLinesReadNaturally(t *testing.T) {
	tests := []struct {
		name    string
		metrics []string
		trial   controller.TrialView
		want    string
	}{
		{
			name:  "one iteration is singular",
			trial: trial("00001-aaaaaa", results.Terminated, 1, 0.1, 1, 0.25, time.Second),
			want:  "[0:00:10] trial 00001-aaaaaa finished after 1 iteration: loss=0.25",
		},
		{
			name:  "a trial that never reported says so",
			trial: trial("00001-aaaaaa", results.Terminated, 1, 0.1, 0, 0, time.Second),
			want:  "[0:00:10] trial 00001-aaaaaa finished with no reports",
		},
		{
			name:    "metrics named in the options follow the experiment metric",
			metrics: []string{"acc", "loss", "missing"},
			trial: func() controller.TrialView {
				v := trial("00001-aaaaaa", results.Terminated, 1, 0.1, 3, 0.25, time.Second)
				v.Last["acc"] = 0.912345
				return v
			}(),
			want: "[0:00:10] trial 00001-aaaaaa finished after 3 iterations: loss=0.25, acc=0.9123",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			r := New(&out, Options{Metrics: tt.metrics})
			r.Changed(change(controller.TrialFinished, tt.trial, ""), snapshot(10*time.Second))
			assert.Equal(t, []string{tt.want}, lines(&out))
		})
	}
}

func TestPlainModeDoesNotPrintReports(t *testing.T) {
	var out bytes.Buffer
	r := New(&out, Options{})
	v := trial("00001-aaaaaa", results.Running, 1, 0.1, 1, 0.5, time.Second)
	for i := range 1000 {
		r.Changed(change(controller.TrialReported, v, ""), snapshot(time.Duration(i)*10*time.Millisecond))
	}
	assert.Empty(t, out.String())
}

func TestStatusLinesFollowTheSnapshotClock(t *testing.T) {
	tests := []struct {
		name    string
		every   time.Duration
		elapsed []time.Duration
		want    []string
	}{
		{
			name:    "every 30s by default",
			elapsed: []time.Duration{10 * time.Second, 29 * time.Second, 30 * time.Second, 31 * time.Second, 59 * time.Second, 60 * time.Second},
			want:    []string{"[0:00:30]", "[0:01:00]"},
		},
		{
			name:    "a quiet spell gives one line, not a burst",
			elapsed: []time.Duration{5 * time.Second, 95 * time.Second, 100 * time.Second, 119 * time.Second, 120 * time.Second},
			want:    []string{"[0:01:35]", "[0:02:00]"},
		},
		{
			name:    "a shorter interval",
			every:   10 * time.Second,
			elapsed: []time.Duration{9 * time.Second, 10 * time.Second, 15 * time.Second, 21 * time.Second},
			want:    []string{"[0:00:10]", "[0:00:21]"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			r := New(&out, Options{StatusEvery: tt.every})
			for _, e := range tt.elapsed {
				r.Tick(snapshot(e))
			}
			var got []string
			for _, line := range lines(&out) {
				stamp, rest, ok := strings.Cut(line, " ")
				require.True(t, ok)
				assert.Equal(t, "running 0 · pending 24 · done 0", rest)
				got = append(got, stamp)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestReportsAlsoBringStatusLinesWhenDue(t *testing.T) {
	var out bytes.Buffer
	r := New(&out, Options{StatusEvery: time.Minute})
	v := trial("00001-aaaaaa", results.Running, 1, 0.1, 7, 0.5, time.Minute)
	s := snapshot(61 * time.Second)
	s.Running, s.Pending, s.Best = 1, 23, &v
	r.Changed(change(controller.TrialReported, v, ""), s)
	assert.Equal(t, []string{"[0:01:01] running 1 · pending 23 · done 0 · best 00001-aaaaaa loss=0.5"}, lines(&out))
}

func TestDoneWithoutAnEndChangeStillClosesTheLog(t *testing.T) {
	var out bytes.Buffer
	r := New(&out, Options{})
	s := snapshot(83 * time.Second)
	s.Pending, s.Terminated, s.Errored = 0, 22, 2
	r.Done(s)
	r.Done(s)
	assert.Equal(t, []string{"[0:01:23] experiment quadratic ended: running 0 · pending 0 · done 24 (2 errors)"}, lines(&out))
}

func TestPlainStoppedLinesSayWhy(t *testing.T) {
	tests := []struct {
		name       string
		message    string
		stopReason string
		want       string
	}{
		{"the controller's reason", "trial_timeout 10m", "trial_timeout 10m", "[0:10:00] trial 00001-aaaaaa stopped: trial_timeout 10m"},
		{"the trial's reason when the change has none", "", "loss <= 0.01", "[0:10:00] trial 00001-aaaaaa stopped: loss <= 0.01"},
		{"no reason at all", "", "", "[0:10:00] trial 00001-aaaaaa stopped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			r := New(&out, Options{StatusEvery: time.Hour})
			v := trial("00001-aaaaaa", results.Terminated, 1, 0.1, 4, 0.009, time.Minute)
			v.StopReason = tt.stopReason
			r.Changed(change(controller.TrialStopped, v, tt.message), snapshot(10*time.Minute))
			assert.Equal(t, []string{tt.want}, lines(&out))
		})
	}
}

func TestPlainStartedLinesSayWhyAStartIsUnusual(t *testing.T) {
	var out bytes.Buffer
	r := New(&out, Options{})
	s := snapshot(3 * time.Second)
	r.Changed(change(controller.TrialStarted, trial("00003-ab12cd", results.Running, 1.2, 0.001, 0, 0, 0), "adopted: it was already running"), s)
	assert.Equal(t, "[0:00:03] trial 00003-ab12cd started (x=1.2, lr=0.001): adopted: it was already running\n", out.String())
}
