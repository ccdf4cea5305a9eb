package test

import (
	"encoding/json"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestApplyWritesTheReportPageAndReportRewritesIt(t *testing.T) {
	root := t.TempDir()
	r := tune(t, "", "apply", "examples/quickstart.hcl", "-results", root, "-progress", "plain")
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	path := filepath.Join(root, "quickstart", "report.html")
	assert.Contains(t, r.stdout, "Report: "+path+" (rewritten every 5s while the experiment runs)\n")
	assert.Less(t, strings.Index(r.stdout, "Report: "), strings.Index(r.stdout, "Number of trials:"), "the path comes before the trials run")

	var plan struct {
		AtOnceBecause string `json:"at_once_because"`
	}
	b, err := os.ReadFile(filepath.Join(root, "quickstart", "plan.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &plan))
	require.NotEmpty(t, plan.AtOnceBecause)

	var res resultsJSON
	out := tune(t, "", "results", "-results", root, "-json", "quickstart")
	require.Equal(t, 0, out.code, out.stderr)
	require.NoError(t, json.Unmarshal([]byte(out.stdout), &res))

	page, err := os.ReadFile(path)
	require.NoError(t, err)
	text := string(page)
	assert.True(t, strings.Contains(text, html.EscapeString(plan.AtOnceBecause)), "the page gives the plan's at-once line")
	assert.True(t, strings.Contains(text, `<dd class="best">`+res.Summary.BestTrial+" with loss = "), "the page's best trial is tune results' best trial")
	assert.False(t, strings.Contains(text, `http-equiv="refresh"`), "the final page does not reload itself")

	require.NoError(t, os.Remove(path))
	rep := tune(t, "", "report", "-results", root, "quickstart")
	require.Equal(t, 0, rep.code, rep.stderr)
	assert.Equal(t, "Report: "+path+"\n", rep.stdout)
	again, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, strings.Contains(string(again), `<dd class="best">`+res.Summary.BestTrial), "tune report writes the same page from the results folder")
}
