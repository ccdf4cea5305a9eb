package jobs

import (
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/nomad-tune/tune/experiment"
)

// Parameters reach a Nomad task byte for byte.
//
// A Nomad client interpolates a task's env values and its driver config
// (command, args, ...) with ReplaceEnv (helper/args): in one pass, every
// ${name} whose name it knows (an environment variable, node.*, attr.*,
// meta.*) becomes its value. Nothing escapes it: the API has no "$${" (that
// belongs to the HCL of job files), so a parameter "${node.unique.name}"
// would reach the trainer as the node's name.
//
// What does survive is a replacement's own text, which the pass never
// looks at again. So the job carries the meta dollarMeta = "$", which
// Nomad exports as NOMAD_META_tune_dollar before it interpolates the task,
// and every "${" of a parameter's text becomes "${NOMAD_META_tune_dollar}{":
// the pass turns the reference into "$" and leaves the "{" after it
// alone. Only parameter text is escaped: the ${NOMAD_*} and ${node.*}
// that the experiment file writes itself keep their meaning. Templates
// are not interpolated by ReplaceEnv, and tune's own templates hold no
// parameter.
const (
	// dollarMeta is the job meta key whose value is "$".
	dollarMeta = "tune_dollar"
	// dollarRef is what a "${" of parameter text becomes.
	dollarRef = "${NOMAD_META_" + dollarMeta + "}{"
)

// escapeText escapes a parameter's text against Nomad's interpolation.
func escapeText(s string) string {
	return strings.ReplaceAll(s, "${", dollarRef)
}

// needsEscape says whether text would change under Nomad's interpolation.
func needsEscape(s string) bool {
	return strings.Contains(s, "${")
}

// escapedVars are the trial's variables with every string inside them
// escaped, for evaluating what Nomad interpolates; changed says whether
// any was.
func escapedVars(tv experiment.TrialVars) (out experiment.TrialVars, changed bool) {
	out = tv
	out.Values = make([]cty.Value, len(tv.Values))
	for i, v := range tv.Values {
		out.Values[i], _ = cty.Transform(v, func(_ cty.Path, v cty.Value) (cty.Value, error) {
			if v.Type() == cty.String && v.IsKnown() && !v.IsNull() && needsEscape(v.AsString()) {
				changed = true
				return cty.StringVal(escapeText(v.AsString())).WithMarks(v.Marks()), nil
			}
			return v, nil
		})
	}
	return out, changed
}
