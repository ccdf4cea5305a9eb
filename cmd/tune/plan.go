package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/nomad-tune/tune/experiment"
	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/scheduler"
)

const planUsage = `
Usage: tune plan [options] FILE

  Shows what the experiment would run, without running anything: every
  trial with its parameters and resources, how many trials run at once on
  the target and what limits that, and which trials can never run there
  and why.

  The target is the Nomad cluster of -address or NOMAD_ADDR (with the
  standard NOMAD_TOKEN, NOMAD_NAMESPACE, NOMAD_REGION and TLS variables):
  its ready, eligible nodes in the experiment's datacenters and node pool,
  less what their allocations use, and a dry run of one job of each trial
  shape by Nomad's own scheduler. Nothing is registered. On a cluster it
  also compares the trials with the jobs Nomad holds for them: new (no
  job yet), unchanged (a job compiled from the same definition, done or
  running: apply keeps it) and changed (a job compiled from another
  definition: apply refuses it unless -replace).

  Without a cluster, the target is this machine. Its CPUs, memory and GPUs
  (through NVML) are detected; -local-cpus, -local-gpus and -local-memory
  override them, as ray.init(num_cpus=, num_gpus=) does.

  Exit status: 0 when every trial can run; 2 when the plan is runnable but
  some trials can never run on the target; 1 when the file is invalid or no
  trial can run at all.
`

// shownTrials is how many trials the text output lists; -json lists all.
const shownTrials = 20

func runPlan(env *cliEnv, args []string) int {
	fs := newFlagSet("plan", planUsage, env.stderr)
	var vf varFlags
	vf.register(fs)
	asJSON := fs.Bool("json", false, "Print the plan as JSON, with every trial.")
	allTrials := fs.Bool("trials", false, "List every trial, not only the first "+fmt.Sprint(shownTrials)+".")
	var tf targetFlags
	tf.register(fs)
	logLevel := fs.String("log-level", "warn", "Log level: trace, debug, info, warn or error.")
	files, err := parseArgs(fs, args)
	if err != nil {
		return flagStatus(err)
	}
	if len(files) != 1 {
		fs.Usage()
		return exitError
	}
	logger := newLogger(env, *logLevel)

	parser := hclparse.NewParser()
	exp, trials, diags := loadAndExpand(env, files[0], vf.options(parser))
	if diags.HasErrors() {
		printDiags(env.stderr, parser, diags)
		return exitError
	}
	ctx := context.Background()
	tgt, err := openTarget(ctx, env, &tf, exp, logger)
	if err != nil {
		fmt.Fprintf(env.stderr, "tune plan: %v\n", err)
		return exitError
	}
	defer tgt.driver.Close()
	// Nomad's dry runs come first: what they say can never be placed is
	// part of the plan.
	runs, err := dryRuns(ctx, tgt, exp, trials)
	if d, ok := diagsOf(err); ok {
		printDiags(env.stderr, parser, d)
		return exitError
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "tune plan: %v\n", err)
		return exitError
	}
	plan, d := planner.Build(exp, trials, tgt.capacity)
	plan.DryRuns = runs
	if tgt.nomad != nil && exp.OnUnfit == experiment.OnUnfitQueue {
		plan.Admission = admissionNomad
	}
	diags = append(diags, d...)
	diags = append(diags, tgt.check(exp, trials)...)
	// An adaptive search's trials have their values only once they start,
	// so jobs on the cluster cannot be compared with them here; apply
	// compares each with the values its trial started with.
	if !diags.HasErrors() && !exp.Search.Adaptive() {
		ch, err := jobChanges(ctx, tgt, exp, trials)
		if err != nil {
			fmt.Fprintf(env.stderr, "tune plan: %v\n", err)
			return exitError
		}
		plan.Jobs = ch
	}
	if diags.HasErrors() {
		printDiags(env.stderr, parser, diags)
		return exitError
	}
	printDiags(env.stderr, parser, diags)
	if *asJSON {
		if err := plan.WriteJSON(env.stdout); err != nil {
			fmt.Fprintf(env.stderr, "tune plan: writing the plan: %v\n", err)
			return exitError
		}
	} else {
		printPlan(env.stdout, exp, plan, *allTrials)
	}
	switch {
	case plan.Runnable == 0:
		if *asJSON {
			fmt.Fprintf(env.stderr, "tune plan: no trial of %q can run on %s\n", plan.Experiment, plan.Target)
		}
		return exitError
	case plan.Runnable < plan.NumTrials:
		return exitPartial
	}
	return exitOK
}

