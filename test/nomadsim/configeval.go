package nomadsim

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// A task's driver config, as a Nomad client reads it: the config is
// encoded as JSON and decoded as HCL (helper/pluginutils/hclutils), so
// each string in it is an HCL template evaluated with the task's
// variables (TaskEnv.AllValues): every environment variable by name, the
// node's attributes as node.*, attr.* and meta.* objects, and env["NAME"].
// "${...}" and "%{...}" are template sequences there, "$${" and "%%{" their
// escapes, and a variable the task does not have fails the task with
// "failed to parse config". Nomad's ReplaceEnv does not touch the config.

// configEvaluator evaluates config strings with one task's variables.
type configEvaluator struct {
	ctx *hcl.EvalContext
}

func newConfigEvaluator(env, attrs map[string]string) *configEvaluator {
	all := map[string]any{}
	flat := make(map[string]cty.Value, len(env))
	for k, v := range env {
		addNested(all, k, v)
		flat[k] = cty.StringVal(v)
	}
	for k, v := range attrs {
		addNested(all, k, v)
	}
	vars := make(map[string]cty.Value, len(all)+1)
	for k, v := range all {
		vars[k] = toCty(v)
	}
	vars["env"] = cty.MapVal(flat)
	if len(flat) == 0 {
		vars["env"] = cty.MapValEmpty(cty.String)
	}
	return &configEvaluator{ctx: &hcl.EvalContext{Variables: vars}}
}

// addNested puts "a.b.c" = v into m as m[a][b][c]; a name that clashes
// with another (attr.cpu beside attr.cpu.arch) is left out, as Nomad
// leaves it out with a warning.
func addNested(m map[string]any, key, v string) {
	parts := strings.Split(key, ".")
	for i, p := range parts {
		if i == len(parts)-1 {
			if _, taken := m[p]; !taken {
				m[p] = v
			}
			return
		}
		next, ok := m[p].(map[string]any)
		if !ok {
			if _, taken := m[p]; taken {
				return
			}
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
}

func toCty(v any) cty.Value {
	switch x := v.(type) {
	case string:
		return cty.StringVal(x)
	case map[string]any:
		attrs := make(map[string]cty.Value, len(x))
		for k, e := range x {
			attrs[k] = toCty(e)
		}
		return cty.ObjectVal(attrs)
	}
	return cty.NilVal
}

// eval evaluates one config string as an HCL template.
func (c *configEvaluator) eval(s string) (string, error) {
	if !strings.Contains(s, "${") && !strings.Contains(s, "%{") {
		return s, nil
	}
	expr, diags := hclsyntax.ParseTemplate([]byte(s), "", hcl.InitialPos)
	if diags.HasErrors() {
		return "", fmt.Errorf("failed to parse config: %s", diags.Error())
	}
	v, diags := expr.Value(c.ctx)
	if diags.HasErrors() {
		return "", fmt.Errorf("failed to parse config: %s", diags.Error())
	}
	if v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
		return "", fmt.Errorf("failed to parse config: %q is not a string", s)
	}
	return v.AsString(), nil
}
