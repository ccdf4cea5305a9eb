// Command bench-nomad measures the Nomad target: it runs experiments
// through the real controller, Nomad driver and results store in this
// process against the Nomad API simulator (test/nomadsim) with time
// scaled, and prints one block of figures per scenario:
//
//	(a) throughput: many one-minute trials on a CPU cluster; makespan in
//	    simulated time against the theoretical minimum, and how fast
//	    trials are submitted (wall time).
//	(b) a mixed GPU workload of multi-allocation gang trials beside 1-GPU
//	    trials; GPU utilisation and makespan against the lower bound, for
//	    tune and for naive submission of every job at once.
//	(c) the controller's own cost for many short trials: CPU time per
//	    trial, peak heap and wall time, with the simulator in a child
//	    process so that this process's CPU is tune's alone.
//	(d) on a real Nomad cluster (NOMAD_ADDR; scripts/nomad-dev.sh start
//	    runs a dev agent): raw_exec trials that sleep, on a workload that
//	    fits at once and on one that must be throttled; tune's makespan
//	    against registering every job at once through the API. It is
//	    not in the default -only, since it needs a cluster.
//
// Run it from the module root (go run ./scripts/bench-nomad -h lists the
// sizes that can be changed):
//
//	go run ./scripts/bench-nomad [-only a,b,c] [-a-time-scales 600,5] [-time-scale 600] [-c-trials 10000] ...
//
// Simulated time runs the time scale times faster than the wall clock, so
// tune's own latency (wall time) counts that many times over in a
// simulated makespan: at 600× one millisecond of submission latency is
// 0.6 simulated seconds. Scenario a therefore runs at 600× and at 5×.
// In a and b tune's controller and driver keep time by the simulator's
// clock, so their backoffs and timeouts keep their real proportion to the
// trials. Every run is bounded by -limit; temporary folders, simulators
// and the child process are removed on every exit but a SIGKILL (the
// child then dies with this process on Linux). The exit status is 1 when
// a run did not finish or lost results.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
)

// config holds every flag.
type config struct {
	only      string
	timeScale float64
	limit     time.Duration
	logLevel  string
	keep      bool
	requests  bool

	aTimeScales             string
	aTrials, aNodes, aCores int
	aCPU                    float64
	aRunFor                 time.Duration

	bNodes, bGPUs, bGangs, bSingles int
	bGangGPUs, bGangAllocs          int
	bGangRun, bSingleRun            time.Duration
	bPlacement                      string
	bAdmission                      string
	bNaiveCap                       float64
	bDriver                         string
	bRepeat                         int

	dAddr            string
	dTrials, dAtOnce int
	dRunFor          time.Duration
	dRepeat          int

	cTrials, cNodes, cCores int
	cRunFor                 time.Duration
	cTimeScale              float64
	cSimBinary              string
}

