// Command nomadsim serves a simulated Nomad cluster on a loopback port,
// for running tune (or anything built on Nomad's api client) against many
// simulated nodes without a Nomad binary:
//
//	go run ./test/cmd/nomadsim \
//	    -nodes "200x{cpu=32,mhz=2400,memory=256GiB,gpus=8,gpu_model=NVIDIA H100 80GB HBM3,gpu_memory=80GiB,pool=gpu,dc=dc1}" \
//	    -nodes "50x{cpu=16,memory=64GiB}" -time-scale 600
//
// It prints NOMAD_ADDR=http://127.0.0.1:PORT on its first line and serves
// until interrupted. It is a test double: never point real work at it.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nomad-tune/tune/test/nomadsim"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("nomadsim", flag.ContinueOnError)
	var nodes, namespaces listFlag
	fs.Var(&nodes, "nodes", `nodes to simulate, repeatable: COUNTx{cpu=32,mhz=2400,memory=256GiB,gpus=8,gpu_model=...,gpu_memory=80GiB,pool=gpu,dc=dc1}`)
	fs.Var(&namespaces, "namespace", "a namespace to create besides default, repeatable")
	cluster := fs.String("cluster", "", `a JSON file describing the nodes: {"nodes": [{"count": 200, "cores": 32, "memory": "256GiB", ...}]}`)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on (127.0.0.1:4646 to stand in for a dev agent)")
	scale := fs.Float64("time-scale", 1, "simulated seconds per real second (600: a 10-minute task takes one second)")
	seed := fs.Uint64("seed", 0, "seed for IDs, node shuffling and fault draws (0: from the clock)")
	failRate := fs.Float64("fail-rate", 0, "fraction of requests answered with -fail-status")
	failStatus := fs.Int("fail-status", 500, "HTTP status of injected failures")
	lostWrites := fs.Float64("lost-write-rate", 0, "fraction of writes applied but answered 500")
	latency := fs.Duration("latency", 0, "delay added to every response")
	logLevel := fs.String("log-level", "warn", "log level: trace, debug, info, warn, error")
	stats := fs.Duration("stats", 0, "print cluster counts at this interval (0: never)")
	maxConns := fs.Int("max-conns-per-client", nomadsim.DefaultMaxConnsPerClient, "limits.http_max_conns_per_client: connections of one IP past it are answered 429 (0: no limit)")
	if err := fs.Parse(args); err != nil {
		return 2
	}

	var specs []nomadsim.NodeSpec
	if *cluster != "" {
		fromFile, err := nomadsim.ReadClusterFile(*cluster)
		if err != nil {
			fmt.Fprintln(os.Stderr, "nomadsim:", err)
			return 2
		}
		specs = append(specs, fromFile...)
	}
	for _, n := range nodes {
		spec, err := nomadsim.ParseNodeSpec(n)
		if err != nil {
			fmt.Fprintln(os.Stderr, "nomadsim:", err)
			return 2
		}
		specs = append(specs, spec)
	}

	logger := hclog.New(&hclog.LoggerOptions{Name: "nomadsim", Level: hclog.LevelFromString(*logLevel), Output: os.Stderr})
	opts := nomadsim.Options{
		Nodes:             specs,
		TimeScale:         *scale,
		Seed:              *seed,
		Logger:            logger,
		Namespaces:        namespaces,
		MaxConnsPerClient: *maxConns,
		Faults: nomadsim.Faults{
			FailureRate:   *failRate,
			FailureStatus: *failStatus,
			LostWriteRate: *lostWrites,
			Latency:       *latency,
		},
	}
	if *maxConns == 0 {
		// Nomad's 0 is no limit; the simulator's 0 is Nomad's default.
		opts.MaxConnsPerClient = -1
	}
	if *addr != "127.0.0.1:0" {
		opts.AdvertiseAddr = *addr
	}
	srv, err := nomadsim.Start(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "nomadsim:", err)
		return 1
	}
	defer srv.Close()
	fmt.Printf("NOMAD_ADDR=%s\n", srv.URL())
	fmt.Fprintf(os.Stderr, "nomadsim: %d nodes, time scale %gx; a simulator for tests, not a Nomad server\n", len(srv.Nodes()), *scale)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	var tick <-chan time.Time
	if *stats > 0 {
		t := time.NewTicker(*stats)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-sig:
			return 0
		case <-tick:
			st := srv.Stats()
			fmt.Fprintf(os.Stderr, "nomadsim: index %d, %d jobs, allocations %v, evaluations %v\n", st.Index, st.Jobs, st.Allocations, st.Evaluations)
		}
	}
}
