package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/nomad-tune/tune/controller"
	nomaddrv "github.com/nomad-tune/tune/driver/nomad"
	"github.com/nomad-tune/tune/experiment"
	"github.com/nomad-tune/tune/nomadvars"
	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/progress"
	"github.com/nomad-tune/tune/report"
	"github.com/nomad-tune/tune/results"
)

const applyUsage = `
Usage: tune apply [options] FILE

  Runs the experiment: every trial is a Nomad batch job on the cluster of
  -address or NOMAD_ADDR, or, without a cluster, a process on this
  machine; as many at once as fit (see tune plan) and max_concurrent_trials
  allows. A trial of several allocations is placed whole or not at all. Progress is shown live on a terminal and as
  plain lines otherwise; at the end, the results table and the best trial.

  Results go to <results>/<experiment>/: experiment.json, trials.csv and a
  folder per trial with params.json, result.json, progress.csv and the
  trial's output. Running apply again on the same file and results folder
  resumes: finished trials are kept, the others run.

  Ctrl-C stops the running trials and leaves the experiment resumable.

  On a cluster, a trial whose job Nomad already holds is kept when the job
  was compiled from the same definition (its results are collected), and
  refused when it was compiled from another (the file or its variables
  changed): apply then exits 1 naming those trials, having started
  nothing. So is a trial whose results in the folder were made from
  another definition (trial.json records what each trial ran), even when
  Nomad no longer holds its job, and on this machine too. -replace runs
  them again (on Nomad, as new versions of their jobs).

  On a cluster, one tune apply drives an experiment at a time: it holds a
  lease, the Nomad Variable tune/<experiment>/lease in the experiment's
  namespace, naming its host, process, results folder and start, renewed
  every third of -lease-ttl and released at exit. A second apply exits 4
  at once, naming the holder. The lease of an apply that died lapses
  -lease-ttl (10s to 24h, as Nomad's own variable locks) after its last
  renewal; then any apply, from any machine, can resume the experiment
  (on the holder's own host, at once once its process is gone). A token without the variables capabilities read,
  write and destroy on "tune/*" makes apply exit 1, unless -lock=false.

  Exit status: 0 when every trial finished without error (or the time
  budget ended the experiment); 4 when another tune apply drives the
  experiment; 1 when the file is invalid, nothing can run, the lease
  cannot be held, some trials' jobs changed (without -replace), some
  trial ended in error, some trial finished without ever reporting the
  experiment's metric as a number (as Ray Tune raises an error), or the
  trials were stopped outside tune (tune stop, nomad job stop:
  resumable); 130 when interrupted (resumable).
`

// exitInterrupted is the shell's status for a process ended by SIGINT.
const exitInterrupted = 130

