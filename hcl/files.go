package hcl

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// fileFunctions are Terraform's filesystem functions. A relative path is
// taken relative to dir, the experiment file's folder (Terraform's
// path.module), not to the folder tune was started in: an experiment then
// reads the same files whoever runs it from wherever, and local tasks,
// which run in that folder, see the same paths.
//
// Reads go through ReadSource, so a file is bounded like the experiment
// file itself; what they return is charged to the evaluation budget by the
// bounded wrapper every function gets. templatefile evaluates its template
// with funcs, which the caller fills once the whole table is built (the
// template may call every function but templatefile itself, as in
// Terraform).
func fileFunctions(dir string, funcs *map[string]function.Function) map[string]function.Function {
	resolve := func(p string) string {
		if filepath.IsAbs(p) {
			return filepath.Clean(p)
		}
		return filepath.Join(dir, p)
	}
	pathParam := []function.Parameter{{Name: "path", Type: cty.String}}
	read := func(p string) (string, error) {
		if p == "" {
			return "", errors.New("the path is empty")
		}
		src, d := ReadSource(resolve(p), "file")
		if d != nil {
			return "", errors.New(d.Detail)
		}
		if !utf8.Valid(src) {
			return "", fmt.Errorf("%s is not UTF-8 text", p)
		}
		return string(src), nil
	}
	return map[string]function.Function{
		"abspath":  stringFunc("The absolute form of a path; a relative path is taken from the experiment file's folder.", resolve),
		"basename": stringFunc("The last element of a path.", filepath.Base),
		"dirname":  stringFunc("A path without its last element.", filepath.Dir),
		"fileexists": function.New(&function.Spec{
			Description: "Whether a file exists at the path; a folder is an error, as in Terraform.",
			Params:      pathParam,
			Type:        function.StaticReturnType(cty.Bool),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				p := args[0].AsString()
				st, err := os.Stat(resolve(p))
				switch {
				case errors.Is(err, fs.ErrNotExist):
					return cty.False, nil
				case err != nil:
					return cty.NilVal, fmt.Errorf("cannot look at %s: %w", p, err)
				case st.IsDir():
					return cty.NilVal, fmt.Errorf("%s is a folder, not a file", p)
				}
				return cty.True, nil
			},
		}),
		"file": function.New(&function.Spec{
			Description: "The contents of a UTF-8 text file.",
			Params:      pathParam,
			Type:        function.StaticReturnType(cty.String),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				text, err := read(args[0].AsString())
				if err != nil {
					return cty.NilVal, err
				}
				return cty.StringVal(text), nil
			},
		}),
		"templatefile": function.New(&function.Spec{
			Description: "A file rendered as a string template with the given variables.",
			Params: []function.Parameter{
				{Name: "path", Type: cty.String},
				{Name: "vars", Type: cty.DynamicPseudoType},
			},
			Type: function.StaticReturnType(cty.String),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				p := args[0].AsString()
				text, err := read(p)
				if err != nil {
					return cty.NilVal, err
				}
				return renderTemplateFile(p, text, args[1], *funcs)
			},
		}),
	}
}

// stringFunc is a function of one string to one string.
func stringFunc(description string, f func(string) string) function.Function {
	return function.New(&function.Spec{
		Description: description,
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.StringVal(f(args[0].AsString())), nil
		},
	})
}

// renderTemplateFile evaluates text as an HCL string template, as
// Terraform's templatefile does: vars is an object or map whose keys are
// the template's only variables.
func renderTemplateFile(name, text string, vars cty.Value, funcs map[string]function.Function) (cty.Value, error) {
	ty := vars.Type()
	if vars.IsNull() || !(ty.IsObjectType() || ty.IsMapType()) {
		return cty.NilVal, errors.New("the vars of templatefile must be an object or a map, such as { name = \"x\" }")
	}
	if !vars.IsWhollyKnown() {
		return cty.UnknownVal(cty.String), nil
	}
	src := []byte(text)
	tokens, _ := hclsyntax.LexTemplate(src, name, hcl.InitialPos)
	if d := checkNesting(tokens); d != nil {
		return cty.NilVal, fmt.Errorf("%s: %s", name, d.Detail)
	}
	expr, diags := hclsyntax.ParseTemplate(src, name, hcl.InitialPos)
	if diags.HasErrors() {
		return cty.NilVal, fmt.Errorf("%s", diags.Error())
	}
	chargeExpressions(expr)
	variables := map[string]cty.Value{}
	for it := vars.ElementIterator(); it.Next(); {
		k, v := it.Element()
		key := k.AsString()
		if !hclsyntax.ValidIdentifier(key) {
			return cty.NilVal, fmt.Errorf("%q cannot be a template variable: a name starts with a letter and holds letters, digits, '_' and '-'", key)
		}
		variables[key] = v
	}
	inner := make(map[string]function.Function, len(funcs))
	for n, f := range funcs {
		if n != "templatefile" {
			inner[n] = f
		}
	}
	v, diags := expr.Value(&hcl.EvalContext{Variables: variables, Functions: inner})
	if diags.HasErrors() {
		return cty.NilVal, fmt.Errorf("%s", diags.Error())
	}
	if v.IsNull() {
		return cty.NilVal, fmt.Errorf("%s renders to null", name)
	}
	return v, nil
}

// pathObject is `path`: path.module, the experiment file's folder, and
// path.cwd, the folder tune runs in, both absolute.
func pathObject(dir string) cty.Value {
	cwd, err := os.Getwd()
	if err != nil {
		cwd = dir
	}
	return cty.ObjectVal(map[string]cty.Value{
		"module": cty.StringVal(dir),
		"cwd":    cty.StringVal(cwd),
	})
}
