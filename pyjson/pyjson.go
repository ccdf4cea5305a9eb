// Package pyjson reads and writes JSON the way Python's json module does:
// NaN, Infinity and -Infinity are numbers. A trainer that reports
// json.dumps({"loss": float("nan")}) writes the bare token NaN, which
// encoding/json refuses; a diverged trial must still be recorded as NaN,
// and the files tune writes must be read back as floats by Python's json
// and by pandas, which read those same tokens.
//
// It wraps encoding/json rather than replacing it: before decoding, the
// three tokens are rewritten outside strings into number literals that no
// finite float64 is ever written as (markers), and after encoding the
// markers are rewritten into the tokens. Object is the map type whose
// non-finite values travel through encoding/json as markers; any other
// value is encoded as encoding/json encodes it.
//
// It must not be used to read or write anything but JSON: the rewriting
// knows JSON's strings and nothing else.
package pyjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// The tokens Python's json module writes for non-finite floats.
const (
	TokenNaN    = "NaN"
	TokenInf    = "Infinity"
	TokenNegInf = "-Infinity"
)

// Markers stand for the tokens inside encoding/json. They are valid JSON
// numbers whose exponent no float64 reaches, so no finite value is ever
// written as one.
const (
	markerNaN    = "1e999999991"
	markerInf    = "1e999999992"
	markerNegInf = "-1e999999992"
)

var (
	// A marker in the input is an ordinary number too large for float64:
	// it becomes another such number, so that it is read as ±Inf (as
	// Python reads it), never as the token it stands for.
	tokensToMarkers = [][2]string{
		{TokenNegInf, markerNegInf}, {TokenNaN, markerNaN}, {TokenInf, markerInf},
		{markerNegInf, "-1e999999999"}, {markerNaN, "1e999999999"}, {markerInf, "1e999999999"},
	}
	markersToTokens = [][2]string{{markerNegInf, TokenNegInf}, {markerNaN, TokenNaN}, {markerInf, TokenInf}}
)

// Limits bound what Decode accepts; zero fields do not limit.
type Limits struct {
	// Depth is the deepest nesting of objects and arrays; the outermost
	// value is at depth 1.
	Depth int
	// Keys is the number of object keys, counted at every depth.
	Keys int
}

// LimitError says which limit a document exceeds.
type LimitError struct {
	What  string
	Limit int
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("more than %d %s", e.Limit, e.What)
}

// Decode reads one JSON value (with Python's non-finite tokens) that must
// fill data but for white space. Numbers come back as float64: a number
// too large for float64 is ±Inf, as Python reads it.
func Decode(data []byte, lim Limits) (any, error) {
	text, err := rewrite(data, tokensToMarkers, lim)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("more follows the JSON value")
	}
	return numbers(v), nil
}

// Unmarshal is json.Unmarshal for documents written by Marshal: the
// tokens are read where v holds an Object.
func Unmarshal(data []byte, v any) error {
	text, err := rewrite(data, tokensToMarkers, Limits{})
	if err != nil {
		return err
	}
	return json.Unmarshal(text, v)
}

// Marshal is json.Marshal without HTML escaping, indented by indent when
// it is not empty, with non-finite numbers written as Python's tokens:
// those of every Object in v, and those of v itself when it is a map,
// slice or number.
func Marshal(v any, indent string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent("", indent)
	}
	if err := enc.Encode(markers(v)); err != nil {
		return nil, err
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})
	return rewrite(b, markersToTokens, Limits{})
}

// Object is a JSON object whose numbers may be NaN or infinite.
type Object map[string]any

// MarshalJSON writes o with markers for non-finite numbers; Marshal turns
// them into Python's tokens.
func (o Object) MarshalJSON() ([]byte, error) {
	if o == nil {
		return []byte("null"), nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// The outer encoder escapes or not as it was told.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(markers(map[string]any(o))); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

// UnmarshalJSON reads an object written by MarshalJSON, or by Marshal
// once Unmarshal has rewritten the tokens.
func (o *Object) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return err
	}
	if m == nil {
		*o = nil
		return nil
	}
	*o = numbers(m).(map[string]any)
	return nil
}

// markers is a copy of v with every non-finite float64 as its marker and
// every json.Number as the float64 it reads as (so no number in v can
// spell a marker).
func markers(v any) any {
	switch x := v.(type) {
	case float64:
		switch {
		case math.IsNaN(x):
			return json.Number(markerNaN)
		case math.IsInf(x, 1):
			return json.Number(markerInf)
		case math.IsInf(x, -1):
			return json.Number(markerNegInf)
		}
		return x
	case float32:
		return markers(float64(x))
	case json.Number:
		return markers(numberValue(x))
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = markers(e)
		}
		return out
	case Object:
		return markers(map[string]any(x))
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = markers(e)
		}
		return out
	}
	return v
}

// numbers turns the json.Numbers of a value decoded with UseNumber into
// float64, in place.
func numbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		return numberValue(x)
	case map[string]any:
		for k, e := range x {
			x[k] = numbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbers(e)
		}
	}
	return v
}

func numberValue(n json.Number) float64 {
	switch string(n) {
	case markerNaN:
		return math.NaN()
	case markerInf:
		return math.Inf(1)
	case markerNegInf:
		return math.Inf(-1)
	}
	// A literal beyond float64's range is ±Inf (ParseFloat says so with
	// its error), as Python's float() reads it.
	f, _ := strconv.ParseFloat(string(n), 64)
	return f
}

// rewrite copies JSON text, replacing each "from" of pairs with its "to"
// where it stands outside a string as a whole token, and checks lim on
// the way. It does not otherwise check the text: encoding/json does.
func rewrite(data []byte, pairs [][2]string, lim Limits) ([]byte, error) {
	var out []byte
	copied := 0
	depth, keys := 0, 0
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
			continue
		case '{', '[':
			depth++
			if lim.Depth > 0 && depth > lim.Depth {
				return nil, &LimitError{What: "levels of nesting", Limit: lim.Depth}
			}
			continue
		case '}', ']':
			depth--
			continue
		case ':':
			keys++
			if lim.Keys > 0 && keys > lim.Keys {
				return nil, &LimitError{What: "keys", Limit: lim.Keys}
			}
			continue
		}
		if i > 0 && !isDelimiter(data[i-1]) {
			continue
		}
		for _, p := range pairs {
			from := p[0]
			end := i + len(from)
			if end <= len(data) && string(data[i:end]) == from && (end == len(data) || isDelimiter(data[end])) {
				out = append(out, data[copied:i]...)
				out = append(out, p[1]...)
				copied = end
				i = end - 1
				break
			}
		}
	}
	if out == nil {
		return data, nil
	}
	return append(out, data[copied:]...), nil
}

// isDelimiter says whether c may stand next to a token outside strings.
func isDelimiter(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', ',', ':', '[', ']', '{', '}':
		return true
	}
	return false
}