func runApply(env *cliEnv, args []string) int {
	fs := newFlagSet("apply", applyUsage, env.stderr)
	var vf varFlags
	vf.register(fs)
	resultsDir := fs.String("results", "tune-results", "Folder for results; the experiment gets a folder of its own in it.")
	var tf targetFlags
	tf.register(fs)
	progressMode := fs.String("progress", "auto", "Progress display: auto (live on a terminal, plain lines otherwise), live, plain or none.")
	logLevel := fs.String("log-level", "warn", "Log level: trace, debug, info, warn or error.")
	lock := fs.Bool("lock", true, "Hold the experiment's lease on the cluster (a Nomad Variable), so that no other tune apply drives it at the same time.")
	leaseTTL := fs.Duration("lease-ttl", nomaddrv.DefaultLeaseTTL, "How long the lease outlives this apply if it dies without releasing it; another apply can take the experiment over after that.")
	replace := fs.Bool("replace", false, "Run again the trials that ran from another definition of the experiment (their job in Nomad, or their results, say so); on Nomad as new versions of their jobs. Without it, apply refuses them.")
	files, err := parseArgs(fs, args)
	if err != nil {
		return flagStatus(err)
	}
	if len(files) != 1 {
		fs.Usage()
		return exitError
	}
	if *leaseTTL < nomaddrv.MinLeaseTTL || *leaseTTL > nomaddrv.MaxLeaseTTL {
		fmt.Fprintf(env.stderr, "tune apply: -lease-ttl must be between %s and %s; got %s\n", nomaddrv.MinLeaseTTL, nomaddrv.MaxLeaseTTL, *leaseTTL)
		return exitError
	}
	live, show, err := progressChoice(*progressMode, env.stdout)
	if err != nil {
		fmt.Fprintf(env.stderr, "tune apply: %v\n", err)
		return exitError
	}
	logger := newLogger(env, *logLevel)

	// Ctrl-C is heard from the start: a hung Nomad must not hold the
	// connection, the lease or the submission of the first trials.
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	in := watchInterrupts(signals, env.stderr, os.Exit)
	ctx := in.ctx
	defer in.cancel()

	parser := hclparse.NewParser()
	exp, trials, diags := loadAndExpand(env, files[0], vf.options(parser))
	if diags.HasErrors() {
		printDiags(env.stderr, parser, diags)
		return exitError
	}
	if exp.OpenEnded() {
		// A resumed open-ended run generates again every trial the last
		// one did, so that their results are found and none is run twice.
		known, err := results.KnownTrials(*resultsDir, exp.Name)
		if err != nil {
			fmt.Fprintf(env.stderr, "tune apply: %v\n", err)
			return exitError
		}
		if known = min(known, exp.TrialCap()); known > len(trials) {
			more, d := planner.TrialRange(exp, len(trials), known)
			trials = append(trials, more...)
			diags = append(diags, d...)
		}
	}
	tgt, err := openTarget(ctx, env, &tf, exp, logger)
	if err != nil {
		return startFailed(env, ctx, err)
	}
	if tgt.nomad != nil {
		in.onInterrupt(tgt.nomad.Interrupt)
	}
	drv, capacity := tgt.driver, tgt.capacity
	defer drv.Close()
	if _, err := dryRuns(ctx, tgt, exp, trials); err != nil {
		if d, ok := diagsOf(err); ok {
			printDiags(env.stderr, parser, d)
			return exitError
		}
		return startFailed(env, ctx, err)
	}
	plan, d := planner.Build(exp, trials, capacity)
	diags = append(diags, d...)
	diags = append(diags, tgt.check(exp, trials)...)
	printDiags(env.stderr, parser, diags)
	if diags.HasErrors() {
		return exitError
	}
	// With on_unfit = "queue" on Nomad, trials that fit no node now are
	// submitted for the cluster to queue (and an autoscaler to act on).
	queue := tgt.nomad != nil && exp.OnUnfit == experiment.OnUnfitQueue
	// Nomad's queue can wait for nodes to be added, but not for a driver
	// or an attribute that no node has.
	queueable := 0
	for _, n := range plan.Never {
		if !n.Refused {
			queueable += len(n.TrialIDs)
		}
	}
	if plan.Runnable == 0 && (!queue || queueable == 0) {
		fmt.Fprintf(env.stderr, "tune apply: no trial of %q can run on %s:\n", exp.Name, plan.Target)
		for _, n := range plan.Never {
			fmt.Fprintf(env.stderr, "  %s: %s\n", experiment.Count(len(n.TrialIDs), "trial"), n.Reason)
		}
		return exitError
	}

	release, code := takeLease(env, in, tgt, exp, *resultsDir, *leaseTTL, *lock)
	if release == nil {
		if ctx.Err() != nil {
			return exitInterrupted
		}
		return code
	}
	defer release()

	// An adaptive search's trials get their values when they start, so
	// what the cluster runs is compared with them then (the controller
	// refuses changed trials the same way).
	var ch *planner.JobChanges
	if !exp.Search.Adaptive() {
		if ch, err = jobChanges(ctx, tgt, exp, trials); err != nil {
			return startFailed(env, ctx, err)
		}
	}
	if ch != nil && len(ch.Changed) > 0 && !*replace {
		printChangedRefusal(env.stderr, exp, files[0], ch.Changed)
		return exitError
	}

	infos := make([]results.TrialInfo, len(trials))
	for i, t := range trials {
		infos[i] = results.TrialInfo{ID: t.ID, Index: t.Index}
		if !t.Suggested {
			infos[i].Params = t.Params(&exp.Space)
		}
	}
	store, err := results.Open(*resultsDir, results.Info{
		Name: exp.Name, File: exp.Filename, Metric: exp.Metric, Mode: string(exp.Mode), Target: capacity.Target, Seed: exp.Seed,
		Adaptive: exp.Search.Adaptive(),
	}, infos)
	if err != nil {
		fmt.Fprintf(env.stderr, "tune apply: %v\n", err)
		return exitError
	}
	defer store.Close()

	if exp.OpenEnded() {
		fmt.Fprintf(env.stdout, "Experiment %q: open-ended (num_samples = -1), %s, on %s, at most %s.\n", exp.Name, exp.EndsWhen(), plan.Target, atOnceText(plan))
	} else {
		fmt.Fprintf(env.stdout, "Experiment %q: %s on %s, at most %s.\n", exp.Name, experiment.Count(len(trials), "trial"), plan.Target, atOnceText(plan))
	}
	if tgt.nomad != nil {
		printNomadUI(env.stdout, tgt.address, exp.Name, exp.Nomad.Namespace)
	}
	if store.Resumed() {
		done := 0
		for _, rec := range store.Records() {
			if rec.Status.Finished() {
				done++
			}
		}
		fmt.Fprintf(env.stdout, "Resuming from %s: %d of %d trials are already done.\n", store.Dir(), done, len(trials))
		if added := store.Added(); added > 0 && !exp.OpenEnded() {
			fmt.Fprintf(env.stdout, "num_samples grew: %s join the %d from before, which keep their values and results.\n", experiment.Count(added, "new trial"), len(trials)-added)
		}
	}
	for _, n := range plan.Never {
		if queue && !n.Refused {
			fmt.Fprintf(env.stdout, "%s %s no node now and %s queued in Nomad (on_unfit = \"queue\"): %s\n", experiment.Count(len(n.TrialIDs), "trial"), pluralWord(len(n.TrialIDs), "fits", "fit"), pluralWord(len(n.TrialIDs), "is", "are"), n.Reason)
		} else {
			fmt.Fprintf(env.stdout, "%s can never run here and %s marked as %s: %s\n", experiment.Count(len(n.TrialIDs), "trial"), pluralWord(len(n.TrialIDs), "is", "are"), pluralWord(len(n.TrialIDs), "an error", "errors"), n.Reason)
		}
	}

	// The report page is rewritten on a ticker of its own, outside the
	// controller's loop, and once more when the run ends.
	reportPath, stopReport := startReport(env, *resultsDir, exp, plan, tgt.nomad != nil)
	fmt.Fprintf(env.stdout, "Report: %s (rewritten every %s while the experiment runs)\n", reportPath, report.RefreshInterval)

	// A reader of the output that goes away (tune apply | head) must not
	// kill tune and leave the experiment "running" with its trials
	// orphaned: with SIGPIPE caught, writes fail instead, progress goes
	// nowhere, and the experiment runs to its end. Caught rather than
	// ignored, so that trials start with the default disposition.
	brokenPipe := make(chan os.Signal, 1)
	signal.Notify(brokenPipe, syscall.SIGPIPE)
	defer signal.Stop(brokenPipe)

	var reporter controller.Reporter
	if show {
		opts := progress.Options{Live: live}
		if live {
			opts.Width, opts.Height = progress.TerminalSize()
			if f, ok := env.stdout.(*os.File); ok {
				if w, h := terminalSize(f); w > 0 {
					opts.Width, opts.Height = w, h
				}
			}
		}
		reporter = progress.New(env.stdout, opts)
	}
	if tgt.nomad != nil {
		// The Nomad UI shows each trial's metrics and the experiment's
		// summary from Variables that tune keeps current.
		pub := nomadvars.New(nomadvars.Options{
			Client: tgt.client, Experiment: exp.Name, Namespace: exp.Nomad.Namespace, Region: exp.Nomad.Region, Logger: logger,
			Groups: firstGroups(exp, trials),
		})
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), variablesFlushTimeout)
			defer cancel()
			pub.Close(ctx)
		}()
		reporter = controller.Tee{reporter, pub}
	}
	outcome, err := controller.Run(ctx, controller.Options{
		Experiment: exp,
		Trials:     trials,
		Driver:     drv,
		Store:      store,
		Reporter:   reporter,
		Logger:     logger,
		Target:     capacity.Target,
		QueueUnfit: queue,
		Refused:    capacity.Refused,

		ReplaceChanged: *replace,
	})
	stopReport()
	if tgt.nomad != nil {
		if jobs := tgt.nomad.Unconfirmed(); len(jobs) > 0 {
			fmt.Fprintf(env.stderr, "tune apply: Nomad did not confirm the stop of %s in time (%s): they may still run; tune apply resumes them, tune stop %s stops them\n",
				experiment.Count(len(jobs), "trial job"), strings.Join(jobs, ", "), exp.Name)
		}
	}
	var changed *controller.ChangedError
	if errors.As(err, &changed) {
		printChangedRefusal(env.stderr, exp, files[0], changed.TrialIDs)
		return exitError
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "tune apply: %v\n", err)
		return exitError
	}

	fmt.Fprintln(env.stdout)
	printResultsTable(env.stdout, &outcome.Summary, store.Records(), exp.Space.Names(), 20)
	abs, err := filepath.Abs(store.Dir())
	if err != nil {
		abs = store.Dir()
	}
	fmt.Fprintf(env.stdout, "Results: %s\n", abs)

	switch {
	case outcome.Status == controller.StatusStopped && ctx.Err() != nil:
		fmt.Fprintf(env.stdout, "Stopped: %s.\n", outcome.Message)
		return exitInterrupted
	case outcome.Interrupted:
		fmt.Fprintf(env.stderr, "tune apply: %s\n", outcome.Message)
		return exitError
	case outcome.Status == controller.StatusFailed:
		fmt.Fprintf(env.stderr, "tune apply: %s\n", outcome.Message)
		return exitError
	case outcome.Summary.Counts[results.Error] > 0:
		fmt.Fprintf(env.stderr, "tune apply: %s ended in error (see %s)\n", experiment.Count(outcome.Summary.Counts[results.Error], "trial"), filepath.Join(store.Dir(), "trials.csv"))
		return exitError
	case outcome.Status == controller.StatusStopped:
		fmt.Fprintf(env.stdout, "Stopped: %s.\n", outcome.Message)
	}
	if missing := results.MissingMetric(store.Records(), exp.Metric); len(missing) > 0 {
		// Ray Tune raises an error here: the experiment cannot say which
		// trial is best when trials do not report what it ranks them by.
		fmt.Fprintf(env.stderr, "tune apply: %d %s finished without reporting %s, the experiment's metric (see above)\n",
			len(missing), pluralWord(len(missing), "trial", "trials"), progress.Sanitize(exp.Metric))
		return exitError
	}
	return exitOK
}