func main() {
	var c config
	flag.StringVar(&c.only, "only", "a,b,c", "scenarios to run, comma-separated: a (throughput), b (GPU gangs against naive submission), c (controller cost), d (a real Nomad cluster: tune against naive submission)")
	flag.Float64Var(&c.timeScale, "time-scale", 600, "simulated seconds per wall second for scenario b")
	flag.DurationVar(&c.limit, "limit", 5*time.Minute, "wall-clock limit of each run; a run past it is interrupted and reported unfinished")
	flag.StringVar(&c.logLevel, "log-level", "off", "log level of tune's controller and driver (trace, debug, info, warn, error, off)")
	flag.BoolVar(&c.requests, "requests", false, "time the driver's Nomad API requests by endpoint and print them (the timed client shares one transport for log reads, where the CLI's clones one per read)")
	flag.BoolVar(&c.keep, "keep", false, "keep the temporary results folders (their paths are printed)")

	flag.StringVar(&c.aTimeScales, "a-time-scales", "600,5", "(a) time scales to run at, comma-separated: at a high scale tune's wall-clock submission rate is the bottleneck, at a low one it is not")
	flag.IntVar(&c.aTrials, "a-trials", 2000, "(a) trials")
	flag.IntVar(&c.aNodes, "a-nodes", 100, "(a) nodes")
	flag.IntVar(&c.aCores, "a-cores", 4, "(a) cores per node")
	flag.Float64Var(&c.aCPU, "a-cpu", 1, "(a) cpu (cores) per trial")
	flag.DurationVar(&c.aRunFor, "a-run-for", time.Minute, "(a) simulated run time of each trial (mock_driver run_for)")

	flag.IntVar(&c.bNodes, "b-nodes", 16, "(b) GPU nodes")
	flag.IntVar(&c.bGPUs, "b-gpus", 8, "(b) GPUs per node")
	flag.IntVar(&c.bGangs, "b-gangs", 40, "(b) gang trials: -b-gang-allocs allocations of -b-gang-gpus GPUs each")
	flag.IntVar(&c.bGangGPUs, "b-gang-gpus", 4, "(b) GPUs of each of a gang trial's allocations")
	flag.IntVar(&c.bGangAllocs, "b-gang-allocs", 2, "(b) allocations of a gang trial (with -b-placement strict_spread, the nodes it spans)")
	flag.IntVar(&c.bSingles, "b-singles", 400, "(b) 1-GPU trials (a multiple of -b-gangs; they are interleaved evenly)")
	flag.DurationVar(&c.bGangRun, "b-gang-run", 20*time.Minute, "(b) simulated run time of a gang trial once all its ranks are up")
	flag.DurationVar(&c.bSingleRun, "b-single-run", 10*time.Minute, "(b) simulated run time of a 1-GPU trial")
	flag.StringVar(&c.bAdmission, "b-admission", "reserve", "(b) tune's admission order: reserve (gangs hold reservations) or greedy (any trial that fits starts, Ray Tune's order)")
	flag.StringVar(&c.bPlacement, "b-placement", "pack", "(b) placement of gang allocations: pack, spread or strict_spread (one node per allocation)")
	flag.Float64Var(&c.bNaiveCap, "b-naive-cap", 3, "(b) the naive run is cut off, unfinished, at this multiple of the lower bound")
	flag.StringVar(&c.bDriver, "b-driver", "raw_exec", "(b) task driver: raw_exec (ranks rendezvous before training, as distributed training does) or mock_driver (every allocation just runs)")

	flag.IntVar(&c.bRepeat, "b-repeat", 3, "(b) how many times to run both tune and naive submission (each on a fresh cluster with its own seed); medians are printed")
	flag.IntVar(&c.cTrials, "c-trials", 10000, "(c) trials")
	flag.IntVar(&c.cNodes, "c-nodes", 1000, "(c) nodes")
	flag.IntVar(&c.cCores, "c-cores", 32, "(c) cores per node")
	flag.DurationVar(&c.cRunFor, "c-run-for", time.Second, "(c) simulated run time of each trial")
	flag.Float64Var(&c.cTimeScale, "c-time-scale", 600, "(c) the simulator's time scale")
	flag.StringVar(&c.cSimBinary, "c-nomadsim", "", "(c) a built test/cmd/nomadsim binary; built into a temporary folder when empty")
	flag.StringVar(&c.dAddr, "d-addr", os.Getenv("NOMAD_ADDR"), "(d) the address of a real Nomad cluster with raw_exec enabled (default $NOMAD_ADDR)")
	flag.IntVar(&c.dTrials, "d-trials", 200, "(d) trials of the throttled workload")
	flag.IntVar(&c.dAtOnce, "d-at-once", 48, "(d) trials that fit the cluster at once (the fitting workload has as many trials)")
	flag.DurationVar(&c.dRunFor, "d-run-for", 3*time.Second, "(d) how long each trial sleeps")
	flag.IntVar(&c.dRepeat, "d-repeat", 3, "(d) runs of each workload, tune and naive alternating; medians are printed")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the runs to this file")
	flag.Parse()
	os.Exit(run(c, *profile))
}

