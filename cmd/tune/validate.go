package main

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/nomad-tune/tune/experiment"
	tunehcl "github.com/nomad-tune/tune/hcl"
	"github.com/nomad-tune/tune/planner"
)

const validateUsage = `
Usage: tune validate [options] FILE

  Checks an experiment file: syntax, every block and attribute, the search
  space, and every trial's resources, without looking at any cluster or
  machine. Exits 0 when the file is valid, 1 otherwise.
`

func runValidate(env *cliEnv, args []string) int {
	fs := newFlagSet("validate", validateUsage, env.stderr)
	var vf varFlags
	vf.register(fs)
	asJSON := fs.Bool("json", false, "Print the result as JSON.")
	files, err := parseArgs(fs, args)
	if err != nil {
		return flagStatus(err)
	}
	if len(files) != 1 {
		fs.Usage()
		return exitError
	}
	parser := hclparse.NewParser()
	exp, trials, diags := loadAndExpand(env, files[0], vf.options(parser))
	if *asJSON {
		out := struct {
			Valid       bool       `json:"valid"`
			Trials      int        `json:"trials"`
			Diagnostics []jsonDiag `json:"diagnostics"`
		}{Valid: !diags.HasErrors(), Trials: len(trials), Diagnostics: toJSONDiags(diags)}
		writeJSON(env.stdout, out)
	} else {
		printDiags(env.stderr, parser, diags)
	}
	if diags.HasErrors() {
		return exitError
	}
	if !*asJSON {
		fmt.Fprintf(env.stdout, "The experiment %q is valid: %s.\n", exp.Name, experiment.Count(len(trials), "trial"))
	}
	return exitOK
}

// loadAndExpand reads an experiment and generates its trials; a file whose
// trials cannot be resolved is as invalid as one that does not parse.
func loadAndExpand(env *cliEnv, path string, opts tunehcl.Options) (*experiment.Experiment, []*planner.Trial, hcl.Diagnostics) {
	stop := guardMemory(env.stderr, path, maxLoadMemory)
	defer stop()
	exp, diags := tunehcl.LoadFile(path, opts)
	if diags.HasErrors() {
		return nil, nil, diags
	}
	trials, d := planner.Trials(exp)
	diags = append(diags, d...)
	return exp, trials, diags
}
