package experiment_test

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"

	"github.com/nomad-tune/tune/experiment"
)

// expr parses one native-syntax expression; its source is registered so
// runtime interpolations can be passed through.
func expr(t *testing.T, e *experiment.Experiment, text string) hcl.Expression {
	t.Helper()
	name := "expr" + string(rune('a'+len(e.Sources))) + ".hcl"
	x, diags := hclsyntax.ParseExpression([]byte(text), name, hcl.InitialPos)
	require.False(t, diags.HasErrors(), diags.Error())
	e.Sources[name] = []byte(text)
	return x
}

// oneParam is an experiment whose space is one parameter x, with one group
// of one task; set fills in its resources.
func oneParam(t *testing.T, set func(e *experiment.Experiment, r *experiment.ResourcesSpec, g *experiment.Group)) *experiment.Experiment {
	t.Helper()
	e := &experiment.Experiment{
		Name:    "resolve",
		Context: &hcl.EvalContext{},
		Sources: map[string][]byte{},
		Space: experiment.Space{Params: []*experiment.Param{
			{Name: "x", Dist: &experiment.Distribution{Kind: experiment.KindUniform, Lo: -1, Hi: 1}},
		}},
	}
	r := &experiment.ResourcesSpec{}
	g := &experiment.Group{Name: "trial", Tasks: []*experiment.Task{{Name: "train", Driver: "raw_exec", Resources: r}}}
	e.Groups = []*experiment.Group{g}
	set(e, r, g)
	return e
}

func withX(x cty.Value) experiment.TrialVars {
	return experiment.TrialVars{ID: "00000-abcdef", Index: 0, Values: []cty.Value{x}}
}

