package main

import (
	"errors"
	"io"
	"os"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/nomad-tune/tune/pyjson"
)

// printDiags renders diagnostics the way Terraform and Nomad do: severity,
// summary, the file and line with the source snippet underlined, detail.
func printDiags(w io.Writer, parser *hclparse.Parser, diags hcl.Diagnostics) {
	if len(diags) == 0 {
		return
	}
	color := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 && os.Getenv("NO_COLOR") == "" {
			color = true
		}
	}
	var files map[string]*hcl.File
	if parser != nil {
		files = parser.Files()
	}
	wr := hcl.NewDiagnosticTextWriter(w, files, 100, color)
	_ = wr.WriteDiagnostics(diags)
}

// jsonDiag is one diagnostic in -json output, with the same fields as
// terraform validate -json.
type jsonDiag struct {
	Severity string     `json:"severity"`
	Summary  string     `json:"summary"`
	Detail   string     `json:"detail,omitempty"`
	Range    *jsonRange `json:"range,omitempty"`
}

type jsonRange struct {
	Filename string  `json:"filename"`
	Start    jsonPos `json:"start"`
	End      jsonPos `json:"end"`
}

type jsonPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

func toJSONDiags(diags hcl.Diagnostics) []jsonDiag {
	out := make([]jsonDiag, 0, len(diags))
	for _, d := range diags {
		jd := jsonDiag{Summary: d.Summary, Detail: d.Detail, Severity: "error"}
		if d.Severity == hcl.DiagWarning {
			jd.Severity = "warning"
		}
		if d.Subject != nil {
			jd.Range = &jsonRange{
				Filename: d.Subject.Filename,
				Start:    jsonPos{d.Subject.Start.Line, d.Subject.Start.Column, d.Subject.Start.Byte},
				End:      jsonPos{d.Subject.End.Line, d.Subject.End.Column, d.Subject.End.Byte},
			}
		}
		out = append(out, jd)
	}
	return out
}

func writeJSON(w io.Writer, v any) {
	// Python's tokens for NaN and infinities, as in the results files:
	// encoding/json refuses them and would leave the output cut short.
	// What is written here is tune's own records and diagnostics, which
	// always encode.
	if b, err := pyjson.Marshal(v, "  "); err == nil {
		_, _ = w.Write(append(b, '\n'))
	}
}

// diagsOf is err as diagnostics, when it is some (a trial that does not
// compile for the target), so that they are printed with their source.
func diagsOf(err error) (hcl.Diagnostics, bool) {
	var d hcl.Diagnostics
	if errors.As(err, &d) && d.HasErrors() {
		return d, true
	}
	return nil, false
}
