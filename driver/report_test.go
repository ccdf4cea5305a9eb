package driver

import (
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
		{"the prefix without a space is ordinary output", `@tune{"loss": 1}`, nil, false, ""},
		{"a report that is not an object", "@tune 0.42", nil, false, "one JSON object"},
		{"a report of broken JSON", `@tune {"loss": }`, nil, false, "not valid JSON"},
		{"two objects on one line", `@tune {"a": 1} {"b": 2}`, nil, false, "exactly one JSON object"},
		{"a JSON null", "@tune null", nil, false, "one JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok, err := ParseReport(tt.line)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.metrics, m)
			if tt.err == "" {
				assert.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, tt.err)
			}
		})
	}
}
