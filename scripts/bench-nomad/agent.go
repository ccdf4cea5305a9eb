package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/hashicorp/nomad/api"
	"golang.org/x/sync/errgroup"

	nomaddrv "github.com/nomad-tune/tune/driver/nomad"
	"github.com/nomad-tune/tune/jobs"
	"github.com/nomad-tune/tune/planner"
)

// scenarioD compares tune with a person who registers every job at once
// through the API, on a real Nomad cluster (a dev agent will do), with
// raw_exec trials that sleep: one workload fits the cluster at once, the
// other is sized by memory so that only -d-at-once trials fit at a time,
// and Nomad (naive) or tune (throttled) must queue the rest. Wall time is
// real time here; makespan runs from the first submission to the last
// task's end as Nomad recorded it.
func scenarioD(ctx context.Context, c config) error {
	if c.dAddr == "" {
		return errors.New("no Nomad cluster: set NOMAD_ADDR or -d-addr (scripts/nomad-dev.sh start runs a dev agent)")
	}
	if c.dTrials < 1 || c.dAtOnce < 1 || c.dRunFor <= 0 {
		return fmt.Errorf("-d-trials, -d-at-once and -d-run-for must be positive")
	}
	client, err := newClient(c.dAddr)
	if err != nil {
		return err
	}
	probe, _, err := load("", "probe", sleepExperiment("bench-d-probe", 1, 64, c.dRunFor))
	if err != nil {
		return err
	}
	nd, err := nomaddrv.New(nomaddrv.Options{Client: client, Experiment: probe})
	if err != nil {
		return err
	}
	capacity, err := nd.Capacity(ctx)
	nd.Close()
	if err != nil {
		return fmt.Errorf("reading the cluster at %s: %w", c.dAddr, err)
	}
	if len(capacity.Nodes) == 0 {
		return fmt.Errorf("the cluster at %s has no ready node", c.dAddr)
	}
	// Memory sizes the throttled workload: each node holds its share of
	// -d-at-once trials and no more.
	perNode := (c.dAtOnce + len(capacity.Nodes) - 1) / len(capacity.Nodes)
	mem := int64(-1)
	for _, n := range capacity.Nodes {
		free := (n.MemoryMiB - n.Used.MemoryMiB) / int64(perNode)
		if mem < 0 || free < mem {
			mem = free
		}
	}
	if mem < 16 {
		return fmt.Errorf("the cluster's nodes have too little free memory to hold %d trials each", perNode)
	}
	fits := min(c.dAtOnce, c.dTrials)
	workloads := []agentWorkload{
		{name: "fits", trials: fits, memory: 64, atOnce: fits},
		{name: "throttled", trials: c.dTrials, memory: mem, atOnce: c.dAtOnce},
	}
	fmt.Printf("(d) a real Nomad at %s (%d %s); raw_exec trials that sleep %s; %d runs of each, tune and naive alternating\n",
		nomaddrv.RedactAddress(c.dAddr), len(capacity.Nodes), plural(len(capacity.Nodes), "node", "nodes"), c.dRunFor, max(c.dRepeat, 1))
	failed := false
	for _, w := range workloads {
		waves := (w.trials + w.atOnce - 1) / w.atOnce
		minimum := time.Duration(waves) * c.dRunFor
		fmt.Printf("  %s: %d trials, memory = %d MiB each, %d at once: minimum %s\n", w.name, w.trials, w.memory, w.atOnce, minimum)
		var tunes, naives []float64
		for rep := range max(c.dRepeat, 1) {
			name := fmt.Sprintf("bench-d-%s-%d-%d", w.name, time.Now().Unix()%100000, rep)
			t, err := w.runTune(ctx, c, client, name+"-tune")
			if err != nil {
				return fmt.Errorf("%s, tune: %w", w.name, err)
			}
			n, err := w.runNaive(ctx, c, client, name+"-naive", capacity.SharesPerCore())
			if err != nil {
				return fmt.Errorf("%s, naive: %w", w.name, err)
			}
			fmt.Printf("    run %d: tune %s = %.3f × minimum%s; naive %s = %.3f × minimum%s\n", rep+1,
				t.makespan.Round(time.Millisecond), t.makespan.Seconds()/minimum.Seconds(), t.note(),
				n.makespan.Round(time.Millisecond), n.makespan.Seconds()/minimum.Seconds(), n.note())
			failed = failed || !t.finished || !n.finished
			tunes, naives = append(tunes, t.makespan.Seconds()), append(naives, n.makespan.Seconds())
			if ctx.Err() != nil {
				return nil
			}
		}
		sort.Float64s(tunes)
		sort.Float64s(naives)
		fmt.Printf("    median: tune %.3fs, naive %.3fs: tune takes %.3f × as long as naive submission\n",
			median(tunes), median(naives), median(tunes)/median(naives))
	}
	if failed {
		return errUnfinished
	}
	return nil
}

// agentWorkload is one of scenario d's experiments.
type agentWorkload struct {
	name           string
	trials, atOnce int
	memory         int64
}

