package driver

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/nomad-tune/tune/pyjson"
)

// Limits of one @tune line. Metrics are a handful of numbers: these are
// far above what a trainer reports, and low enough that a runaway line
// cannot make tune or the results files huge (a line nested thousands
// deep would otherwise become thousands-of-segment flattened keys in
// every file that holds the last result).
const (
	// MaxReportBytes is the longest @tune line, prefix included.
	MaxReportBytes = 64 << 10
	// MaxReportDepth is the deepest nesting of objects and arrays; the
	// report's own object is level 1.
	MaxReportDepth = 16
	// MaxReportKeys is the number of keys of a report, at every level.
	MaxReportKeys = 1000
)

// reportWord is the prefix without its space: a line that starts with it
// and goes on with anything but a letter, digit or underscore (a colon,
// a brace) was meant as a report and is told how to write one.
const reportWord = "@tune"

// protocol is how a report line is written, for warnings.
const protocol = `a report line is "@tune", one space and one JSON object, such as @tune {"loss": 0.42}`

// ParseReport reads one line of a trial's output. A line that does not
// start with "@tune" is ordinary output (ok false, err nil). A line that
// does must be "@tune " and exactly one JSON object within the limits
// above; numbers are float64, and Python's NaN, Infinity and -Infinity
// are read as such. Nested objects are flattened with "/" in the results
// files ("eval": {"acc": 1} is eval/acc), so a report in which two keys
// flatten to the same name is refused rather than losing one value.
// When the line is refused, err says why and the line is to be kept as
// ordinary output.
func ParseReport(line string) (metrics map[string]any, ok bool, err error) {
	line = strings.TrimRight(line, "\r")
	if !strings.HasPrefix(line, reportWord) {
		return nil, false, nil
	}
	if !strings.HasPrefix(line, ReportPrefix) {
		next := line[len(reportWord):]
		if next != "" && isWordByte(next[0]) {
			// "@tuned", "@tune_x": another word, not a report.
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("the line starts with %q, not \"@tune \": %s", clip(line, len(reportWord)+1), protocol)
	}
	if len(line) > MaxReportBytes {
		return nil, false, fmt.Errorf("the @tune line is %d bytes long, more than the limit of %d", len(line), MaxReportBytes)
	}
	body := strings.TrimSpace(line[len(ReportPrefix):])
	if !strings.HasPrefix(body, "{") {
		return nil, false, fmt.Errorf("the @tune line holds no JSON object: %s", protocol)
	}
	v, err := pyjson.Decode([]byte(body), pyjson.Limits{Depth: MaxReportDepth, Keys: MaxReportKeys})
	var limit *pyjson.LimitError
	switch {
	case errors.As(err, &limit):
		return nil, false, fmt.Errorf("the @tune line has %v (the limit of a report)", err)
	case err != nil && strings.Contains(err.Error(), "more follows"):
		return nil, false, fmt.Errorf("a @tune line must hold exactly one JSON object; there is more after it")
	case err != nil:
		return nil, false, fmt.Errorf("the @tune line is not valid JSON: %v", err)
	}
	metrics, _ = v.(map[string]any)
	if metrics == nil {
		return nil, false, fmt.Errorf("the @tune line holds no JSON object: %s", protocol)
	}
	if key := collision(metrics); key != "" {
		return nil, false, fmt.Errorf("two keys of the @tune line flatten to %q (nested keys are joined with \"/\"); rename one", key)
	}
	return metrics, true, nil
}

// collision is a flattened key two values of m share, or "", the first in
// sorted order so the warning is the same every time.
func collision(m map[string]any) string {
	seen := map[string]bool{}
	var dup []string
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			if prefix != "" {
				k = prefix + "/" + k
			}
			if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
				walk(k, sub)
				continue
			}
			if seen[k] {
				dup = append(dup, k)
			}
			seen[k] = true
		}
	}
	walk("", m)
	if len(dup) == 0 {
		return ""
	}
	sort.Strings(dup)
	return dup[0]
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// clip is the first n bytes of s, for quoting a line in a warning.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
