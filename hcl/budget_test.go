package hcl_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"

	"github.com/nomad-tune/tune/experiment"
	tunehcl "github.com/nomad-tune/tune/hcl"
)

// withLocals is an experiment after a locals block; args is the task's
// args expression.
func withLocals(locals, args string) string {
	return "locals {\n" + locals + "}\n" + `experiment "big" {
  space {
    n = grid([1, 2, 3])
  }
  task "train" {
    command = "sh"
    args    = ` + args + `
  }
}
`
}

// chain is n locals, each built from the one before by step (with PREV
// for the previous one's name).
func chain(first string, n int, step string) string {
	var b strings.Builder
	b.WriteString("  v0 = " + first + "\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  v%d = %s\n", i, strings.ReplaceAll(step, "PREV", fmt.Sprintf("local.v%d", i-1)))
	}
	return b.String()
}

func TestExpressionsThatWouldExhaustMemoryAreRefused(t *testing.T) {
	tests := []struct {
		name   string
		locals string
		args   string
		line   int
		want   string
	}{
		{"setproduct of three ranges of a thousand", "  big = setproduct(range(1000), range(1000), range(1000))\n", `["a"]`, 2, "The arguments of setproduct are too large"},
		{"three nested for expressions over a thousand", "  r = range(1000)\n  big = [for a in local.r : [for b in local.r : [for c in local.r : a]]]\n", `["a"]`, 3, "These for expressions iterate too often"},
		{"a format width of a billion", "  big = format(\"%01000000000d\", 1)\n", `["a"]`, 2, "The arguments of format are too large"},
		{"replace that squares a string eight times", chain(`"xx"`, 8, `replace(PREV, "x", PREV)`), `["a"]`, 0, "too large"},
		{"a template that doubles a string forty times", chain(`"xx"`, 40, `"${PREV}${PREV}"`), `["a"]`, 0, "too large"},
		{"a list of references doubled forty times", chain(`["x"]`, 40, `[PREV, PREV]`), `[jsonencode(local.v40)]`, 0, "too large"},
		{"nested for expressions evaluated per trial", "  r = range(1000)\n  s = format(\"%10000s\", \"\")\n", `[for a in local.r : [for b in local.r : "${local.s}${trial.n}"]]`, 11, "The values built here are too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp, diags := tunehcl.Load("exp.hcl", []byte(withLocals(tt.locals, tt.args)), tunehcl.Options{})
			assert.Nil(t, exp)
			require.Len(t, diags.Errs(), 1, describe(diags))
			assert.Equal(t, "Value too large", diags[0].Summary)
			assert.Contains(t, diags[0].Detail, tt.want)
			require.NotNil(t, diags[0].Subject)
			if tt.line > 0 {
				assert.Equal(t, tt.line, diags[0].Subject.Start.Line)
			}
		})
	}
}

func TestUsualExpressionsFitTheBudget(t *testing.T) {
	locals := `  r     = range(100)
  pairs = setproduct(local.r, ["a", "b"])
  grid  = flatten([for a in local.r : [for b in local.r : a * b]])
  text  = join(",", [for p in local.pairs : format("%03d-%s", p[0], p[1])])
  wide  = replace(local.text, ",", ", ")
`
	exp := load(t, withLocals(locals, `[local.wide, "${length(local.grid)}", "${trial.n}"]`), tunehcl.Options{})
	tasks := tasksOf(t, exp, trialOf(exp, 0, map[string]cty.Value{"n": cty.NumberIntVal(2)}))
	require.NotEmpty(t, tasks)
	assert.Equal(t, "10000", tasks[0][0].Args[1])
}

func TestEveryTrialGetsTheWholeBudgetAgain(t *testing.T) {
	// Each trial builds 50 strings of 90,000 bytes, and its args are
	// charged whole too: more than half of the budget.
	args := `[for a in range(50) : "${local.s}${trial.n}"]`
	exp := load(t, withLocals("  s = format(\"%90000s\", \"\")\n", args), tunehcl.Options{})
	for i := range 3 {
		tasks := tasksOf(t, exp, trialOf(exp, i, map[string]cty.Value{"n": cty.NumberIntVal(1)}))
		assert.Len(t, tasks[0][0].Args, 50)
	}
	assert.Less(t, exp.Budget.Left(), int64(experiment.BudgetUnits/2), "a trial should have spent most of the budget")
}

func TestAVariableFileIsChargedToo(t *testing.T) {
	src := `variable "l" {}
` + withLocals("", `["a"]`)
	// 24 KB of text that builds 20 MB.
	thousand := "[" + strings.Repeat("0, ", 999) + "0]"
	path := filepath.Join(t.TempDir(), "vars.hcl")
	vars := fmt.Sprintf("l = [for a in %s : %q]\n", thousand, strings.Repeat("x", 20_000))
	require.NoError(t, os.WriteFile(path, []byte(vars), 0o600))
	_, diags := tunehcl.Load("exp.hcl", []byte(src), tunehcl.Options{VarFiles: []string{path}})
	require.Len(t, diags.Errs(), 1, describe(diags))
	assert.Equal(t, "Value too large", diags[0].Summary)
	assert.Equal(t, path, diags[0].Subject.Filename)
}