// variablesFlushTimeout bounds the last writes of the Nomad Variables
// when tune apply ends, so that a Nomad that stopped answering does not
// hold it up.
const variablesFlushTimeout = 10 * time.Second

// progressChoice reads -progress: whether to redraw live, and whether to
// show progress at all.
func progressChoice(mode string, stdout any) (live, show bool, err error) {
	switch mode {
	case "auto":
		return isTerminal(stdout), true, nil
	case "live":
		return true, true, nil
	case "plain":
		return false, true, nil
	case "none":
		return false, false, nil
	}
	return false, false, fmt.Errorf("-progress must be auto, live, plain or none; got %q", mode)
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// startFailed reports an error before the trials started: an interrupt
// (exit 130, nothing ran) or the error itself.
func startFailed(env *cliEnv, ctx context.Context, err error) int {
	if ctx.Err() != nil {
		fmt.Fprintln(env.stderr, "tune apply: interrupted before any trial started")
		return exitInterrupted
	}
	fmt.Fprintf(env.stderr, "tune apply: %v\n", err)
	return exitError
}

// startReport writes the plan's part of the report and starts rewriting
// report.html. The returned function stops the rewriting and writes the
// page once more, final. A page that cannot be written is a warning: the
// experiment runs on.
func startReport(env *cliEnv, root string, exp *experiment.Experiment, plan *planner.Plan, nomad bool) (string, func()) {
	path := filepath.Join(root, exp.Name, report.File)
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	var warned sync.Once
	warn := func(err error) {
		warned.Do(func() { fmt.Fprintf(env.stderr, "tune apply: warning: report page: %v\n", err) })
	}
	if err := report.WritePlan(root, exp.Name, report.NewPlan(exp, plan, atOnceText(plan), nomad)); err != nil {
		warn(err)
	}
	refresher := report.StartRefresh(root, exp.Name, report.RefreshInterval, time.Now, warn)
	return path, func() {
		refresher.Stop()
		if _, err := report.Write(root, exp.Name, time.Now(), false); err != nil {
			warn(err)
		}
	}
}
