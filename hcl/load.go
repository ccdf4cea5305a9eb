package hcl

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/nomad-tune/tune/experiment"
)

// Options are the inputs of a load besides the file itself.
type Options struct {
	// Vars are -var arguments, "name=value", in the order given; later
	// ones win, and they win over VarFiles.
	Vars []string
	// VarFiles are -var-file paths, read in order.
	VarFiles []string
	// Parser keeps the parsed files so that a caller can print
	// diagnostics with their source snippets; nil makes a new one.
	Parser *hclparse.Parser
}

// LoadFile reads and decodes one experiment file.
func LoadFile(filename string, opts Options) (*experiment.Experiment, hcl.Diagnostics) {
	src, d := ReadSource(filename, "experiment file")
	if d != nil {
		return nil, hcl.Diagnostics{d}
	}
	return Load(filename, src, opts)
}

// Load decodes an experiment from src, read from filename.
func Load(filename string, src []byte, opts Options) (*experiment.Experiment, hcl.Diagnostics) {
	parser := opts.Parser
	if parser == nil {
		parser = hclparse.NewParser()
	}
	file, diags := Parse(parser, src, filename)
	if diags.HasErrors() {
		clampRanges(diags, filename, src)
		return nil, diags
	}
	if body, ok := file.Body.(*hclsyntax.Body); ok {
		chargeExpressions(body)
	}
	l := &loader{parser: parser, sources: map[string][]byte{filename: src}, budget: experiment.NewBudget()}
	exp, d := l.load(file, filename, opts)
	explainReferences(d, l.ctx)
	experiment.ExplainBudget(d)
	diags = append(diags, experiment.FirstBudgetError(d)...)
	if diags.HasErrors() {
		return nil, diags
	}
	return exp, diags
}

type loader struct {
	parser  *hclparse.Parser
	sources map[string][]byte
	// ctx is the file's evaluation context once it is made.
	ctx *hcl.EvalContext
	// budget bounds what evaluating the file builds; the experiment
	// refills it for each trial.
	budget *experiment.Budget
}

var fileSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "experiment", LabelNames: []string{"name"}},
	},
}

func (l *loader) load(file *hcl.File, filename string, opts Options) (*experiment.Experiment, hcl.Diagnostics) {
	content, diags := file.Body.Content(fileSchema)
	var varBlocks, localBlocks, expBlocks []*hcl.Block
	for _, b := range content.Blocks {
		switch b.Type {
		case "variable":
			varBlocks = append(varBlocks, b)
		case "locals":
			localBlocks = append(localBlocks, b)
		case "experiment":
			expBlocks = append(expBlocks, b)
		}
	}
	if len(expBlocks) == 0 {
		if diags.HasErrors() {
			// An experiment block with a missing label, or a misspelt one,
			// has its own error already.
			return nil, diags
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing experiment block",
			Detail:   `An experiment file needs one block such as experiment "quadratic" { ... }.`,
			Subject:  hcl.Range{Filename: filename, Start: hcl.InitialPos, End: hcl.InitialPos}.Ptr(),
		})
		return nil, diags
	}
	for _, b := range expBlocks[1:] {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Duplicate experiment block",
			Detail:   fmt.Sprintf("A file holds one experiment; the first is defined at %s.", expBlocks[0].DefRange),
			Subject:  b.DefRange.Ptr(),
		})
	}

	abs, err := filepath.Abs(filename)
	if err != nil {
		abs = filename
	}
	dir := filepath.Dir(abs)
	var funcs map[string]function.Function
	all := Functions()
	for name, f := range fileFunctions(dir, &funcs) {
		all[name] = f
	}
	funcs = spaceOnlyFunctions(boundedFunctions(all, l.budget))
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"path": pathObject(dir)}, Functions: funcs}
	l.ctx = ctx
	vars, d := l.variables(varBlocks, opts, ctx)
	diags = append(diags, d...)
	ctx.Variables["var"] = cty.ObjectVal(vars)
	if diags.HasErrors() {
		return nil, diags
	}
	locals, d := evalLocals(localBlocks, ctx, l.budget)
	diags = append(diags, d...)
	ctx.Variables["local"] = cty.ObjectVal(locals)
	if diags.HasErrors() {
		return nil, diags
	}

	exp, d := l.decodeExperiment(expBlocks[0], ctx)
	diags = append(diags, d...)
	if diags.HasErrors() {
		return nil, diags
	}
	exp.Filename = filename
	exp.Dir = dir
	exp.Sources = l.sources
	exp.Context = ctx
	exp.Budget = l.budget

	// Check the trial template once with unknown values: types, bounds of
	// constant values and operators fail here, before any trial exists.
	diags = append(diags, exp.PrepareShapes()...)
	_, d = exp.ResolveTasks(exp.UnknownTrial())
	diags = append(diags, d...)
	_, d = exp.ResolveGroups(exp.UnknownTrial())
	diags = append(diags, d...)
	if diags.HasErrors() {
		return nil, diags
	}
	return exp, diags
}

