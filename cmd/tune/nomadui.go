package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/hashicorp/nomad/api"

	nomaddrv "github.com/nomad-tune/tune/driver/nomad"
	"github.com/nomad-tune/tune/experiment"
	"github.com/nomad-tune/tune/jobs"
	"github.com/nomad-tune/tune/nomadvars"
	"github.com/nomad-tune/tune/planner"
)

// nomadUIURL is a page of the Nomad UI at the address the user gave, with
// no credentials: user and password, and the whole query, are left out
// (the browser signs in on its own).
func nomadUIURL(address, path string) string {
	u, err := url.Parse(address)
	if err != nil || u.Host == "" {
		return path
	}
	base := url.URL{Scheme: u.Scheme, Host: u.Host, Path: strings.TrimSuffix(u.Path, "/")}
	return base.String() + path
}

// printNomadUI says where the Nomad UI shows the experiment: its trial
// jobs and its summary Variable.
func printNomadUI(w io.Writer, address, experiment, namespace string) {
	fmt.Fprintf(w, "Nomad UI: %s\n", nomadUIURL(address, jobs.JobsListPath(experiment)))
	fmt.Fprintf(w, "Summary:  %s\n", nomadUIURL(address, jobs.SummaryVariablePath(experiment, namespace)))
}

// purgeVariables deletes the Variables tune wrote for the experiment's
// trial jobs and its summary, namespace by namespace; false when one
// could not be deleted (said on stderr).
func purgeVariables(env *cliEnv, client *api.Client, name, namespace string, stubs []*api.JobListStub) bool {
	byNamespace := map[string][]string{}
	if len(stubs) == 0 {
		byNamespace[namespace] = nil
	}
	for _, s := range stubs {
		byNamespace[s.Namespace] = append(byNamespace[s.Namespace], s.ID)
	}
	ok, deleted := true, 0
	for ns, ids := range byNamespace {
		n, err := nomadvars.Purge(context.Background(), client, name, ns, ids)
		deleted += n
		if err != nil {
			fmt.Fprintf(env.stderr, "tune stop: %v\n", nomaddrv.Denied(err, "delete Variables", `the variables capabilities read and destroy on paths "nomad/jobs/*" and "tune/*"`))
			ok = false
		}
	}
	if deleted > 0 {
		fmt.Fprintf(env.stdout, "Deleted %s of trial metrics and the summary.\n", experiment.Count(deleted, "Nomad Variable"))
	}
	return ok
}

// firstGroups names each trial's first task group, whose Variable holds
// the trial's metrics.
func firstGroups(exp *experiment.Experiment, trials []*planner.Trial) map[string]string {
	groups := make(map[string]string, len(trials))
	for _, t := range trials {
		shape := t.Shape
		if shape == nil {
			shape, _ = exp.ResolveShape(t.Vars())
		}
		if shape != nil && len(shape.Groups) > 0 {
			groups[t.ID] = shape.Groups[0].Name
		}
	}
	return groups
}
