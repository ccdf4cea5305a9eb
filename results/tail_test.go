package results

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCleanLine(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain text is kept", "ValueError: bad lr", "ValueError: bad lr"},
		{"colours are removed", "\x1b[1;31mError\x1b[0m: x", "Error: x"},
		{"a window title is removed", "\x1b]0;pwned\x07after", "after"},
		{"a title ended by ST is removed", "\x1b]2;t\x1b\\after", "after"},
		{"the 8-bit CSI is removed", "a\u009b2Jb", "ab"},
		{"carriage returns and tabs become spaces", "50%\r100%\tdone", "50% 100% done"},
		{"invalid UTF-8 is replaced", "bad \xff byte", "bad \uFFFD byte"},
		{"an escape at the very end is dropped", "text\x1b", "text"},
		{"the ends are trimmed", "  \x1b[2K  progress  ", "progress"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, CleanLine(tt.in))
		})
	}
}

func TestTheTailKeepsTheLastNonEmptyLines(t *testing.T) {
	var tl tail
	for i := range TailLines + 5 {
		tl.add(fmt.Sprintf("line %d", i))
		tl.add("   ")
	}
	tl.add(strings.Repeat("y", 2*tailLineMax))
	got := tl.last(3)
	assert.Equal(t, []string{fmt.Sprintf("line %d", TailLines+3), fmt.Sprintf("line %d", TailLines+4), strings.Repeat("y", tailLineMax)}, got)
	assert.Len(t, tl.last(100), TailLines, "no more than TailLines are kept")
}
