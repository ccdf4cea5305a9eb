package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/nomad/api"

	"github.com/nomad-tune/tune/driver"
	"github.com/nomad-tune/tune/driver/local"
	nomaddrv "github.com/nomad-tune/tune/driver/nomad"
	"github.com/nomad-tune/tune/experiment"
	"github.com/nomad-tune/tune/jobs"
	"github.com/nomad-tune/tune/planner"
)

// targetFlags choose the target: the Nomad cluster of -address or
// NOMAD_ADDR when either is set, this machine otherwise.
type targetFlags struct {
	address  string
	maxConns int
	local    localFlags
}

func (t *targetFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&t.address, "address", "", "Nomad HTTP API address (default: NOMAD_ADDR). Without either, trials run on this machine.")
	registerMaxConns(fs, &t.maxConns)
	t.local.register(fs)
}

// registerMaxConns adds -nomad-max-conns, which every command that talks
// to Nomad takes.
func registerMaxConns(fs *flag.FlagSet, n *int) {
	fs.IntVar(n, "nomad-max-conns", nomaddrv.DefaultMaxConns,
		fmt.Sprintf("Most HTTP connections to hold to one Nomad address, whatever the number of trials (at least %d). Nomad refuses an IP past limits.http_max_conns_per_client (100 by default), to tune and to anyone else on this machine.", nomaddrv.MinMaxConns))
}

// nomadAddress is the cluster to use, "" for this machine.
func (t *targetFlags) nomadAddress(env *cliEnv) string {
	if t.address != "" {
		return t.address
	}
	return env.getenv("NOMAD_ADDR")
}

// target is an opened target: its driver and a first capacity snapshot.
type target struct {
	driver   driver.Driver
	capacity *planner.Capacity
	// nomad is the Nomad driver, nil on this machine; client is its
	// client and address the address the user gave.
	nomad   *nomaddrv.Driver
	client  *api.Client
	address string
}

// check says what the target cannot do of the experiment, before anything
// runs: on this machine, artifacts, volumes, another user and templates it
// cannot render are errors; on Nomad, a relative command that would not be
// found on a client is a warning.
func (t *target) check(exp *experiment.Experiment, trials []*planner.Trial) hcl.Diagnostics {
	if t.nomad == nil {
		return local.Check(exp, trials)
	}
	if len(trials) == 0 {
		return nil
	}
	specs, diags := exp.ResolveTasks(trials[0].Vars())
	if diags.HasErrors() {
		return diags
	}
	return jobs.Check(exp, specs)
}

// openTarget connects to the target. The Nomad client takes the standard
// Nomad environment (NOMAD_TOKEN, NOMAD_NAMESPACE, NOMAD_REGION, the TLS
// variables) through api.DefaultConfig.
func openTarget(ctx context.Context, env *cliEnv, tf *targetFlags, exp *experiment.Experiment, logger hclog.Logger) (*target, error) {
	address := tf.nomadAddress(env)
	if address == "" {
		drv, err := local.New(local.Options{Capacity: tf.local.options(logger), Logger: logger})
		if err != nil {
			return nil, err
		}
		capacity, err := drv.Capacity(ctx)
		if err != nil {
			drv.Close()
			return nil, err
		}
		return &target{driver: drv, capacity: capacity}, nil
	}
	client, err := openNomad(ctx, address, "", tf.maxConns)
	if err != nil {
		return nil, err
	}
	drv, err := nomaddrv.New(nomaddrv.Options{Client: client, Experiment: exp, Logger: logger, MaxConns: tf.maxConns,
		// An outage is one line on the terminal, and its end another.
		Notify: func(msg string) { fmt.Fprintf(env.stderr, "tune: %s\n", msg) }})
	if err != nil {
		return nil, err
	}
	capacity, err := drv.Capacity(ctx)
	if err != nil {
		drv.Close()
		return nil, fmt.Errorf("reading the nodes of Nomad at %s: %w", drv.Target(), err)
	}
	return &target{driver: drv, capacity: capacity, nomad: drv, client: client, address: address}, nil
}

// openNomad connects to the cluster at address and checks, within
// seconds, that a Nomad agent answers there: a wrong address is told at
// once, with the cause, and not after a minute of retries.
func openNomad(ctx context.Context, address, namespace string, maxConns int) (*api.Client, error) {
	client, err := nomadClient(address, namespace, maxConns)
	if err != nil {
		return nil, fmt.Errorf("connecting to Nomad at %s: %w", nomaddrv.RedactAddress(address), err)
	}
	if err := nomaddrv.Check(ctx, client, nomaddrv.CheckTimeout); err != nil {
		return nil, err
	}
	return client, nil
}

// nomadClient connects to the cluster at address with the rest of the
// standard Nomad environment, holding at most maxConns connections to any
// one address.
func nomadClient(address, namespace string, maxConns int) (*api.Client, error) {
	cfg := api.DefaultConfig()
	cfg.Address = address
	if namespace != "" {
		cfg.Namespace = namespace
	}
	return nomaddrv.NewClient(cfg, maxConns)
}

// dryRuns asks Nomad's own scheduler about one job of each distinct trial
// shape, so that what cannot be placed is said in Nomad's words, and
// records on the target's capacity the shapes it says no node can ever
// hold (a driver, a device or an attribute no node has): those can never
// run, which tune's own model of the nodes cannot see. Nothing is
// registered.
func dryRuns(ctx context.Context, t *target, exp *experiment.Experiment, trials []*planner.Trial) ([]planner.DryRun, error) {
	if t.nomad == nil {
		return nil, nil
	}
	type shapeRun struct {
		trial *planner.Trial
		count int
	}
	byKey := map[string]*shapeRun{}
	var order []string
	keyOf := map[*experiment.Shape]string{}
	for _, tr := range trials {
		key, ok := keyOf[tr.Shape]
		if !ok {
			key = tr.Shape.Key()
			keyOf[tr.Shape] = key
		}
		if sr, ok := byKey[key]; ok {
			sr.count++
			continue
		}
		byKey[key] = &shapeRun{trial: tr, count: 1}
		order = append(order, key)
	}
	var out []planner.DryRun
	for _, key := range order {
		sr := byKey[key]
		job, diags := jobs.Compile(exp, sr.trial, jobs.Options{MHzPerCore: t.capacity.SharesPerCore()})
		if diags.HasErrors() {
			return nil, diags
		}
		unfit, err := t.nomad.DryRun(ctx, job)
		if err != nil {
			return nil, err
		}
		dr := planner.DryRun{Shape: sr.trial.Shape.String(), Trials: sr.count, Job: *job.ID}
		if unfit != nil {
			dr.Reason, dr.Never = unfit.Reason(), unfit.Never()
		}
		if dr.Never {
			t.capacity.Refuse(sr.trial.Shape, "Nomad's scheduler: "+dr.Reason)
		}
		out = append(out, dr)
	}
	return out, nil
}
