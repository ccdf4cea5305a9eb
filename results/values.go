package results

import (
	"encoding/json"
	"math"
	"strconv"

	"github.com/nomad-tune/tune/pyjson"
)

// visitLeaves calls fn for every value of m that is not itself an object,
// with nested keys joined by "/" the way Ray Tune flattens results and
// configs for its CSV files ("config/lr").
func visitLeaves(prefix string, m map[string]any, fn func(key string, v any)) {
	for k, v := range m {
		if prefix != "" {
			k = prefix + "/" + k
		}
		if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
			visitLeaves(k, sub, fn)
			continue
		}
		fn(k, v)
	}
}

// appendCell formats one value for a CSV cell so that pandas reads it back
// as the same number, bool or string.
func appendCell(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return b
	case string:
		return append(b, v...)
	case bool:
		return strconv.AppendBool(b, v)
	case float64:
		return appendFloat(b, v)
	case float32:
		return appendFloat(b, float64(v))
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case int32:
		return strconv.AppendInt(b, int64(v), 10)
	case uint64:
		return strconv.AppendUint(b, v, 10)
	case uint:
		return strconv.AppendUint(b, uint64(v), 10)
	case json.Number:
		return append(b, v...)
	}
	// Lists and other values keep their JSON text in one cell.
	j, err := pyjson.Marshal(v, "")
	if err != nil {
		return b
	}
	return append(b, j...)
}

// appendFloat writes f as encoding/json does, so that a timestamp reads
// 1700000000 rather than 1.7e+09; non-finite values get the spellings
// pandas parses.
func appendFloat(b []byte, f float64) []byte {
	if text, ok := NonFinite(f); ok {
		return append(b, text...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	return strconv.AppendFloat(b, f, format, -1, 64)
}

// NonFinite spells NaN and the infinities as pandas and NumPy print them
// and read them from CSV ("nan", "inf", "-inf"); ok is false for finite
// numbers.
func NonFinite(f float64) (text string, ok bool) {
	switch {
	case math.IsNaN(f):
		return "nan", true
	case math.IsInf(f, 1):
		return "inf", true
	case math.IsInf(f, -1):
		return "-inf", true
	}
	return "", false
}

// cellString is appendCell for one-off uses.
func cellString(v any) string { return string(appendCell(nil, v)) }

// parseCell reverses appendCell as far as the text allows: a string that
// looks like a number comes back as a number. Load only uses it for trials
// that never started, which have no trial.json to read exactly.
func parseCell(s string) any {
	switch s {
	case "":
		return nil
	case "true":
		return true
	case "false":
		return false
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f
	}
	if s[0] == '[' || s[0] == '{' {
		var v any
		if json.Unmarshal([]byte(s), &v) == nil {
			return v
		}
	}
	return s
}

// Number returns v as a float64 when it is a number: reports decoded from
// JSON hold float64, records built in Go may hold integers.
func Number(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case float32:
		return float64(v), true
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case int32:
		return float64(v), true
	case uint64:
		return float64(v), true
	case uint:
		return float64(v), true
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	}
	return 0, false
}