// variables decodes variable blocks and assigns their values: defaults,
// then -var-file files in order, then -var arguments.
func (l *loader) variables(blocks []*hcl.Block, opts Options, ctx *hcl.EvalContext) (map[string]cty.Value, hcl.Diagnostics) {
	type variable struct {
		block *hcl.Block
		typ   cty.Type
		def   *cty.Value
		// hasDefault is true when a default is written, even one that
		// failed (and was reported).
		hasDefault bool
	}
	var diags hcl.Diagnostics
	decl := map[string]*variable{}
	var order []string
	schema := &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "type"}, {Name: "default"}, {Name: "description"}, {Name: "sensitive"}}}
	for _, b := range blocks {
		name := b.Labels[0]
		if first, ok := decl[name]; ok {
			diags = append(diags, duplicate("variable", name, b.DefRange, first.block.DefRange))
			continue
		}
		if !hclsyntax.ValidIdentifier(name) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid variable name",
				Detail:   "A variable name must start with a letter or underscore and hold only letters, digits, underscores and dashes.",
				Subject:  b.LabelRanges[0].Ptr(),
			})
			continue
		}
		content, d := b.Body.Content(schema)
		diags = append(diags, d...)
		v := &variable{block: b, typ: cty.DynamicPseudoType}
		if a, ok := content.Attributes["type"]; ok {
			t, d := typeexpr.TypeConstraint(a.Expr)
			diags = append(diags, d...)
			if !d.HasErrors() {
				v.typ = t
			}
		}
		if a, ok := content.Attributes["default"]; ok {
			v.hasDefault = true
			val, d := a.Expr.Value(budgetContext(l.budget))
			diags = append(diags, d...)
			if !d.HasErrors() {
				if cd := chargeValue(l.budget, val, a.Expr.Range()); cd != nil {
					diags = append(diags, cd)
					continue
				}
				conv, err := convert.Convert(val, v.typ)
				if err != nil {
					diags = append(diags, &hcl.Diagnostic{
						Severity: hcl.DiagError,
						Summary:  "Invalid default value for variable",
						Detail:   fmt.Sprintf("This default value is not compatible with the variable's type: %s.", err),
						Subject:  a.Expr.Range().Ptr(),
					})
				} else {
					v.def = &conv
				}
			}
		}
		for _, attrName := range []string{"description", "sensitive"} {
			if a, ok := content.Attributes[attrName]; ok {
				_, d := a.Expr.Value(budgetContext(l.budget))
				diags = append(diags, d...)
			}
		}
		decl[name] = v
		order = append(order, name)
	}

	values := map[string]cty.Value{}
	assign := func(name string, val cty.Value, rng hcl.Range, from string) {
		v, ok := decl[name]
		if !ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Value for undeclared variable",
				Detail:   fmt.Sprintf("%s sets %q, but the experiment file declares no variable %q. Declare it with a variable block%s.", from, name, name, suggest(name, order)),
				Subject:  rangePtr(rng),
			})
			return
		}
		conv, err := convert.Convert(val, v.typ)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid value for variable",
				Detail:   fmt.Sprintf("%s gives %q a value that does not match its type %s: %s.", from, name, typeexpr.TypeString(v.typ), err),
				Subject:  rangePtr(rng),
			})
			return
		}
		values[name] = conv
	}
	// failed holds the variables whose given value was wrong: that error
	// is theirs, not a missing value.
	failed := map[string]bool{}
	for _, path := range opts.VarFiles {
		src, rd := ReadSource(path, "variable file")
		if rd != nil {
			diags = append(diags, rd)
			continue
		}
		f, d := Parse(l.parser, src, path)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		if body, ok := f.Body.(*hclsyntax.Body); ok {
			chargeExpressions(body)
		}
		l.sources[path] = src
		attrs, d := f.Body.JustAttributes()
		diags = append(diags, d...)
		for _, a := range sortedAttributes(attrs) {
			val, d := a.Expr.Value(budgetContext(l.budget))
			diags = append(diags, d...)
			if d.HasErrors() {
				failed[a.Name] = true
				continue
			}
			if cd := chargeValue(l.budget, val, a.Expr.Range()); cd != nil {
				diags = append(diags, cd)
				failed[a.Name] = true
				continue
			}
			assign(a.Name, val, a.NameRange, "The variable file "+path)
		}
	}
	for _, arg := range opts.Vars {
		name, raw, ok := strings.Cut(arg, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid -var option",
				Detail:   fmt.Sprintf("The option -var %q is not of the form name=value.", arg),
			})
			continue
		}
		typ := cty.DynamicPseudoType
		if v, ok := decl[name]; ok {
			typ = v.typ
		}
		val, d := parseVarValue(name, raw, typ, l.budget)
		if d != nil {
			diags = append(diags, d)
			failed[name] = true
			continue
		}
		assign(name, val, hcl.Range{}, "The option -var "+name)
	}
	for _, name := range order {
		if _, ok := values[name]; ok || failed[name] {
			continue
		}
		if v := decl[name]; v.def != nil {
			values[name] = *v.def
			continue
		} else if v.hasDefault {
			continue
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No value for required variable",
			Detail:   fmt.Sprintf("The variable %q has no default: set it with -var %s=... or in a -var-file.", name, name),
			Subject:  decl[name].block.DefRange.Ptr(),
		})
	}
	return values, diags
}

