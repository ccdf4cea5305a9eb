package driver

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseReport(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		metrics map[string]any
		ok      bool
		err     string
	}{
		{"an ordinary line is log output", "epoch 1 done", nil, false, ""},
		{"a report with numbers and strings", `@tune {"loss": 0.42, "phase": "train"}`, map[string]any{"loss": 0.42, "phase": "train"}, true, ""},
		{"a report with a Windows line ending", "@tune {\"loss\": 1}\r", map[string]any{"loss": 1.0}, true, ""},
		{"an empty object is a report of nothing", "@tune {}", map[string]any{}, true, ""},
		{"the prefix glued to the object is a near miss", `@tune{"loss": 1}`, nil, false, `starts with "@tune{", not "@tune "`},
		{"the prefix with a colon is a near miss", `@tune: {"loss": 1}`, nil, false, `@tune {"loss": 0.42}`},
		{"the prefix alone is a near miss", `@tune`, nil, false, `not "@tune "`},
		{"the prefix as part of a word is ordinary output", `@tuned the model`, nil, false, ""},
		{"Python's non-finite floats are numbers", `@tune {"loss": NaN, "hi": Infinity, "lo": -Infinity}`, map[string]any{"loss": math.NaN(), "hi": math.Inf(1), "lo": math.Inf(-1)}, true, ""},
		{"nested objects within the limits", `@tune {"eval": {"acc": 0.9, "loss": {"x": 1}}}`, map[string]any{"eval": map[string]any{"acc": 0.9, "loss": map[string]any{"x": 1.0}}}, true, ""},
		{"nesting deeper than the limit", "@tune " + strings.Repeat(`{"a":`, MaxReportDepth+1) + "1" + strings.Repeat("}", MaxReportDepth+1), nil, false, "more than 16 levels of nesting"},
		{"a line nested 9,900 deep", "@tune " + strings.Repeat(`{"a":`, 9900) + "1" + strings.Repeat("}", 9900), nil, false, "more than 16 levels of nesting"},
		{"more keys than the limit", "@tune {" + manyKeys(MaxReportKeys+1) + "}", nil, false, "more than 1000 keys"},
		{"as many keys as the limit", "@tune {" + manyKeys(3) + "}", map[string]any{"k0": 0.0, "k1": 0.0, "k2": 0.0}, true, ""},
		{"a line longer than the limit", `@tune {"s": "` + strings.Repeat("x", MaxReportBytes) + `"}`, nil, false, "more than the limit of 65536"},
		{"keys that flatten to the same name", `@tune {"a/b": 1, "a": {"b": 2}}`, nil, false, `two keys of the @tune line flatten to "a/b"`},
		{"keys that flatten apart", `@tune {"a/b": 1, "a": {"c": 2}}`, map[string]any{"a/b": 1.0, "a": map[string]any{"c": 2.0}}, true, ""},
		{"a report that is not an object", "@tune 0.42", nil, false, "one JSON object"},
		{"a report of broken JSON", `@tune {"loss": }`, nil, false, "not valid JSON"},
		{"two objects on one line", `@tune {"a": 1} {"b": 2}`, nil, false, "exactly one JSON object"},
		{"a JSON null", "@tune null", nil, false, "one JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok, err := ParseReport(tt.line)
			assert.Equal(t, tt.ok, ok)
			// NaN is never equal to itself: compare as text.
			assert.Equal(t, tt.metrics == nil, m == nil)
			assert.Equal(t, fmt.Sprint(tt.metrics), fmt.Sprint(m))
			if tt.err == "" {
				assert.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, tt.err)
			}
		})
	}
}

// manyKeys is n keys "k0": 0, "k1": 0, ... of a JSON object.
func manyKeys(n int) string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%q: 0", fmt.Sprintf("k%d", i))
	}
	return strings.Join(keys, ", ")
}