// agentRun is one way of running a workload.
type agentRun struct {
	makespan time.Duration
	finished bool
	why      string
}

func (r agentRun) note() string {
	if r.finished {
		return ""
	}
	return " (DID NOT FINISH: " + r.why + ")"
}

// sleepExperiment is a raw_exec experiment of trials that sleep.
func sleepExperiment(name string, trials int, memory int64, runFor time.Duration) string {
	return fmt.Sprintf(`experiment %q {
  num_samples = %d
  resources {
    cpu    = 0.01
    memory = %d
  }
  task "t" {
    driver  = "raw_exec"
    command = "/bin/sleep"
    args    = [%q]
  }
}
`, name, trials, memory, fmt.Sprintf("%g", runFor.Seconds()))
}

func (w agentWorkload) runTune(ctx context.Context, c config, client *api.Client, name string) (agentRun, error) {
	dir, cleanup, err := c.tempDir("tune-bench-nomad-d-")
	if err != nil {
		return agentRun{}, err
	}
	defer cleanup()
	start := time.Now()
	r, err := runTune(ctx, c, dir, name, sleepExperiment(name, w.trials, w.memory, c.dRunFor), c.dAddr, 0, nil)
	if err != nil {
		return agentRun{}, err
	}
	out := agentRun{}
	out.finished, out.why = r.finished()
	ids := jobIDs(name, r.trials)
	defer purge(client, ids)
	end, ended, err := lastEnd(client, ids)
	if err != nil {
		return out, err
	}
	if ended < w.trials && out.finished {
		out.finished, out.why = false, fmt.Sprintf("Nomad recorded the end of %d of %d tasks", ended, w.trials)
	}
	out.makespan = end.Sub(start)
	if p := r.problems(); p != "" {
		out.why += " " + p
	}
	return out, nil
}

// runNaive registers every job at once, eight registrations in flight as
// a quick client would, and waits until every task has ended.
func (w agentWorkload) runNaive(ctx context.Context, c config, client *api.Client, name string, shares int64) (agentRun, error) {
	exp, trials, err := load("", name, sleepExperiment(name, w.trials, w.memory, c.dRunFor))
	if err != nil {
		return agentRun{}, err
	}
	all := make([]*api.Job, len(trials))
	for i, t := range trials {
		j, diags := jobs.Compile(exp, t, jobs.Options{MHzPerCore: shares})
		if diags.HasErrors() {
			return agentRun{}, diags
		}
		all[i] = j
	}
	ids := jobIDs(name, trials)
	defer purge(client, ids)
	start := time.Now()
	if err := parallel(len(all), func(i int) error {
		_, _, err := client.Jobs().Register(all[i], nil)
		return err
	}); err != nil {
		return agentRun{}, fmt.Errorf("registering: %w", err)
	}
	deadline := time.Now().Add(c.limit)
	for {
		end, ended, err := lastEnd(client, ids)
		if err != nil {
			return agentRun{}, err
		}
		if ended >= w.trials {
			return agentRun{makespan: end.Sub(start), finished: true}, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return agentRun{makespan: time.Since(start), why: fmt.Sprintf("%d of %d tasks ended by the limit", ended, w.trials)}, nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func jobIDs(name string, trials []*planner.Trial) map[string]bool {
	ids := make(map[string]bool, len(trials))
	for _, t := range trials {
		ids[jobs.JobID(name, t.ID)] = true
	}
	return ids
}

// lastEnd is the latest task end among the jobs' allocations, and how
// many of the jobs have a task that ended well.
func lastEnd(client *api.Client, ids map[string]bool) (time.Time, int, error) {
	stubs, _, err := client.Allocations().List(&api.QueryOptions{Params: map[string]string{"task_states": "true"}})
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("listing allocations: %w", err)
	}
	var end time.Time
	done := map[string]bool{}
	for _, a := range stubs {
		if !ids[a.JobID] {
			continue
		}
		for _, ts := range a.TaskStates {
			if ts == nil || ts.FinishedAt.IsZero() {
				continue
			}
			if ts.FinishedAt.After(end) {
				end = ts.FinishedAt
			}
			if !ts.Failed && a.ClientStatus == api.AllocClientStatusComplete {
				done[a.JobID] = true
			}
		}
	}
	return end, len(done), nil
}

// purge removes the jobs of a run, so the next one starts on an empty
// cluster and the agent's state stays small.
func purge(client *api.Client, ids map[string]bool) {
	list := make([]string, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	_ = parallel(len(list), func(i int) error {
		_, _, err := client.Jobs().Deregister(list[i], true, nil)
		return err
	})
}

// parallel calls f for 0..n-1 with eight calls in flight and returns the
// first error, once every call has returned.
func parallel(n int, f func(int) error) error {
	var g errgroup.Group
	g.SetLimit(8)
	for i := range n {
		g.Go(func() error { return f(i) })
	}
	return g.Wait()
}
