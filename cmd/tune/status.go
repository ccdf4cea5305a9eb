package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/hashicorp/nomad/api"

	nomaddrv "github.com/nomad-tune/tune/driver/nomad"
	"github.com/nomad-tune/tune/experiment"
	"github.com/nomad-tune/tune/results"
	"github.com/nomad-tune/tune/trialenv"
)

const statusUsage = `
Usage: tune status [options] NAME

  Shows where an experiment's trials stand. With a Nomad cluster (-address
  or NOMAD_ADDR), it reads the trial jobs from Nomad alone — found by their
  meta, so it works from any machine — and shows each trial's job and
  allocations, and which tune apply drives the experiment (the holder of
  its lease: host, process, results folder, since when). Without a
  cluster, it reads the results folder, and an experiment whose tune apply
  was killed shows as "interrupted: tune is no longer running (pid N)";
  tune apply resumes it. On Nomad it ends with the Nomad UI's pages of the
  experiment: its trial jobs and its summary Variable. NAME is the name of
  an experiment, not a path.
`

const stopUsage = `
Usage: tune stop [options] NAME

  Stops every Nomad job of the experiment NAME (found by their meta:
  tune_managed_by = "tune" and tune_experiment = NAME) and nothing else.
  With -purge the jobs are also removed from Nomad's state, with the
  Variables tune wrote for the Nomad UI (each trial's metrics and the
  experiment's summary). Trials stopped this way run again when tune apply
  resumes the experiment.
`

// experimentJobs lists the experiment's jobs, sorted by trial index.
func experimentJobs(client *api.Client, name string) ([]*api.JobListStub, error) {
	// Nomad leaves meta out of job list entries unless asked.
	stubs, _, err := client.Jobs().List(&api.QueryOptions{Filter: trialenv.Filter(name), Params: map[string]string{"meta": "true"}})
	if err != nil {
		return nil, nomaddrv.Denied(err, "list jobs", `the "list-jobs" and "read-job" capabilities in the namespace`)
	}
	sort.Slice(stubs, func(i, j int) bool {
		a, _ := strconv.Atoi(stubs[i].Meta[trialenv.MetaTrialIndex])
		b, _ := strconv.Atoi(stubs[j].Meta[trialenv.MetaTrialIndex])
		if a != b {
			return a < b
		}
		return stubs[i].ID < stubs[j].ID
	})
	return stubs, nil
}

func runStatus(env *cliEnv, args []string) int {
	fs := newFlagSet("status", statusUsage, env.stderr)
	address := fs.String("address", "", "Nomad HTTP API address (default: NOMAD_ADDR).")
	namespace := fs.String("namespace", "", "Nomad namespace of the experiment's jobs (default: NOMAD_NAMESPACE, or default).")
	resultsDir := fs.String("results", "tune-results", "Results folder, read when no Nomad cluster is configured.")
	asJSON := fs.Bool("json", false, "Print the status as JSON.")
	var maxConns int
	registerMaxConns(fs, &maxConns)
	names, err := parseArgs(fs, args)
	if err != nil {
		return flagStatus(err)
	}
	if len(names) != 1 {
		fs.Usage()
		return exitError
	}
	name := names[0]
	if err := results.CheckExperimentName(name); err != nil {
		fmt.Fprintf(env.stderr, "tune %s: %v\n", fs.Name(), err)
		return exitError
	}
	addr := *address
	if addr == "" {
		addr = env.getenv("NOMAD_ADDR")
	}
	if addr == "" {
		return localStatus(env, *resultsDir, name, *asJSON)
	}
	client, err := openNomad(context.Background(), addr, *namespace, maxConns)
	// What is printed never shows credentials written in the address.
	shown := nomaddrv.RedactAddress(addr)
	if err != nil {
		fmt.Fprintf(env.stderr, "tune status: %v\n", err)
		return exitError
	}
	stubs, err := experimentJobs(client, name)
	if err != nil {
		fmt.Fprintf(env.stderr, "tune status: listing the jobs of %q at %s: %v\n", name, shown, err)
		return exitError
	}
	if len(stubs) == 0 {
		fmt.Fprintf(env.stderr, "tune status: Nomad at %s has no jobs of experiment %q\n", shown, name)
		return exitError
	}
	lease, err := nomaddrv.ReadLease(client, name, nil)
	if err != nil {
		fmt.Fprintf(env.stderr, "tune status: reading the lease of %q (which tune apply drives it): %v\n", name, err)
	}
	rows := make([]statusRow, len(stubs))
	counts := map[string]int{}
	for i, s := range stubs {
		rows[i] = statusRowOf(s)
		counts[rows[i].State]++
	}
	if *asJSON {
		writeJSON(env.stdout, struct {
			Experiment string         `json:"experiment"`
			Address    string         `json:"address"`
			Counts     map[string]int `json:"counts"`
			// Lease says which tune apply drives the experiment; null
			// when none does.
			Lease  *nomaddrv.LeaseInfo `json:"lease"`
			Trials []statusRow         `json:"trials"`
		}{name, shown, counts, lease, rows})
		return exitOK
	}
	printStatus(env.stdout, name, shown, counts, rows)
	printLease(env.stdout, lease)
	printNomadUI(env.stdout, addr, name, stubs[0].Namespace)
	return exitOK
}