func TestResolveShapeChecksEachTrialsValues(t *testing.T) {
	tests := []struct {
		name string
		set  func(t *testing.T, e *experiment.Experiment, r *experiment.ResourcesSpec, g *experiment.Group)
		x    cty.Value
		want string
	}{
		{
			name: "a cpu that is negative for this trial",
			set: func(t *testing.T, e *experiment.Experiment, r *experiment.ResourcesSpec, _ *experiment.Group) {
				r.CPU = expr(t, e, "trial.x")
			},
			x:    cty.NumberFloatVal(-0.5),
			want: "Invalid value for cpu: cpu must not be negative: it is the cores a trial takes, 0 for none (fractions such as 0.5 share a core); got -0.5.",
		},
		{
			name: "a count that is not whole",
			set: func(t *testing.T, e *experiment.Experiment, _ *experiment.ResourcesSpec, g *experiment.Group) {
				g.Count = expr(t, e, "trial.x * 4")
			},
			x:    cty.NumberFloatVal(0.3),
			want: "Invalid value for count: The count must be a whole number; got 1.2.",
		},
		{
			name: "a count that is too large",
			set: func(t *testing.T, e *experiment.Experiment, _ *experiment.ResourcesSpec, g *experiment.Group) {
				g.Count = expr(t, e, "trial.x * 1e12")
			},
			x:    cty.NumberIntVal(1),
			want: "Invalid value for count: The count must be at most 1000; got 1e+12.",
		},
		{
			name: "a gpu over one that is not whole",
			set: func(t *testing.T, e *experiment.Experiment, r *experiment.ResourcesSpec, _ *experiment.Group) {
				r.GPU = expr(t, e, "trial.x + 1")
			},
			x:    cty.NumberFloatVal(0.5),
			want: "Invalid value for gpu: A request for more than one GPU must be a whole number; got 1.5.",
		},
		{
			name: "a memory size in a string that is not a size",
			set: func(t *testing.T, e *experiment.Experiment, r *experiment.ResourcesSpec, _ *experiment.Group) {
				r.Memory = expr(t, e, `"${trial.x} GiB"`)
			},
			x:    cty.StringVal("lots of"),
			want: `Invalid value for memory: Unknown size unit "lots of GiB" in "lots of GiB"`,
		},
		{
			name: "a memory_max below memory for this trial",
			set: func(t *testing.T, e *experiment.Experiment, r *experiment.ResourcesSpec, _ *experiment.Group) {
				r.Memory = expr(t, e, `1024`)
				r.MemoryMax = expr(t, e, `trial.x * 1000`)
			},
			x:    cty.NumberFloatVal(0.5),
			want: "Invalid value for memory_max: memory_max (500 MiB) must be at least memory (1024 MiB).",
		},
		{
			name: "a null cpu",
			set: func(t *testing.T, e *experiment.Experiment, r *experiment.ResourcesSpec, _ *experiment.Group) {
				r.CPU = expr(t, e, `trial.x > 0 ? 1 : null`)
			},
			x:    cty.NumberFloatVal(-1),
			want: "Invalid value for cpu: The cpu must be a number, not null.",
		},
		{
			name: "a device count below zero",
			set: func(t *testing.T, e *experiment.Experiment, r *experiment.ResourcesSpec, _ *experiment.Group) {
				r.Devices = []*experiment.DeviceSpec{{Name: "nvidia/gpu", Count: expr(t, e, "trial.x")}}
			},
			x:    cty.NumberIntVal(-1),
			want: "Invalid value for device count: The device count must be at least 0; got -1.",
		},
		{
			name: "a constraint operator that Nomad does not know",
			set: func(t *testing.T, e *experiment.Experiment, _ *experiment.ResourcesSpec, g *experiment.Group) {
				g.Constraints = []*experiment.ConstraintSpec{{Attribute: expr(t, e, `"${attr.cpu.arch}"`), Operator: expr(t, e, `trial.x`), Value: expr(t, e, `"amd64"`)}}
			},
			x:    cty.StringVal("like"),
			want: `Invalid constraint operator: "like" is not a constraint operator`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := oneParam(t, func(e *experiment.Experiment, r *experiment.ResourcesSpec, g *experiment.Group) { tt.set(t, e, r, g) })
			require.False(t, e.PrepareShapes().HasErrors(), "an unknown trial shows no error")

			_, diags := e.ResolveShape(withX(tt.x))
			require.Len(t, diags, 1, "%v", diags)
			d := diags[0]
			assert.Equal(t, hcl.DiagError, d.Severity)
			assert.True(t, strings.Contains(d.Summary+": "+d.Detail, tt.want), "got %q", d.Summary+": "+d.Detail)
			require.NotNil(t, d.Subject, "a per-trial error points at its expression")
		})
	}
}

func TestResolveShapeWithAnUnknownTrialFindsTypeErrors(t *testing.T) {
	e := oneParam(t, func(e *experiment.Experiment, r *experiment.ResourcesSpec, g *experiment.Group) {
		e.Space.Params[0].Dist = &experiment.Distribution{Kind: experiment.KindChoice, Values: []cty.Value{cty.StringVal("adam"), cty.StringVal("sgd")}}
		g.Count = expr(t, e, `trial.x == "adam"`)
		r.CPU = expr(t, e, `trial.x`)
	})
	diags := e.PrepareShapes()
	require.Len(t, diags, 1, "a string may still convert to a number, a bool never: %v", diags)
	assert.Equal(t, "Invalid value for count", diags[0].Summary)
	assert.Equal(t, "The count must be a number; this is bool.", diags[0].Detail)
}

func TestPrepareShapesSharesOneShapeOnlyWhenNothingDependsOnTheTrial(t *testing.T) {
	static := oneParam(t, func(e *experiment.Experiment, r *experiment.ResourcesSpec, _ *experiment.Group) {
		r.CPU = expr(t, e, "2")
	})
	require.Empty(t, static.PrepareShapes())
	a, _ := static.ResolveShape(withX(cty.NumberFloatVal(0.1)))
	b, _ := static.ResolveShape(withX(cty.NumberFloatVal(0.2)))
	assert.Same(t, a, b)

	perTrial := oneParam(t, func(e *experiment.Experiment, r *experiment.ResourcesSpec, _ *experiment.Group) {
		r.CPU = expr(t, e, "trial.x + 2")
	})
	require.Empty(t, perTrial.PrepareShapes())
	a, _ = perTrial.ResolveShape(withX(cty.NumberFloatVal(0.5)))
	b, _ = perTrial.ResolveShape(withX(cty.NumberFloatVal(-0.5)))
	assert.InDelta(t, 2.5, a.Groups[0].Tasks[0].CPU, 1e-12)
	assert.InDelta(t, 1.5, b.Groups[0].Tasks[0].CPU, 1e-12)
}