// parseVarValue reads a -var value: as literal text for a string
// variable; as an HCL expression for other types, as Terraform does; for
// an untyped variable, as an expression when it reads as a number, bool,
// list or object, and as text otherwise.
func parseVarValue(name, raw string, typ cty.Type, budget *experiment.Budget) (cty.Value, *hcl.Diagnostic) {
	if typ == cty.String {
		return cty.StringVal(raw), nil
	}
	expr, diags := parseExpression([]byte(raw), "-var "+name)
	if !diags.HasErrors() {
		chargeExpressions(expr)
		val, d := expr.Value(budgetContext(budget))
		experiment.ExplainBudget(d)
		if !d.HasErrors() {
			if cd := chargeValue(budget, val, expr.Range()); cd != nil {
				return cty.NilVal, cd
			}
			return val, nil
		}
		diags = d
	}
	if typ == cty.DynamicPseudoType {
		return cty.StringVal(raw), nil
	}
	return cty.NilVal, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid value for variable",
		Detail:   fmt.Sprintf("The option -var %s=%s is not a valid %s value: %s.", name, raw, typeexpr.TypeString(typ), diags[0].Summary),
	}
}

// explainReferences rewrites HCL's generic diagnostics about references
// to undeclared variables and locals ("This object does not have an
// attribute named ...") and to Nomad's runtime variables where they are not
// passed through, so that they say what is wrong.
func explainReferences(diags hcl.Diagnostics, ctx *hcl.EvalContext) {
	for _, d := range diags {
		expr, ok := d.Expression.(*hclsyntax.ScopeTraversalExpr)
		if !ok || d.Severity != hcl.DiagError || d.Subject == nil {
			continue
		}
		tr := expr.Traversal
		root := tr.RootName()
		switch {
		case d.Summary == "Unsupported attribute" && (root == "var" || root == "local") && len(tr) >= 2:
			attr, ok := tr[1].(hcl.TraverseAttr)
			// Only when the missing attribute is the name itself: var.x.y,
			// where x exists but has no y, is another error.
			if !ok || *d.Subject != attr.SrcRange || ctx == nil {
				continue
			}
			var declared []string
			if obj, ok := ctx.Variables[root]; ok && obj.Type().IsObjectType() {
				for name := range obj.Type().AttributeTypes() {
					declared = append(declared, name)
				}
				sort.Strings(declared)
			}
			if root == "var" {
				d.Summary = "Reference to undeclared input variable"
				d.Detail = fmt.Sprintf("No variable named %q is declared%s. Declare it with a block such as variable %q { default = ... }.", attr.Name, suggest(attr.Name, declared), attr.Name)
			} else {
				d.Summary = "Reference to undeclared local value"
				d.Detail = fmt.Sprintf("No local value named %q is declared%s. Declare it in a locals block.", attr.Name, suggest(attr.Name, declared))
			}
		case d.Summary == "Unknown variable" && experiment.IsRuntimeRoot(root):
			d.Detail = fmt.Sprintf("%s is one of Nomad's runtime variables (as are attr, node, meta, device, env and NOMAD_*), which Nomad fills in where a trial runs: they can be used only inside strings, such as \"${%s}\", in a task's command, args, env and config, and in constraints.", root, exprText(tr))
		}
	}
}