// statusRow is one trial job as tune status shows it.
type statusRow struct {
	TrialID string         `json:"trial_id"`
	Index   int            `json:"index"`
	Job     string         `json:"job"`
	Attempt int            `json:"attempt"`
	State   string         `json:"state"`
	Allocs  map[string]int `json:"allocs"`
	Params  map[string]any `json:"params"`
}

// statusRowOf reads a trial job: its state is the job's, refined by its
// allocations (a dead job whose allocations failed is "failed").
func statusRowOf(s *api.JobListStub) statusRow {
	row := statusRow{TrialID: s.Meta[trialenv.MetaTrialID], Job: s.ID, State: s.Status, Allocs: map[string]int{}}
	row.Index, _ = strconv.Atoi(s.Meta[trialenv.MetaTrialIndex])
	row.Attempt, _ = strconv.Atoi(s.Meta[trialenv.MetaAttempt])
	_ = json.Unmarshal([]byte(s.Meta[trialenv.MetaParams]), &row.Params)
	if s.JobSummary != nil {
		for _, tg := range s.JobSummary.Summary {
			add := func(k string, n int) {
				if n > 0 {
					row.Allocs[k] += n
				}
			}
			add("queued", tg.Queued)
			add("starting", tg.Starting)
			add("running", tg.Running)
			add("complete", tg.Complete)
			add("failed", tg.Failed)
			add("lost", tg.Lost)
		}
	}
	switch {
	case s.Stop && s.Status != "dead":
		row.State = "stopping"
	case s.Status == "dead" && row.Allocs["failed"]+row.Allocs["lost"] > 0:
		row.State = "failed"
	case s.Status == "dead" && s.Stop:
		row.State = "stopped"
	case s.Status == "dead":
		row.State = "complete"
	case row.Allocs["running"] == 0:
		// Nomad calls a job whose allocations wait to be placed or to
		// start "running" (or "pending"): nothing of the trial runs yet.
		row.State = "pending"
	}
	return row
}

func printStatus(w io.Writer, name, addr string, counts map[string]int, rows []statusRow) {
	states := make([]string, 0, len(counts))
	for s := range counts {
		states = append(states, s)
	}
	sort.Strings(states)
	parts := make([]string, len(states))
	for i, s := range states {
		parts[i] = fmt.Sprintf("%d %s", counts[s], s)
	}
	fmt.Fprintf(w, "Experiment %q on %s: %s (%s)\n\n", name, addr, experiment.Count(len(rows), "trial job"), strings.Join(parts, ", "))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TRIAL\tSTATE\tATTEMPT\tALLOCATIONS\tJOB\tPARAMS")
	for _, r := range rows {
		allocs := make([]string, 0, len(r.Allocs))
		for k, n := range r.Allocs {
			allocs = append(allocs, fmt.Sprintf("%d %s", n, k))
		}
		sort.Strings(allocs)
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", r.TrialID, r.State, r.Attempt, strings.Join(allocs, ", "), r.Job, sortedParams(r.Params))
	}
	_ = tw.Flush()
}

// printLease says which tune apply drives the experiment.
func printLease(w io.Writer, l *nomaddrv.LeaseInfo) {
	if l == nil {
		fmt.Fprintln(w, "\nNo tune apply drives it now.")
		return
	}
	fmt.Fprintf(w, "\nDriven by tune apply: %s; lease renewed %s, lapses %s unless renewed.\n",
		l.Holder, l.Renewed.Local().Format("15:04:05"), l.Expires.Local().Format("15:04:05"))
}

// sortedParams is paramsText with the names in alphabetical order, for
// where the search space's order is not at hand.
func sortedParams(p map[string]any) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return paramsText(p, keys)
}

