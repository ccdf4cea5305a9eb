// Command bench-conns measures the HTTP connections tune's Nomad driver
// holds to a Nomad agent while many trials run: for each number of
// trials it starts them all on a fresh simulated cluster (test/nomadsim,
// which refuses a client IP past Nomad's default of 100 connections, as
// Nomad does), waits until every one runs and has reported, then watches
// the connections the agent sees for a while, and makes a burst of a
// person's own API calls beside them. It prints one line per size:
//
//	TRIALS  BUDGET  PEAK  OPEN  REFUSED  USER CALLS OK
//
// PEAK is the most connections tune held at once while the trials ran
// (as the agent counts them: from accept to close), OPEN those open at
// the end of the window, REFUSED the connections the agent answered 429
// (tune's and the person's), USER CALLS OK how many of the person's
// concurrent calls were answered.
//
// Run it from the module root:
//
//	go run ./scripts/bench-conns [-trials 10,100,1000] [-max-conns 16] [-window 5s] [-user-calls 50]
//
// The exit status is 1 when a run did not reach all its trials running,
// or when any connection was refused.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/nomad/api"

	"github.com/nomad-tune/tune/driver"
	nomaddrv "github.com/nomad-tune/tune/driver/nomad"
	tunehcl "github.com/nomad-tune/tune/hcl"
	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/test/nomadsim"
)

func main() {
	sizes := flag.String("trials", "10,100,1000", "numbers of running trials to measure, comma-separated")
	maxConns := flag.Int("max-conns", nomaddrv.DefaultMaxConns, "tune's connection budget (-nomad-max-conns)")
	window := flag.Duration("window", 5*time.Second, "how long to watch the connections once every trial runs")
	userCalls := flag.Int("user-calls", 50, "concurrent API calls a person makes during the window")
	limit := flag.Duration("limit", 5*time.Minute, "bound on each run")
	flag.Parse()

	var ns []int
	for _, f := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "bench-conns: -trials: %q is not a positive number\n", f)
			os.Exit(2)
		}
		ns = append(ns, n)
	}
	const row = "%-8v %-8v %-6v %-6v %-9v %v\n"
	fmt.Printf(row, "TRIALS", "BUDGET", "PEAK", "OPEN", "REFUSED", "USER CALLS OK")
	failed := false
	for _, n := range ns {
		r, err := measure(n, *maxConns, *window, *userCalls, *limit)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench-conns: %d trials: %v\n", n, err)
			failed = true
			continue
		}
		fmt.Printf(row, n, *maxConns, r.held.Peak, r.held.Open, r.held.Refused, fmt.Sprintf("%d/%d", r.userOK, *userCalls))
		failed = failed || r.held.Refused > 0
	}
	if failed {
		os.Exit(1)
	}
}

type measurement struct {
	held   nomadsim.ConnStats
	userOK int
}

// experimentOf is n one-core trials that report every second for an hour.
func experimentOf(n int) string {
	return fmt.Sprintf(`experiment "conns" {
  num_samples = %d
  resources {
    cpu    = 1
    memory = 64
  }
  task "train" {
    driver = "mock_driver"
    config {
      run_for                = "1h"
      stdout_string          = "@tune {\"loss\": 1}\n"
      stdout_repeat          = 3600
      stdout_repeat_duration = "1s"
    }
  }
  nomad {
    datacenters = ["dc1"]
  }
}`, n)
}

func measure(n, maxConns int, window time.Duration, userCalls int, limit time.Duration) (measurement, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	dir, err := os.MkdirTemp("", "bench-conns-")
	if err != nil {
		return measurement{}, err
	}
	defer os.RemoveAll(dir)
	exp, diags := tunehcl.Load(filepath.Join(dir, "conns.hcl"), []byte(experimentOf(n)), tunehcl.Options{})
	if diags.HasErrors() {
		return measurement{}, diags
	}
	trials, diags := planner.Trials(exp)
	if diags.HasErrors() {
		return measurement{}, diags
	}
	nodes := (n + 31) / 32
	srv, err := nomadsim.Start(nomadsim.Options{Seed: 1, AllocDir: dir, Nodes: []nomadsim.NodeSpec{{
		Count: nodes, Name: "node", Datacenter: "dc1", Cores: 32, MHz: 2000, MemoryMiB: 64 * 1024,
	}}})
	if err != nil {
		return measurement{}, err
	}
	defer srv.Close()

	cfg := api.DefaultConfig()
	cfg.Address = srv.URL()
	client, err := nomaddrv.NewClient(cfg, maxConns)
	if err != nil {
		return measurement{}, err
	}
	d, err := nomaddrv.New(nomaddrv.Options{Client: client, Experiment: exp, MaxConns: maxConns})
	if err != nil {
		return measurement{}, err
	}
	defer d.Close()

	// Every trial running and reported once.
	running, reported := map[string]bool{}, map[string]bool{}
	all := make(chan struct{})
	go func() {
		signalled := false
		for ev := range d.Events() {
			switch ev.Kind {
			case driver.EventRunning:
				running[ev.TrialID] = true
			case driver.EventReport:
				reported[ev.TrialID] = true
			}
			if len(running) == n && len(reported) == n && !signalled {
				close(all)
				signalled = true
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for _, t := range trials {
		wg.Go(func() {
			errs <- d.Start(ctx, driver.StartRequest{Experiment: exp, Trial: t})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return measurement{}, err
		}
	}
	select {
	case <-all:
	case <-ctx.Done():
		return measurement{}, errors.New("not every trial ran and reported within the limit")
	}

	// The window: tune's connections alone, then a person's burst.
	srv.ResetConns()
	select {
	case <-time.After(window):
	case <-ctx.Done():
		return measurement{}, ctx.Err()
	}
	m := measurement{held: srv.Conns()}
	user, err := api.NewClient(&api.Config{Address: srv.URL()})
	if err != nil {
		return measurement{}, err
	}
	defer user.Close()
	ok := make(chan bool, userCalls)
	for range userCalls {
		wg.Go(func() {
			_, _, err := user.Jobs().List(nil)
			ok <- err == nil
		})
	}
	wg.Wait()
	close(ok)
	for answered := range ok {
		if answered {
			m.userOK++
		}
	}
	m.held.Refused = srv.Conns().Refused
	return m, nil
}
