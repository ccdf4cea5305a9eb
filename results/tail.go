package results

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of what a Store keeps of an attempt's stderr to say why it
// failed: the last lines go in error.txt, and the last few in the trial's
// error message.
const (
	// TailLines is how many of the last non-empty lines of stderr a Store
	// keeps for error.txt.
	TailLines = 20
	// tailLineMax bounds each kept line, in bytes: a trial that prints a
	// megabyte on one line must not make its error message that long.
	tailLineMax = 512
)

// tail keeps the last non-empty lines written to a log, as written; they
// are cleaned when read.
type tail struct {
	lines [TailLines]string
	// next is where the next line goes; n how many are kept.
	next, n int
}

func (t *tail) add(line string) {
	if strings.TrimSpace(line) == "" {
		return
	}
	if len(line) > tailLineMax {
		line = line[:tailLineMax]
	}
	// A copy: the caller's line may share a large buffer.
	t.lines[t.next] = strings.Clone(line)
	t.next = (t.next + 1) % TailLines
	t.n = min(t.n+1, TailLines)
}

// last returns up to n of the newest lines, oldest first, cleaned for a
// terminal.
func (t *tail) last(n int) []string {
	n = min(n, t.n)
	out := make([]string, 0, n)
	for i := n; i > 0; i-- {
		if l := CleanLine(t.lines[(t.next-i+TailLines)%TailLines]); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// CleanLine makes a line a trial printed safe to show on a terminal and to
// keep in one line of a message: terminal escape sequences (colours,
// cursor moves, titles) are removed, other control characters and
// bidirectional overrides become spaces, invalid UTF-8 becomes U+FFFD,
// and the ends are trimmed.
func CleanLine(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0x1b || r == 0x9b:
			i += escapeLen(s[i:])
			continue
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
		case unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r):
			// A right-to-left override would make what follows read
			// backwards.
			b.WriteByte(' ')
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return strings.TrimSpace(b.String())
}

// escapeLen is the length of the escape sequence s starts with (ESC, or
// the 8-bit CSI): a CSI sequence runs to its final byte (0x40-0x7e), an
// OSC, DCS, PM, APC or SOS string to BEL or ESC \, and any other escape
// takes the character after it.
func escapeLen(s string) int {
	if s[0] == 0xc2 { // U+009B, the 8-bit CSI, in UTF-8
		return 2 + csiLen(s[2:])
	}
	if len(s) < 2 {
		return len(s)
	}
	switch s[1] {
	case '[':
		return 2 + csiLen(s[2:])
	case ']', 'P', '^', '_', 'X':
		for i := 2; i < len(s); i++ {
			if s[i] == 0x07 {
				return i + 1
			}
			if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
		}
		return len(s)
	}
	_, size := utf8.DecodeRuneInString(s[1:])
	return 1 + size
}

// csiLen is the length of a CSI sequence's parameters and final byte.
func csiLen(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x40 && s[i] <= 0x7e {
			return i + 1
		}
	}
	return len(s)
}