// exprText writes a traversal of attribute steps as it reads in a file.
func exprText(tr hcl.Traversal) string {
	text := tr.RootName()
	for _, step := range tr[1:] {
		attr, ok := step.(hcl.TraverseAttr)
		if !ok {
			break
		}
		text += "." + attr.Name
	}
	return text
}

// clampRanges keeps the ranges of diagnostics inside src: HCL's JSON
// parser points one byte past the end of an unterminated string, where a
// caller printing the source line would find nothing.
func clampRanges(diags hcl.Diagnostics, filename string, src []byte) {
	for _, d := range diags {
		for _, rp := range []**hcl.Range{&d.Subject, &d.Context} {
			r := *rp
			if r == nil || r.Filename != filename || r.End.Byte <= len(src) {
				continue
			}
			end := hcl.Pos{Line: 1 + bytes.Count(src, []byte("\n")), Byte: len(src)}
			end.Column = 1 + utf8.RuneCount(src[bytes.LastIndexByte(src, '\n')+1:])
			c := *r
			c.End = end
			if c.Start.Byte > end.Byte {
				c.Start = end
			}
			*rp = &c
		}
	}
}

func rangePtr(r hcl.Range) *hcl.Range {
	if r.Filename == "" {
		return nil
	}
	return r.Ptr()
}

