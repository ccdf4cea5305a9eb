package nomad

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
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
			emit := func(l string) { got = append(got, l) }
			s := newLineSplitter()
			for _, f := range tt.frames {
				s.write([]byte(f), emit)
			}
			s.flush(emit)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestAnOverlongLineIsPassedOnInPieces(t *testing.T) {
	var got []string
	emit := func(l string) { got = append(got, l) }
	s := &lineSplitter{max: 4}
	s.write([]byte("abcdef"), emit)
	s.write([]byte("ghij\nxy\n"), emit)
	s.write([]byte(strings.Repeat("z", 9)), emit)
	s.flush(emit)
	assert.Equal(t, []string{"abcd", "efgh", "ij", "xy", "zzzz", "zzzz", "z"}, got)
}
