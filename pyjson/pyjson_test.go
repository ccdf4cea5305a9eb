package pyjson

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeReadsPythonsNonFiniteTokensAsFloats(t *testing.T) {
	v, err := Decode([]byte(`{"a": NaN, "b": Infinity, "c": -Infinity, "d": [NaN, 1], "e": "NaN", "f": 1e400, "g": -1e400, "h": 0.5}`), Limits{})
	require.NoError(t, err)
	m := v.(map[string]any)
	assert.True(t, math.IsNaN(m["a"].(float64)))
	assert.Equal(t, math.Inf(1), m["b"])
	assert.Equal(t, math.Inf(-1), m["c"])
	assert.True(t, math.IsNaN(m["d"].([]any)[0].(float64)))
	assert.Equal(t, 1.0, m["d"].([]any)[1])
	assert.Equal(t, "NaN", m["e"], "a string stays a string")
	assert.Equal(t, math.Inf(1), m["f"], "a literal beyond float64 is infinite, as Python reads it")
	assert.Equal(t, math.Inf(-1), m["g"])
	assert.Equal(t, 0.5, m["h"])
}

func TestDecodeRejects(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		lim        Limits
		want       string
	}{
		{"a token glued to a word", `{"a": NaNa}`, Limits{}, "invalid character"},
		{"a marker literal a trainer wrote is a number, not a token", `{"a": 1e999999991x}`, Limits{}, "invalid character"},
		{"nesting deeper than the limit", `{"a": {"b": [[1]]}}`, Limits{Depth: 3}, "more than 3 levels of nesting"},
		{"more keys than the limit", `{"a": 1, "b": {"c": 2}}`, Limits{Keys: 2}, "more than 2 keys"},
		{"text after the value", `{"a": 1} {"b": 2}`, Limits{}, "more follows"},
		{"a colon inside a string is no key", `{"a:b:c": 1}`, Limits{Keys: 1}, ""},
		{"brackets inside a string are no nesting", `{"a": "[[[{{{"}`, Limits{Depth: 1}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode([]byte(tc.text), tc.lim)
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestAMarkerLiteralFromATrainerIsAnOrdinaryHugeNumber(t *testing.T) {
	v, err := Decode([]byte(`{"a": 1e999999991}`), Limits{})
	require.NoError(t, err)
	// Python reads this literal as inf: so does tune, never as NaN.
	assert.Equal(t, math.Inf(1), v.(map[string]any)["a"])
}

func TestMarshalWritesPythonsTokensAndUnmarshalReadsThemBack(t *testing.T) {
	type record struct {
		Name string `json:"name"`
		Last Object `json:"last"`
	}
	in := record{Name: `NaN "Infinity" 1e999999991`, Last: Object{
		"nan": math.NaN(), "inf": math.Inf(1), "ninf": math.Inf(-1), "x": 0.25,
		"nested": map[string]any{"y": math.NaN()}, "list": []any{math.Inf(1), "s"},
	}}
	b, err := Marshal(in, "")
	require.NoError(t, err)
	assert.Equal(t, `{"name":"NaN \"Infinity\" 1e999999991","last":{"inf":Infinity,"list":[Infinity,"s"],"nan":NaN,"nested":{"y":NaN},"ninf":-Infinity,"x":0.25}}`, string(b))

	var out record
	require.NoError(t, Unmarshal(b, &out))
	assert.Equal(t, in.Name, out.Name)
	assert.True(t, math.IsNaN(out.Last["nan"].(float64)))
	assert.Equal(t, math.Inf(1), out.Last["inf"])
	assert.Equal(t, math.Inf(-1), out.Last["ninf"])
	assert.Equal(t, 0.25, out.Last["x"])
	assert.True(t, math.IsNaN(out.Last["nested"].(map[string]any)["y"].(float64)))
	assert.Equal(t, []any{math.Inf(1), "s"}, out.Last["list"])
}

func TestMarshalIndentsAndLeavesFiniteDocumentsAsEncodingJSONWritesThem(t *testing.T) {
	b, err := Marshal(map[string]any{"a": Object{"b": 1.5, "c": "<&>"}}, "  ")
	require.NoError(t, err)
	assert.Equal(t, "{\n  \"a\": {\n    \"b\": 1.5,\n    \"c\": \"<&>\"\n  }\n}", string(b))
}

func TestANilObjectIsNull(t *testing.T) {
	b, err := Marshal(struct {
		O Object `json:"o"`
	}{}, "")
	require.NoError(t, err)
	assert.Equal(t, `{"o":null}`, string(b))
}
