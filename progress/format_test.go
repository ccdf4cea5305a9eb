package progress

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/controller"
	"github.com/nomad-tune/tune/results"
)

func TestFloatsAreShownWithFourSignificantDigits(t *testing.T) {
	tests := []struct {
		name string
		in   float64
		want string
	}{
		{"a short decimal stays as it is", 1.2, "1.2"},
		{"a long decimal is rounded", 0.0123456, "0.01235"},
		{"a small learning rate", 0.001, "0.001"},
		{"a whole number has no point", 3, "3"},
		{"a large whole number has no exponent", 100000, "100000"},
		{"a large fraction is rounded to a whole number", 12345.678, "12346"},
		{"a tiny number uses a short exponent", 0.0000123456, "1.235e-5"},
		{"a huge number uses a short exponent", 1.5e20, "1.5e20"},
		{"a negative number", -2.71828, "-2.718"},
		{"negative zero is zero", math.Copysign(0, -1), "0"},
		{"not a number", math.NaN(), "nan"},
		{"infinity", math.Inf(1), "inf"},
		{"minus infinity", math.Inf(-1), "-inf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, formatFloat(tt.in))
		})
	}
}

func TestValuesOfEveryDecodedTypeAreShownCompactly(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"an int", 42, "42"},
		{"an int64", int64(-7), "-7"},
		{"a JSON number", json.Number("0.000123456"), "0.0001235"},
		{"a string", "adam", "adam"},
		{"a string over lines", "line one\nline two\n", "line one; line two"},
		{"a bool", true, "true"},
		{"null", nil, "null"},
		{"a list", []any{64.0, 128.0}, "[64,128]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, formatValue(tt.in))
		})
	}
}

func TestDurationsAreHoursMinutesAndSeconds(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0:00:00"},
		{3*time.Second + 900*time.Millisecond, "0:00:03"},
		{83 * time.Second, "0:01:23"},
		{time.Hour, "1:00:00"},
		{101*time.Hour + 2*time.Minute + 3*time.Second, "101:02:03"},
		{-time.Second, "0:00:00"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, formatDuration(tt.in))
		})
	}
}

func TestTruncationCountsRunesNotBytes(t *testing.T) {
	assert.Equal(t, "héllo", truncate("héllo", 5), "five runes fit in five columns although they are six bytes")
	assert.Equal(t, "hé…", truncate("héllo", 3))
	assert.Equal(t, "", truncate("héllo", 0))
}

func TestSanitizeLeavesNothingATerminalWouldActOn(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain text is kept", "val_loss", "val_loss"},
		{"an escape sequence goes", "lo\x1b[2Jss", "loss"},
		{"a terminal title sequence goes", "a\x1b]0;title\x07b", "ab"},
		{"lines are joined, trimmed, blank ones dropped", "Traceback:\n  File x\n\n\r\nValueError ", "Traceback:; File x; ValueError"},
		{"a carriage return breaks a line", "a \x1b[31mred\r\tb", "a red; b"},
		{"a tab is a space", "a\tb", "a b"},
		{"a backspace and DEL are blanks", "ab\bc\x7fd", "ab c d"},
		{"the 8-bit CSI starts a sequence too", "a\u009b2Jb", "ab"},
		{"a right-to-left override is a blank", "loss\u202esdrawkcab", "loss sdrawkcab"},
		{"a byte that is not UTF-8 is replaced", "a\xffb", "a\ufffdb"},
		{"other scripts are kept", "pérte 損失", "pérte 損失"},
		{"Unicode line separators break lines", "a\u2028b", "a; b"},
		{"nothing", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Sanitize(tt.in))
		})
	}
}

func TestMetricNamesAndValuesFromATrialAreSanitizedInEveryLine(t *testing.T) {
	s := snapshot(time.Minute)
	s.Metric = "loss"
	evil := "e\x1b[2J\nvil"
	tr := trial("00001-abc", results.Terminated, 1, 0.1, 3, 0.5, time.Second)
	tr.Last[evil] = "x\x1b]0;title\x07"
	s.Best = &tr
	var out bytes.Buffer
	r := New(&out, Options{StatusEvery: time.Second, Metrics: []string{evil}})
	r.Changed(change(controller.TrialFinished, tr, ""), s)
	r.Done(s)
	var live bytes.Buffer
	l := New(&live, Options{Live: true, Width: 200, Height: 40, Metrics: []string{evil}})
	s.Active = []controller.TrialView{tr}
	l.Changed(change(controller.Warning, tr, "bad "+evil), s)
	l.Done(s)
	for name, text := range map[string]string{"plain": out.String(), "live": live.String()} {
		assert.NotContains(t, text, "\x1b[2J", name)
		assert.NotContains(t, text, "\x07", name)
		assert.Contains(t, text, "e; vil", name)
	}
}

func TestFailuresPutTheErrorInParenthesesAndTheOutcomeAfter(t *testing.T) {
	tests := []struct {
		name, err, message, want string
	}{
		{"retried", "exit status 3", "exit status 3; retrying (1 of 2)", "failed (exit status 3), retrying (1 of 2)"},
		{"no retries left", "exit status 1", "exit status 1; no retries left (max_failures = 2)", "failed (exit status 1), no retries left (max_failures = 2)"},
		{"the message alone", "", "could not start", "failed: could not start"},
		{"the error alone", "exit status 2", "", "failed (exit status 2)"},
		{"an unrelated message", "exit status 2", "out of memory", "failed: out of memory"},
		{"nothing known", "", "", "failed"},
		{"an error over lines", "exit status 1\nTraceback", "exit status 1\nTraceback; retrying (1 of 2)", "failed (exit status 1; Traceback), retrying (1 of 2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, failure(tt.err, tt.message))
		})
	}
}

func TestParametersFollowFileOrderThenTheRestSorted(t *testing.T) {
	params := map[string]any{"lr": 0.001, "x": 1.2, "b": "z", "a": 1}
	assert.Equal(t, "x=1.2, lr=0.001, a=1, b=z", formatParams([]string{"x", "lr", "missing"}, params))
}

func TestARegularFileIsNotATerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out.log"))
	require.NoError(t, err)
	defer f.Close()
	assert.False(t, IsTerminal(f))
	assert.False(t, IsTerminal(nil))
}

func TestTerminalSizeComesFromTheEnvironment(t *testing.T) {
	t.Setenv("COLUMNS", "132")
	t.Setenv("LINES", "40")
	w, h := TerminalSize()
	assert.Equal(t, 132, w)
	assert.Equal(t, 40, h)

	t.Setenv("COLUMNS", "")
	t.Setenv("LINES", "nonsense")
	w, h = TerminalSize()
	assert.Equal(t, 100, w, "width defaults to 100")
	assert.Equal(t, 0, h, "an unknown height is 0")
}
