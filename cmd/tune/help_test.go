package main

import (
	"bytes"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestAskingForHelpSucceedsForEveryCommand(t *testing.T) {
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, flag := range []string{"-h", "-help", "--help"} {
			t.Run(name+" "+flag, func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				env := &cliEnv{stdout: &stdout, stderr: &stderr, stdin: &bytes.Buffer{}, getenv: func(string) string { return "" }}
				assert.Equal(t, exitOK, run(env, []string{name, flag}))
				if name != "version" {
					assert.Contains(t, stderr.String(), "Usage: tune "+name)
				}
			})
		}
	}
}

func TestTuneHelpPrintsTheUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"help alone lists the commands", []string{"help"}, "Commands:"},
		{"help with a command shows that command's options", []string{"help", "plan"}, "Usage: tune plan"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			env := &cliEnv{stdout: &stdout, stderr: &stderr, stdin: &bytes.Buffer{}, getenv: func(string) string { return "" }}
			assert.Equal(t, exitOK, run(env, tt.args))
			assert.Contains(t, stdout.String()+stderr.String(), tt.want)
		})
	}
}
