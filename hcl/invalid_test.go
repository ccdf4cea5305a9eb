package hcl_test

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	tunehcl "github.com/nomad-tune/tune/hcl"
)

// want is the expectation a corpus file states on its first line:
// "# want: LINE: TEXT", an error diagnostic whose subject starts on LINE
// and whose "Summary: Detail" contains TEXT.
type want struct {
	line int
	text string
}

var wantLine = regexp.MustCompile(`^(?:#|//) want: (\d+): (.+)$`)

func readWant(t *testing.T, src []byte) want {
	t.Helper()
	first, _, _ := bytes.Cut(src, []byte("\n"))
	m := wantLine.FindSubmatch(bytes.TrimRight(first, "\r"))
	require.NotNil(t, m, "the first line must be a comment such as `# want: 7: Invalid function argument: the upper bound`")
	line, err := strconv.Atoi(string(m[1]))
	require.NoError(t, err)
	return want{line: line, text: string(m[2])}
}

// describe prints diagnostics one a line, for failure messages.
func describe(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		b.WriteString("\n  ")
		if d.Subject != nil {
			b.WriteString(d.Subject.String() + ": ")
		} else {
			b.WriteString("(no subject): ")
		}
		b.WriteString(d.Summary + ": " + d.Detail)
	}
	return b.String()
}

// matches reports whether an error diagnostic starting on the wanted line
// holds the wanted text.
func (w want) matches(diags hcl.Diagnostics) bool {
	for _, d := range diags {
		if d.Severity != hcl.DiagError || d.Subject == nil || d.Subject.Start.Line != w.line {
			continue
		}
		if strings.Contains(d.Summary+": "+d.Detail, w.text) {
			return true
		}
	}
	return false
}

func corpusFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "invalid", "*.hcl"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 35, "the corpus of invalid files is missing")
	return files
}

func TestEveryInvalidFileFailsWithItsDiagnostic(t *testing.T) {
	for _, path := range corpusFiles(t) {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".hcl"), func(t *testing.T) {
			src, err := os.ReadFile(path)
			require.NoError(t, err)
			w := readWant(t, src)

			exp, diags := tunehcl.LoadFile(path, tunehcl.Options{})
			assert.Nil(t, exp, "an invalid file must not give an experiment")
			assert.True(t, diags.HasErrors(), "an invalid file must give an error")
			assert.True(t, w.matches(diags), "want an error on line %d containing %q; got:%s", w.line, w.text, describe(diags))
		})
	}
}

func TestEveryErrorOfAnInvalidFilePointsIntoThatFile(t *testing.T) {
	for _, path := range corpusFiles(t) {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".hcl"), func(t *testing.T) {
			src, err := os.ReadFile(path)
			require.NoError(t, err)
			lines := 0
			for sc := bufio.NewScanner(bytes.NewReader(src)); sc.Scan(); {
				lines++
			}

			_, diags := tunehcl.LoadFile(path, tunehcl.Options{})
			for _, d := range diags.Errs() {
				diag := d.(*hcl.Diagnostic)
				require.NotNil(t, diag.Subject, "%s: %s has no source range", diag.Summary, diag.Detail)
				assert.Equal(t, path, diag.Subject.Filename)
				assert.GreaterOrEqual(t, diag.Subject.Start.Line, 1)
				assert.LessOrEqual(t, diag.Subject.Start.Line, lines)
				assert.NotEmpty(t, diag.Detail, "%s needs a detail that says what to do", diag.Summary)
			}
		})
	}
}

// Files whose one mistake is rightly reported more than once.
var severalErrors = map[string]int{
	// Each local of the cycle is reported.
	"local_cycle": 2,
}

func TestEveryInvalidFileReportsOnlyItsMistake(t *testing.T) {
	for _, path := range corpusFiles(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".hcl")
		t.Run(name, func(t *testing.T) {
			_, diags := tunehcl.LoadFile(path, tunehcl.Options{})
			want := 1
			if n, ok := severalErrors[name]; ok {
				want = n
			}
			assert.Len(t, diags.Errs(), want, "follow-on errors hide the real one:%s", describe(diags))
		})
	}
}
