package progress

import (
	"strings"

	"github.com/nomad-tune/tune/results"
)

// Sanitize makes text that a trial wrote (metric names, string values,
// error messages with lines of its stderr) safe to print on a terminal,
// on one line: each line is cleaned by results.CleanLine (escape
// sequences removed, other control characters blanked, invalid UTF-8
// replaced) and the lines are joined with "; ", blank ones dropped. So it
// can neither move the cursor, recolour or rewrite the screen, nor break
// a table's row. Every text tune prints from a trial goes through it; the
// JSON and CSV outputs keep the data as it is.
func Sanitize(s string) string {
	if isPlain(s) {
		return s
	}
	var parts []string
	for _, line := range strings.FieldsFunc(s, isLineBreak) {
		if line = results.CleanLine(line); line != "" {
			parts = append(parts, line)
		}
	}
	return strings.Join(parts, "; ")
}

// isPlain says s is printable as it is, the common case.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return s == strings.TrimSpace(s)
}

func isLineBreak(r rune) bool {
	switch r {
	case '\n', '\r', '\v', '\f', 0x85, 0x2028, 0x2029:
		return true
	}
	return false
}