func TestShapeDescribesItsRequest(t *testing.T) {
	shape := experiment.Shape{Groups: []experiment.GroupShape{
		{Name: "ps", Count: 1, Tasks: []experiment.TaskResources{{Task: "server", Cores: 2, MemoryMiB: 2048}}},
		{Name: "worker", Count: 4, Tasks: []experiment.TaskResources{
			{Task: "train", CPU: 0.5, MemoryMiB: 1024, MemoryMaxMiB: 2048, GPU: 1, Devices: []experiment.DeviceRequest{{Name: "xilinx/fpga", Count: 1}}},
			{Task: "log", CPU: 0.25, MemoryMiB: 64},
		}},
	}}
	assert.Equal(t, 5, shape.Allocs())
	total := shape.Groups[1].Total()
	assert.Equal(t, "cpu 0.75, memory 1088 MiB, memory_max 2048 MiB, gpu 1, xilinx/fpga 1", total.Summary())
	assert.Equal(t, "ps 1 × {cores 2, memory 2048 MiB} + worker 4 × {cpu 0.75, memory 1088 MiB, memory_max 2048 MiB, gpu 1, xilinx/fpga 1}", shape.String())

	same := shape
	same.Groups = append([]experiment.GroupShape(nil), shape.Groups...)
	assert.Equal(t, shape.Key(), same.Key())
	same.Groups[0].Count = 2
	assert.NotEqual(t, shape.Key(), same.Key(), "a different count is a different shape")
}

func TestGoValueConvertsCtyValuesToPlainGo(t *testing.T) {
	tests := []struct {
		name string
		in   cty.Value
		want any
	}{
		{"a whole number is an int64", cty.NumberIntVal(3), int64(3)},
		{"a fraction is a float64", cty.NumberFloatVal(0.5), 0.5},
		{"a string", cty.StringVal("adam"), "adam"},
		{"a bool", cty.True, true},
		{"null is nil", cty.NullVal(cty.String), nil},
		{"unknown is nil", cty.UnknownVal(cty.Number), nil},
		{"a tuple is a slice", cty.TupleVal([]cty.Value{cty.NumberIntVal(1), cty.StringVal("a")}), []any{int64(1), "a"}},
		{"an object is a map", cty.ObjectVal(map[string]cty.Value{"depth": cty.NumberIntVal(3)}), map[string]any{"depth": int64(3)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, experiment.GoValue(tt.in))
		})
	}
}

func TestRuntimeRootsAreNomadsInterpolationVariables(t *testing.T) {
	for _, name := range []string{"attr", "node", "meta", "device", "env", "NOMAD_ALLOC_DIR", "NOMAD_TASK_DIR"} {
		assert.True(t, experiment.IsRuntimeRoot(name), name)
	}
	for _, name := range []string{"trial", "var", "local", "nomad", "attribute"} {
		assert.False(t, experiment.IsRuntimeRoot(name), name)
	}
}

func TestReferencesTrialFindsTrialInAnyExpression(t *testing.T) {
	e := &experiment.Experiment{Sources: map[string][]byte{}}
	assert.True(t, experiment.ReferencesTrial(nil, expr(t, e, `"${trial.x}"`)))
	assert.True(t, experiment.ReferencesTrial(expr(t, e, `trial.opt == "adam" ? 1 : 0`)))
	assert.False(t, experiment.ReferencesTrial(nil, expr(t, e, `var.x + 1`), expr(t, e, `"${attr.cpu.arch}"`)))
}