func newLogger(env *cliEnv, level string) hclog.Logger {
	if v := env.getenv("TUNE_LOG_LEVEL"); v != "" && level == "warn" {
		level = v
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: "tune", Level: hclog.LevelFromString(level), Output: env.stderr})
	// net/http writes what it finds odd (an answer on an idle connection,
	// such as Nomad's 429 to a connection past its limit) to the standard
	// logger: that is for debugging, not for the user's terminal.
	log.SetFlags(0)
	log.SetOutput(logger.StandardWriter(&hclog.StandardLoggerOptions{ForceLevel: hclog.Debug}))
	return logger
}

func printPlan(w io.Writer, exp *experiment.Experiment, p *planner.Plan, all bool) {
	fmt.Fprintf(w, "Experiment %q (%s)\n", p.Experiment, p.File)
	if p.Description != "" {
		fmt.Fprintf(w, "  %s\n", p.Description)
	}
	search := experiment.Count(p.NumTrials, "trial")
	if p.GridPoints > 1 && !exp.OpenEnded() || p.NumSamples > 1 {
		search = fmt.Sprintf("%s × %s = %s", experiment.Count(p.GridPoints, "grid point"), experiment.Count(p.NumSamples, "sample"), experiment.Count(p.NumTrials, "trial"))
	}
	if exp.OpenEnded() {
		// The trials below are the first pass over the grid; the others
		// are generated as the run goes on.
		search = fmt.Sprintf("open-ended (num_samples = -1), %s; planned below: the first %s", exp.EndsWhen(), search)
	}
	fmt.Fprintf(w, "  Search:  %s, seed %d, %s search\n", search, p.Seed, p.Search)
	if p.SearchDetail != "" {
		fmt.Fprintf(w, "           %s\n", p.SearchDetail)
	}
	if p.Metric != "" {
		fmt.Fprintf(w, "  Metric:  %s (%s)\n", p.Metric, p.Mode)
	}
	if text := scheduler.Describe(exp.Scheduler); text != "" {
		fmt.Fprintf(w, "  Stops:   %s\n", text)
	}
	fmt.Fprintf(w, "  Target:  %s\n", describeCapacity(p))

	fmt.Fprintln(w, "\nResources per trial:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  TRIALS\tAT ONCE ALONE\tRESOURCES")
	for _, s := range p.Shapes {
		alone := fmt.Sprint(s.AtOnce)
		if s.Never != "" {
			alone = "never"
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\n", s.Trials, alone, s.Text)
	}
	_ = tw.Flush()

	fmt.Fprintf(w, "\nAt once: %s\n", atOnceText(p))
	if text := admissionText(p); text != "" {
		fmt.Fprintf(w, "Order:   %s\n", text)
	}

	if len(p.Never) > 0 {
		fmt.Fprintf(w, "\nCan never run on %s (%s):\n", p.Target, experiment.Count(p.NumTrials-p.Runnable, "trial"))
		for _, n := range p.Never {
			fmt.Fprintf(w, "  %s\n    %s\n", n.Reason, n.Shape)
			fmt.Fprintf(w, "    trials: %s\n", idList(n.TrialIDs, 6))
		}
	}

	if len(p.DryRuns) > 0 {
		fmt.Fprintln(w, "\nNomad's dry run of one job of each shape, on the cluster as it is now:")
		for _, dr := range p.DryRuns {
			verdict := "would be placed now"
			switch {
			case dr.Never:
				verdict = "can never be placed: " + dr.Reason
			case dr.Reason != "":
				verdict = "would not be placed now: " + dr.Reason
			}
			fmt.Fprintf(w, "  %s (%s): %s\n", dr.Shape, experiment.Count(dr.Trials, "trial"), verdict)
		}
	}

	if p.Jobs != nil {
		printJobChanges(w, p.Jobs)
	}

	printTrials(w, exp, p, all)

	fmt.Fprintln(w)
	switch {
	case p.Runnable == 0:
		if p.NumTrials == 1 {
			fmt.Fprintf(w, "Plan: the only trial cannot run on %s.\n", p.Target)
		} else {
			fmt.Fprintf(w, "Plan: none of the %d trials can run on %s.\n", p.NumTrials, p.Target)
		}
	case p.Runnable < p.NumTrials:
		fmt.Fprintf(w, "Plan: %d of %d trials can run, %d at a time; %d can never run on %s.\n",
			p.Runnable, p.NumTrials, p.AtOnce, p.NumTrials-p.Runnable, p.Target)
	case exp.OpenEnded():
		fmt.Fprintf(w, "Plan: trials until stopped, %d at a time.\n", p.AtOnce)
	default:
		fmt.Fprintf(w, "Plan: %s, %d at a time.\n", experiment.Count(p.NumTrials, "trial"), p.AtOnce)
	}
}

// admissionNomad is the plan's admission when Nomad, not tune, orders the
// trials.
const admissionNomad = "nomad"

// admissionText says which waiting trial starts first, where trials of
// several sizes make it matter.
func admissionText(p *planner.Plan) string {
	if len(p.Shapes) < 2 {
		return ""
	}
	switch p.Admission {
	case string(experiment.AdmissionReserve):
		return "reserve — the oldest waiting trial keeps the nodes it fits on soonest; others pass it only where they do not delay it"
	case string(experiment.AdmissionGreedy):
		return "greedy — any waiting trial that fits starts (Ray Tune's order); a big trial may wait behind a stream of small ones"
	case admissionNomad:
		return "every trial is submitted at once (on_unfit = \"queue\"); Nomad orders them"
	}
	return ""
}

// atOnceText turns the planner's "8 at once: CPU (...)" into
// "8 trials — CPU (...)" under the "At once:" heading.
func atOnceText(p *planner.Plan) string {
	count, why, ok := strings.Cut(p.LimitDetail, " at once: ")
	if !ok {
		return p.LimitDetail
	}
	unit := "trials"
	if count == "1" {
		unit = "trial"
	}
	return fmt.Sprintf("%s %s — %s", count, unit, why)
}

func describeCapacity(p *planner.Plan) string {
	c := p.Capacity
	gpus := "no GPUs"
	if c.GPUs > 0 {
		gpus = experiment.Count(c.GPUs, "GPU")
	}
	nodes := experiment.Count(c.Nodes, "node")
	cpus := "CPUs"
	if c.CPUCores == 1 {
		cpus = "CPU"
	}
	return fmt.Sprintf("%s — %s, %s %s, %s memory, %s", p.Target, nodes, experiment.FormatNumber(c.CPUCores), cpus, formatMiB(c.MemoryMiB), gpus)
}

func formatMiB(mib int64) string {
	if mib >= 1024 {
		return experiment.FormatNumber(math.Round(float64(mib)/1024*10)/10) + " GiB"
	}
	return fmt.Sprintf("%d MiB", mib)
}

func idList(ids []string, max int) string {
	if len(ids) <= max {
		return strings.Join(ids, ", ")
	}
	return fmt.Sprintf("%s, ... and %d more", strings.Join(ids[:max], ", "), len(ids)-max)
}

func printTrials(w io.Writer, exp *experiment.Experiment, p *planner.Plan, all bool) {
	n := len(p.Trials)
	if !all && n > shownTrials {
		n = shownTrials
	}
	fmt.Fprintln(w, "\nTrials:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := []string{"  TRIAL"}
	for _, param := range exp.Space.Params {
		header = append(header, param.Name)
	}
	header = append(header, "RESOURCES")
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, t := range p.Trials[:n] {
		row := []string{"  " + t.ID}
		for _, param := range exp.Space.Params {
			if t.Suggested && param.Dist.IsRandom() {
				row = append(row, "(suggested)")
				continue
			}
			row = append(row, formatValue(t.Params[param.Name]))
		}
		res := t.Resources.String()
		if !t.Runnable {
			res += "  (never runs here)"
		}
		row = append(row, res)
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	_ = tw.Flush()
	if n < len(p.Trials) {
		fmt.Fprintf(w, "  ... and %d more (tune plan -trials lists all; -json gives every trial)\n", len(p.Trials)-n)
	}
}
