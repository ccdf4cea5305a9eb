package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/report"
)

func runReportCmd(args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	env := &cliEnv{stdout: &out, stderr: &errb, stdin: strings.NewReader(""), getenv: func(string) string { return "" }}
	code = run(env, append([]string{"report"}, args...))
	return out.String(), errb.String(), code
}

func TestReportCommandWritesThePageIntoTheResultsFolder(t *testing.T) {
	root := finishedResults(t)
	stdout, stderr, code := runReportCmd("-results", root, "quadratic")
	require.Equal(t, exitOK, code, stderr)
	path := filepath.Join(root, "quadratic", report.File)
	assert.Equal(t, "Report: "+path+"\n", stdout)
	page, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, strings.Contains(string(page), "00001-abcdef with loss = 0.125"), "the page names the best trial")
}

func TestReportCommandErrors(t *testing.T) {
	root := finishedResults(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"an unknown experiment names the known ones", []string{"-results", root, "nope"}, "it holds: quadratic"},
		{"no name lists the experiments", []string{"-results", root}, "Experiments in " + root + ": quadratic"},
		{"a path is not a name", []string{"-results", root, "../quadratic"}, "tune report: \"../quadratic\" is not an experiment name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runReportCmd(tt.args...)
			assert.Equal(t, exitError, code)
			assert.Contains(t, stderr, tt.want)
			_, err := os.Stat(filepath.Join(root, "quadratic", report.File))
			assert.ErrorIs(t, err, os.ErrNotExist, "nothing is written")
		})
	}
}
