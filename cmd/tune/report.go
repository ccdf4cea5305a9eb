package main

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/nomad-tune/tune/report"
)

const reportUsage = `
Usage: tune report [options] NAME

  Writes report.html into the experiment's results folder and prints its
  path: one page, self-contained (it opens from the file system, offline),
  with the metric of every trial over its reports, the best result so far,
  each parameter against the metric, the trials running against the
  limits and the capacity they held, the results table (click a heading
  to sort), and the errored trials with the end of their error.txt.

  tune apply writes the same page every few seconds while it runs, and at
  the end; tune report rewrites it from the results folder at any time,
  running or finished.
`

func runReport(env *cliEnv, args []string) int {
	fs := newFlagSet("report", reportUsage, env.stderr)
	root := fs.String("results", defaultResultsDir, "The folder that holds experiments' results.")
	names, err := parseArgs(fs, args)
	if err != nil {
		return flagStatus(err)
	}
	name, ok := experimentArg(env, fs, "report", *root, names)
	if !ok {
		return exitError
	}
	path, err := report.Write(*root, name, time.Now(), false)
	if err != nil {
		fmt.Fprintf(env.stderr, "tune report: %v\n", err)
		return exitError
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	fmt.Fprintf(env.stdout, "Report: %s\n", path)
	return exitOK
}