// localStatus is status without a cluster: the counts and running trials
// of the results folder.
func localStatus(env *cliEnv, root, name string, asJSON bool) int {
	sum, records, err := results.Load(root, name)
	if err != nil {
		fmt.Fprintf(env.stderr, "tune status: %v\n", err)
		return exitError
	}
	if asJSON {
		writeJSON(env.stdout, struct {
			Summary *results.Summary       `json:"summary"`
			Trials  []*results.TrialRecord `json:"trials"`
		}{sum, records})
		return exitOK
	}
	counts := results.Counts(records)
	fmt.Fprintf(env.stdout, "Experiment %q (%s): %s; %s: %d running, %d pending, %d terminated, %d errored\n",
		name, root, summaryStatus(sum), experiment.Count(len(records), "trial"), counts[results.Running], counts[results.Pending], counts[results.Terminated], counts[results.Error])
	tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', 0)
	shown := 0
	for _, r := range records {
		if r.Status != results.Running {
			continue
		}
		if shown == 0 {
			fmt.Fprintln(tw, "\nTRIAL\tSTATUS\tITER\tPARAMS")
		}
		shown++
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", r.ID, r.Status, r.Iterations, sortedParams(r.Params))
	}
	_ = tw.Flush()
	return exitOK
}

// summaryStatus is a summary's status for people: an interrupted
// experiment says what became of its tune and how to go on.
func summaryStatus(sum *results.Summary) string {
	if sum.Status != results.Interrupted {
		return sum.Status
	}
	pid := ""
	if sum.PID > 0 {
		pid = fmt.Sprintf(" (pid %d)", sum.PID)
	}
	return "interrupted: tune is no longer running" + pid + "; tune apply resumes it"
}

func runStop(env *cliEnv, args []string) int {
	fs := newFlagSet("stop", stopUsage, env.stderr)
	address := fs.String("address", "", "Nomad HTTP API address (default: NOMAD_ADDR).")
	namespace := fs.String("namespace", "", "Nomad namespace of the experiment's jobs (default: NOMAD_NAMESPACE, or default).")
	purge := fs.Bool("purge", false, "Also remove the jobs from Nomad's state, and the experiment's Variables.")
	var maxConns int
	registerMaxConns(fs, &maxConns)
	names, err := parseArgs(fs, args)
	if err != nil {
		return flagStatus(err)
	}
	if len(names) != 1 {
		fs.Usage()
		return exitError
	}
	name := names[0]
	if err := results.CheckExperimentName(name); err != nil {
		fmt.Fprintf(env.stderr, "tune %s: %v\n", fs.Name(), err)
		return exitError
	}
	addr := *address
	if addr == "" {
		addr = env.getenv("NOMAD_ADDR")
	}
	if addr == "" {
		fmt.Fprintln(env.stderr, "tune stop: stops an experiment's Nomad jobs: set -address or NOMAD_ADDR. On this machine, Ctrl-C on tune apply stops an experiment.")
		return exitError
	}
	client, err := openNomad(context.Background(), addr, *namespace, maxConns)
	// What is printed never shows credentials written in the address.
	shown := nomaddrv.RedactAddress(addr)
	if err != nil {
		fmt.Fprintf(env.stderr, "tune stop: %v\n", err)
		return exitError
	}
	stubs, err := experimentJobs(client, name)
	if err != nil {
		fmt.Fprintf(env.stderr, "tune stop: listing the jobs of %q at %s: %v\n", name, shown, err)
		return exitError
	}
	stopped, failed := 0, 0
	for _, s := range stubs {
		if s.Stop && !*purge {
			continue
		}
		q := &api.WriteOptions{Namespace: s.Namespace}
		if _, _, err := client.Jobs().Deregister(s.ID, *purge, q); err != nil {
			fmt.Fprintf(env.stderr, "tune stop: job %s: %v\n", s.ID, nomaddrv.Denied(err, "stop job", fmt.Sprintf(`the "submit-job" capability in namespace %q`, s.Namespace)))
			failed++
			continue
		}
		stopped++
	}
	verb := "Stopped"
	if *purge {
		verb = "Stopped and purged"
	}
	fmt.Fprintf(env.stdout, "%s %d of the %s of experiment %q.\n", verb, stopped, experiment.Count(len(stubs), "job"), name)
	if *purge {
		// Nomad keeps a job's Variables when it purges the job.
		if !purgeVariables(env, client, name, *namespace, stubs) {
			failed++
		}
	}
	if failed > 0 {
		return exitError
	}
	return exitOK
}
