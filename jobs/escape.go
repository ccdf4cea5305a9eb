package jobs

import (
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/nomad-tune/tune/experiment"
)

// Parameters reach a Nomad task byte for byte.
//
// A Nomad client reads a task's text in two ways, and neither has an
// escape that works for the other:
//   - env values go through ReplaceEnv (helper/args): in one pass, every
//     ${name} whose name it knows (an environment variable, node.*,
//     attr.*, meta.*) becomes its value; it has no escape at all;
//   - the driver config (command, args, ...) is decoded as HCL
//     (helper/pluginutils/hclutils), where each string is a template:
//     ${...} is an expression over the task's variables, %{...} a
//     directive, and $${ and %%{ their escapes.
//
// What both leave alone is the value a reference brings in. So the job
// carries the meta dollarMeta = "$" and percentMeta = "%", which Nomad
// exports as NOMAD_META_tune_dollar and NOMAD_META_tune_percent before it
// reads the task, and in a parameter's text every "$" becomes
// ${NOMAD_META_tune_dollar} and every "%{" becomes
// ${NOMAD_META_tune_percent}{. Both readers turn each reference into its
// character and never look at it again; and as no "$" of the text is left,
// none can turn a reference into "$${", HCL's escape. Only parameter text
// is escaped: the ${NOMAD_*} and ${node.*} the experiment file writes
// itself keep their meaning. Templates are read by consul-template, which
// does not interpolate ${...}, and tune's own templates hold no parameter.
const (
	// dollarMeta and percentMeta are the job meta keys whose values are
	// "$" and "%".
	dollarMeta  = "tune_dollar"
	percentMeta = "tune_percent"
	dollarRef   = "${NOMAD_META_" + dollarMeta + "}"
	percentRef  = "${NOMAD_META_" + percentMeta + "}{"
)

var escaper = strings.NewReplacer("$", dollarRef, "%{", percentRef)

// escapeText escapes a parameter's text against Nomad's interpolation.
func escapeText(s string) string {
	if !needsEscape(s) {
		return s
	}
	return escaper.Replace(s)
}

// needsEscape says whether Nomad could read text otherwise than as
// written.
func needsEscape(s string) bool {
	return strings.Contains(s, "$") || strings.Contains(s, "%{")
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
