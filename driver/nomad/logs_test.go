package nomad

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/nomad-tune/tune/clock"
	"github.com/nomad-tune/tune/driver"
)

func TestFramesAreSplitIntoLines(t *testing.T) {
	tests := []struct {
		name   string
		frames []string
		want   []string
	}{
		{"one frame of whole lines", []string{"a\nb\n"}, []string{"a", "b"}},
		{"a line spanning frames", []string{"@tune {\"lo", "ss\": 1}\nnext", " line\n"}, []string{`@tune {"loss": 1}`, "next line"}},
		{"windows line endings", []string{"a\r\nb\r", "\n"}, []string{"a", "b"}},
		{"empty lines are kept", []string{"\n\na\n"}, []string{"", "", "a"}},
		{"an unfinished last line is passed on at the end", []string{"a\nno newline"}, []string{"a", "no newline"}},
		{"nothing", []string{""}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			emit := func(l string, start bool) {
				assert.True(t, start, "a short line begins a line")
				got = append(got, l)
			}
			s := newLineSplitter()
			for _, f := range tt.frames {
				s.write([]byte(f), emit)
			}
			s.flush(emit)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestAnOverlongLineIsPassedOnInPiecesOnlyTheFirstBeginningALine(t *testing.T) {
	var got []string
	var starts []bool
	emit := func(l string, start bool) {
		got = append(got, l)
		starts = append(starts, start)
	}
	s := &lineSplitter{max: 4}
	s.write([]byte("abcdef"), emit)
	s.write([]byte("ghij\nxy\n"), emit)
	s.write([]byte(strings.Repeat("z", 9)), emit)
	s.flush(emit)
	assert.Equal(t, []string{"abcd", "efgh", "ij", "xy", "zzzz", "zzzz", "z"}, got)
	assert.Equal(t, []bool{true, false, false, true, true, false, false}, starts)
}

func TestAReportAfterAMegabyteOnTheSameLineIsNoReport(t *testing.T) {
	a := &attempt{d: &Driver{events: driver.NewEventQueue(), clock: clock.Real{}}, stdout: discard{}, stderr: discard{}}
	l := &taskLog{stdout: true, name: "task train"}
	s := newLineSplitter()
	emit := func(line string, start bool) { a.line(l, line, start) }
	s.write([]byte(strings.Repeat("x", maxLineBytes)), emit)
	s.write([]byte(`@tune {"loss": 1}`+"\n"+`@tune {"loss": 2}`+"\n"), emit)
	s.flush(emit)
	a.d.events.Close()
	var reports []any
	for ev := range a.d.events.Out() {
		if ev.Kind == driver.EventReport {
			reports = append(reports, ev.Metrics["loss"])
		}
	}
	assert.Equal(t, []any{2.0}, reports, "only the line of its own is a report")
}
