package hcl_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	tunehcl "github.com/nomad-tune/tune/hcl"
)

// withSamples is a one-task experiment whose num_samples is expr.
func withSamples(expr string) string {
	return "experiment \"deep\" {\n  num_samples = " + expr + "\n  task \"train\" {\n    command = \"sh\"\n  }\n}\n"
}

func TestNestingIsBoundedBeforeParsing(t *testing.T) {
	const n = 100_000
	tests := []struct {
		name     string
		filename string
		src      string
		line     int
	}{
		{"a hundred thousand nested parentheses", "exp.hcl", withSamples(strings.Repeat("(", n) + "1" + strings.Repeat(")", n)), 2},
		{"a hundred thousand negations", "exp.hcl", withSamples(strings.Repeat("!", n) + "true"), 2},
		{"a hundred thousand unary minuses", "exp.hcl", withSamples(strings.Repeat("-", n) + "1"), 2},
		{"a chain of a hundred thousand conditionals", "exp.hcl", withSamples(strings.Repeat("true ? 1 : ", n) + "1"), 2},
		{"nested string templates", "exp.hcl", withSamples(strings.Repeat(`"${`, n) + "1" + strings.Repeat(`}"`, n)), 2},
		{"a hundred thousand nested lists", "exp.hcl", withSamples(strings.Repeat("[", n) + strings.Repeat("]", n)), 2},
		{"nested JSON arrays", "exp.json", "{\n\"experiment\": " + strings.Repeat("[", n) + strings.Repeat("]", n) + "}", 2},
		{"deep template in a JSON string", "exp.json", "{\n\"locals\": {\"a\": \"${" + strings.Repeat("(", n) + "1" + strings.Repeat(")", n) + "}\"}}", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp, diags := tunehcl.Load(tt.filename, []byte(tt.src), tunehcl.Options{})
			assert.Nil(t, exp)
			require.Len(t, diags, 1, describe(diags))
			assert.Equal(t, "Nested too deeply", diags[0].Summary)
			require.NotNil(t, diags[0].Subject)
			assert.Equal(t, tt.filename, diags[0].Subject.Filename)
			assert.Equal(t, tt.line, diags[0].Subject.Start.Line)
		})
	}
}

func TestNestedForExpressionsInAJSONStringAreRefused(t *testing.T) {
	src := `{
"locals": {"r": "${range(1000)}", "cube": "${[for a in local.r : [for b in local.r : [for c in local.r : a]]]}"},
"experiment": {"j": {"task": {"train": {"command": "sh"}}}}
}`
	exp, diags := tunehcl.Load("exp.json", []byte(src), tunehcl.Options{})
	assert.Nil(t, exp)
	require.Len(t, diags, 1, describe(diags))
	assert.Equal(t, "Nested for expressions in JSON", diags[0].Summary)
	assert.Equal(t, 2, diags[0].Subject.Start.Line)

	one := strings.Replace(src, "[for b in local.r : [for c in local.r : a]]", "a * 2", 1)
	_, diags = tunehcl.Load("exp.json", []byte(one), tunehcl.Options{})
	assert.False(t, diags.HasErrors(), "one loop is fine:%s", describe(diags))
}

func TestUsualNestingStillParses(t *testing.T) {
	deep := strings.Repeat("(", 30) + "1" + strings.Repeat(")", 30)
	src := `locals {
  a = [for i in range(3) : { v = [i, -i, !true ? -1 : 1] }]
  b = "${"${"x"}"}"
  c = ` + deep + `
  d = -1 - -2 - -3
}
` + withSamples("local.c")
	exp := load(t, src, tunehcl.Options{})
	assert.Equal(t, 1, exp.NumSamples)
}

func TestDeepVarValueIsRefused(t *testing.T) {
	src := `variable "n" {
  type = number
}
` + withSamples("var.n")
	deep := strings.Repeat("(", 10_000) + "1" + strings.Repeat(")", 10_000)
	_, diags := tunehcl.Load("exp.hcl", []byte(src), tunehcl.Options{Vars: []string{"n=" + deep}})
	require.True(t, diags.HasErrors())
	assert.Contains(t, describe(diags), "Nested too deeply")
}

func TestFilesThatAreNotExperimentFilesAreRefused(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.hcl")
	require.NoError(t, os.WriteFile(big, []byte(strings.Repeat("#", tunehcl.MaxFileSize+1)), 0o600))
	tests := []struct {
		name string
		path string
		want string
	}{
		{"an endless device", "/dev/zero", "/dev/zero is a device or socket, not a file"},
		{"a directory", dir, "is a directory"},
		{"a file over the size bound", big, "is larger than 4 MiB"},
		{"a missing file", filepath.Join(dir, "none.hcl"), "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp, diags := tunehcl.LoadFile(tt.path, tunehcl.Options{})
			assert.Nil(t, exp)
			require.Len(t, diags, 1)
			assert.Equal(t, "Cannot read experiment file", diags[0].Summary)
			assert.Contains(t, diags[0].Detail, tt.want)

			exp, diags = tunehcl.Load("exp.hcl", []byte(withSamples("1")), tunehcl.Options{VarFiles: []string{tt.path}})
			assert.Nil(t, exp)
			require.Len(t, diags, 1)
			assert.Equal(t, "Cannot read variable file", diags[0].Summary)
			assert.Contains(t, diags[0].Detail, tt.want)
		})
	}
}

// endless is a reader that never ends, like a pipe from `yes`.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'y'
	}
	return len(p), nil
}

func TestAnEndlessStreamIsReadOnlyToTheBound(t *testing.T) {
	src, d := tunehcl.ReadSourceFrom(endless{}, "standard input", "standard input")
	assert.Nil(t, src)
	require.NotNil(t, d)
	assert.Equal(t, hcl.DiagError, d.Severity)
	assert.Contains(t, d.Detail, "standard input is larger than 4 MiB")
}