// evalLocals evaluates locals in dependency order; a local may use
// variables and other locals.
func evalLocals(blocks []*hcl.Block, ctx *hcl.EvalContext, budget *experiment.Budget) (map[string]cty.Value, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	pending := map[string]*hcl.Attribute{}
	var names []string
	for _, b := range blocks {
		attrs, d := b.Body.JustAttributes()
		diags = append(diags, d...)
		for _, a := range sortedAttributes(attrs) {
			if first, ok := pending[a.Name]; ok {
				diags = append(diags, duplicate("local value", a.Name, a.NameRange, first.NameRange))
				continue
			}
			if d := noTrialRefs(a.Expr, "a local value", "locals are the same for every trial"); d != nil {
				diags = append(diags, d)
				continue
			}
			pending[a.Name] = a
			names = append(names, a.Name)
		}
	}
	values := map[string]cty.Value{}
	for len(pending) > 0 {
		progress := false
		for _, name := range names {
			a, ok := pending[name]
			if !ok || !localsReady(a.Expr, values) {
				continue
			}
			child := ctx.NewChild()
			child.Variables = map[string]cty.Value{"local": cty.ObjectVal(values)}
			v, d := a.Expr.Value(child)
			diags = append(diags, d...)
			if !d.HasErrors() {
				if cd := chargeValue(budget, v, a.Expr.Range()); cd != nil {
					diags = append(diags, cd)
					d = append(d, cd)
				}
			}
			if d.HasErrors() {
				v = cty.DynamicVal
			}
			values[name] = v
			delete(pending, name)
			progress = true
		}
		if progress {
			continue
		}
		for _, name := range names {
			a, ok := pending[name]
			if !ok {
				continue
			}
			missing := ""
			for _, tr := range a.Expr.Variables() {
				if tr.RootName() != "local" || len(tr) < 2 {
					continue
				}
				if attr, ok := tr[1].(hcl.TraverseAttr); ok {
					if _, declared := pending[attr.Name]; !declared {
						if _, done := values[attr.Name]; !done {
							missing = attr.Name
						}
					}
				}
			}
			if missing != "" {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Reference to undeclared local value",
					Detail:   fmt.Sprintf("No local value named %q is declared%s.", missing, suggest(missing, names)),
					Subject:  a.Expr.Range().Ptr(),
				})
			} else {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Local values depend on each other",
					Detail:   fmt.Sprintf("The local value %q is part of a cycle: each local may only use locals that do not use it back.", name),
					Subject:  a.Expr.Range().Ptr(),
				})
			}
		}
		break
	}
	return values, diags
}

func localsReady(expr hcl.Expression, done map[string]cty.Value) bool {
	for _, tr := range expr.Variables() {
		if tr.RootName() != "local" {
			continue
		}
		if len(tr) < 2 {
			return false
		}
		attr, ok := tr[1].(hcl.TraverseAttr)
		if !ok {
			return false
		}
		if _, ok := done[attr.Name]; !ok {
			return false
		}
	}
	return true
}

func sortedAttributes(attrs hcl.Attributes) []*hcl.Attribute {
	out := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Range.Filename != out[j].Range.Filename {
			return out[i].Range.Filename < out[j].Range.Filename
		}
		return out[i].Range.Start.Byte < out[j].Range.Start.Byte
	})
	return out
}

func duplicate(what, name string, at, first hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Duplicate " + what,
		Detail:   fmt.Sprintf("A %s named %q was already defined at %s. Names must be unique.", what, name, first),
		Subject:  at.Ptr(),
	}
}

// noTrialRefs refuses a reference to `trial` where the value cannot depend
// on the trial.
func noTrialRefs(expr hcl.Expression, what, why string) *hcl.Diagnostic {
	for _, tr := range expr.Variables() {
		if tr.RootName() == "trial" {
			return &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Trial values are not available here",
				Detail:   fmt.Sprintf("This is %s, and %s: it cannot refer to trial. Only resources, group counts, constraints and tasks may depend on the trial.", what, why),
				Subject:  tr.SourceRange().Ptr(),
			}
		}
	}
	return nil
}

// suggest returns ` (did you mean "x"?)` when a name is close to one of
// the candidates, or when one starts with the other ("minimize" for
// "min").
func suggest(name string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		// A one-letter name is as close to every other short name.
		if d := editDistance(name, c); d < bestDist && d < len(name) {
			best, bestDist = c, d
		}
	}
	if best == "" && len(name) >= 3 {
		for _, c := range candidates {
			if len(c) >= 3 && (strings.HasPrefix(name, c) || strings.HasPrefix(c, name)) {
				best = c
				break
			}
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
