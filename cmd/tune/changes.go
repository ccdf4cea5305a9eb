package main

import (
	"context"
	"fmt"
	"io"

	"github.com/nomad-tune/tune/driver"
	"github.com/nomad-tune/tune/experiment"
	"github.com/nomad-tune/tune/planner"
)

// jobChanges compares the trials with the jobs the cluster holds for
// them; nil on this machine, which keeps nothing between runs.
func jobChanges(ctx context.Context, t *target, exp *experiment.Experiment, trials []*planner.Trial) (*planner.JobChanges, error) {
	if t.nomad == nil {
		return nil, nil
	}
	existing, err := t.nomad.Existing(ctx, exp, trials)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]driver.Existing, len(existing))
	for _, ex := range existing {
		byID[ex.TrialID] = ex
	}
	ch := &planner.JobChanges{Changed: []string{}}
	for _, tr := range trials {
		ex, ok := byID[tr.ID]
		switch {
		case !ok:
			ch.New++
		case ex.Changed:
			ch.Changed = append(ch.Changed, tr.ID)
		case ex.Running:
			ch.Unchanged++
			ch.Running++
		default:
			ch.Unchanged++
			ch.Done++
		}
	}
	return ch, nil
}

// printJobChanges is plan's account of what the cluster already holds,
// in Terraform's symbols: + new, = unchanged, ~ changed.
func printJobChanges(w io.Writer, ch *planner.JobChanges) {
	fmt.Fprintln(w, "\nJobs in Nomad, compared by what each trial compiles to:")
	fmt.Fprintf(w, "  + %d new\n", ch.New)
	fmt.Fprintf(w, "  = %d unchanged (%d done, %d running)\n", ch.Unchanged, ch.Done, ch.Running)
	fmt.Fprintf(w, "  ~ %d changed", len(ch.Changed))
	if len(ch.Changed) > 0 {
		fmt.Fprintf(w, ": %s\n", idList(ch.Changed, 6))
		fmt.Fprintln(w, "    their jobs were compiled from another definition of the experiment; tune apply")
		fmt.Fprintln(w, "    refuses them, tune apply -replace runs them again as new versions of their jobs")
	} else {
		fmt.Fprintln(w)
	}
}

// printChangedRefusal says why apply will not run, and the ways forward.
func printChangedRefusal(w io.Writer, exp *experiment.Experiment, file string, ids []string) {
	fmt.Fprintf(w, "tune apply: %d %s of %q ran from another definition of the experiment\n",
		len(ids), pluralWord(len(ids), "trial", "trials"), exp.Name)
	fmt.Fprintf(w, "(the file or its variables changed since; its job in Nomad or its results say so): %s\n", idList(ids, 10))
	fmt.Fprintln(w, "Their results belong to that definition, so tune will not take them as this one's. Either:")
	fmt.Fprintf(w, "  - run them again (on Nomad, as new versions of their jobs):  tune apply -replace %s\n", file)
	fmt.Fprintln(w, "  - or give the experiment another name, which leaves the old jobs and results alone.")
	fmt.Fprintln(w, "Nothing was started or changed.")
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