func run(c config, profile string) int {
	// An interrupt ends the current run the way it ends tune apply, and
	// every deferred cleanup (simulators, child process, temp folders)
	// still runs.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A closed output pipe (| head) must neither kill the process before
	// its cleanups nor end the runs: SIGPIPE is caught on a channel nobody
	// reads, so writes to the closed output fail and the figures are lost,
	// but the runs finish and clean up. It must not cancel ctx: with
	// SIGPIPE caught, an EPIPE on any socket (a connection the simulator
	// closed) raises it too.
	brokenPipe := make(chan os.Signal, 1)
	signal.Notify(brokenPipe, syscall.SIGPIPE)
	defer signal.Stop(brokenPipe)

	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench-nomad:", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "bench-nomad:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}

	scenarios := map[string]func(context.Context, config) error{"a": scenarioA, "b": scenarioB, "c": scenarioC, "d": scenarioD}
	var picked []string
	for _, s := range strings.Split(c.only, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if scenarios[s] == nil {
			fmt.Fprintf(os.Stderr, "bench-nomad: unknown scenario %q in -only (want a, b, c, d)\n", s)
			return 2
		}
		picked = append(picked, s)
	}
	if c.timeScale <= 0 || c.cTimeScale <= 0 {
		fmt.Fprintln(os.Stderr, "bench-nomad: time scales must be positive")
		return 2
	}
	failed := false
	for i, s := range picked {
		if i > 0 {
			fmt.Println()
		}
		if err := scenarios[s](ctx, c); err != nil {
			fmt.Fprintf(os.Stderr, "bench-nomad: (%s): %v\n", s, err)
			failed = true
		}
		if ctx.Err() != nil {
			fmt.Fprintln(os.Stderr, "bench-nomad: interrupted")
			return 130
		}
	}
	if failed {
		return 1
	}
	return 0
}

// logger is tune's logger for one run: it prints at -log-level, and
// counts every warning and error, printed or not, so that a run that
// only seemed to go well is reported.
func (c config) logger() (hclog.Logger, *logCounter) {
	level := hclog.LevelFromString(c.logLevel)
	if c.logLevel == "off" || level == hclog.NoLevel {
		level = hclog.Off
	}
	l := hclog.NewInterceptLogger(&hclog.LoggerOptions{Name: "tune", Level: level, Output: os.Stderr})
	counter := &logCounter{}
	l.RegisterSink(counter)
	return l, counter
}

// logCounter counts warnings and errors and keeps the first few errors.
type logCounter struct {
	mu            sync.Mutex
	warns, errors int
	first         []string
}

// Accept implements hclog.SinkAdapter.
func (l *logCounter) Accept(name string, level hclog.Level, msg string, args ...any) {
	if level < hclog.Warn {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if level == hclog.Warn {
		l.warns++
		return
	}
	l.errors++
	if len(l.first) < 2 {
		var b strings.Builder
		b.WriteString(name + ": " + msg)
		for i := 0; i+1 < len(args); i += 2 {
			fmt.Fprintf(&b, " %v=%v", args[i], args[i+1])
		}
		text := strings.ReplaceAll(b.String(), "\n", " / ")
		if len(text) > 300 {
			text = text[:300] + "..."
		}
		l.first = append(l.first, text)
	}
}

// summary is "" when nothing went wrong, else one line for the report.
func (l *logCounter) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.warns == 0 && l.errors == 0 {
		return ""
	}
	s := fmt.Sprintf("tune logged %d %s and %d %s", l.errors, plural(l.errors, "error", "errors"), l.warns, plural(l.warns, "warning", "warnings"))
	if len(l.first) > 0 {
		s += "; first: " + strings.Join(l.first, " | ")
	}
	return s
}

// tempDir makes a temporary folder and returns it with its cleanup.
func (c config) tempDir(pattern string) (string, func(), error) {
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", nil, err
	}
	return dir, func() {
		if c.keep {
			fmt.Printf("    (results kept in %s)\n", dir)
			return
		}
		os.RemoveAll(dir)
	}, nil
}

var errUnfinished = errors.New("the run did not finish")
