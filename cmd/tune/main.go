// Command tune runs hyperparameter-tuning experiments as Nomad batch jobs,
// or as processes on this machine when no cluster is configured.
package main

import (
	"fmt"
	"io"
	"log"
	"os"
	"sort"
	"strings"

	"github.com/nomad-tune/tune/driver/local"
)

// Exit codes shared by the commands.
const (
	exitOK    = 0
	exitError = 1
	// exitPartial is plan's "runnable, but some trials can never run".
	exitPartial = 2
	// exitUnformatted is fmt -check's "some files are not formatted", as
	// terraform fmt -check.
	exitUnformatted = 3
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type command struct {
	synopsis string
	run      func(env *cliEnv, args []string) int
}

var commands = map[string]command{
	"apply":    {"Run an experiment: trials as processes on this machine, results and the best trial", runApply},
	"status":   {"Show where an experiment's trials stand (from Nomad, or the results folder)", runStatus},
	"stop":     {"Stop every Nomad job of an experiment, and nothing else", runStop},
	"plan":     {"Show what an experiment would run: trials, resources, how many at once", runPlan},
	"validate": {"Check an experiment file without planning it", runValidate},
	"fmt":      {"Rewrite experiment files in the canonical format", runFmt},
	"version":  {"Print the version", runVersion},
	"results":  {"Show the results table of an experiment (running or finished)", runResults},
	"report":   {"Write an experiment's report page, report.html, with plots", runReport},
}

// cliEnv is what a command reads and writes, so tests can run commands in
// process.
type cliEnv struct {
	stdout io.Writer
	stderr io.Writer
	stdin  io.Reader
	getenv func(string) string
}

func main() {
	// tune runs itself as each local trial's supervisor (see package
	// local); in that role it does nothing else.
	local.MaybeSupervise()
	env := &cliEnv{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin, getenv: os.Getenv}
	os.Exit(run(env, os.Args[1:]))
}

func run(env *cliEnv, args []string) int {
	// Until a command sets up its logger, the standard logger (which
	// net/http writes to) says nothing.
	log.SetOutput(io.Discard)
	if len(args) == 0 {
		usage(env.stderr)
		return exitError
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		// "tune help plan" is "tune plan -help".
		if cmd, ok := commands[argAt(args, 1)]; ok && name == "help" {
			return cmd.run(env, []string{"-help"})
		}
		usage(env.stdout)
		return exitOK
	case "-v", "-version", "--version":
		name = "version"
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(env.stderr, "tune: unknown command %q\n\n", name)
		usage(env.stderr)
		return exitError
	}
	return cmd.run(env, args[1:])
}

func argAt(args []string, i int) string {
	if i < len(args) {
		return args[i]
	}
	return ""
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: tune <command> [options] [args]

tune runs hyperparameter-tuning experiments: every trial is a Nomad batch
job, or a process on this machine when no Nomad cluster is configured.

Commands:
`)
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "  %-10s %s\n", name, commands[name].synopsis)
	}
	fmt.Fprint(w, `
Run "tune <command> -help" for a command's options.
`)
}

func runVersion(env *cliEnv, args []string) int {
	fmt.Fprintf(env.stdout, "tune %s\n", version)
	return exitOK
}

// indent prefixes every line of s.
func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}
