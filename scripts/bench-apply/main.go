// Command bench-apply measures the controller's bookkeeping overhead, in
// the manner of Ray Tune's own overhead test scaled to a small machine: it
// runs experiments through the real controller, local driver and results
// store in this process, and prints the makespan against the theoretical
// minimum and the controller's own CPU time per trial (this process's
// CPU, which excludes the trial processes).
//
//	go run ./scripts/bench-apply [-trials 1000] [-sleep 0.2] [-cpus 2] [-cpu 0.25]
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/nomad-tune/tune/controller"
	"github.com/nomad-tune/tune/driver/local"
	tunehcl "github.com/nomad-tune/tune/hcl"
	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/results"
)

func main() {
	// Trials run as tune runs them: under the supervisor, which is this
	// binary started again.
	local.MaybeSupervise()
	trials := flag.Int("trials", 1000, "trials per experiment")
	sleep := flag.Float64("sleep", 0.2, "seconds each trial of the sleep experiment runs")
	cpus := flag.Float64("cpus", 2, "CPUs of the local target")
	cpu := flag.Float64("cpu", 0.25, "CPUs per trial")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the runs to this file")
	flag.Parse()
	if *profile != "" {
		f, err := os.Create(*profile)
		check(err)
		check(pprof.StartCPUProfile(f))
		defer pprof.StopCPUProfile()
	}

	dir, err := os.MkdirTemp("", "tune-bench-")
	check(err)
	defer os.RemoveAll(dir)

	atOnce := math.Floor(*cpus / *cpu)
	minimum := math.Ceil(float64(*trials)/atOnce) * *sleep
	fmt.Printf("%d trials of sleep %gs, cpu = %g on %g CPUs (%g at once): theoretical minimum %.1fs\n",
		*trials, *sleep, *cpu, *cpus, atOnce, minimum)
	wall, cpuTime := run(dir, "sleep", *trials, *cpus, *cpu, fmt.Sprintf(`["%g"]`, *sleep), "sleep")
	fmt.Printf("  makespan %.2fs = %.3f × minimum; controller CPU %.2fs = %.2f ms per trial\n",
		wall.Seconds(), wall.Seconds()/minimum, cpuTime.Seconds(), cpuTime.Seconds()*1000/float64(*trials))

	fmt.Printf("%d trials of true, cpu = %g on %g CPUs:\n", *trials, *cpu, *cpus)
	wall, cpuTime = run(dir, "true", *trials, *cpus, *cpu, "[]", "true")
	fmt.Printf("  wall %.2fs; controller CPU %.2fs = %.2f ms per trial\n",
		wall.Seconds(), cpuTime.Seconds(), cpuTime.Seconds()*1000/float64(*trials))
}

// run runs one experiment of n trials of command args and returns its
// wall time and this process's CPU time.
func run(dir, name string, n int, cpus, cpu float64, args, command string) (time.Duration, time.Duration) {
	src := fmt.Sprintf(`experiment %q {
  num_samples = %d
  resources {
    cpu    = %g
    memory = 16
  }
  task "t" {
    command = %q
    args    = %s
  }
}
`, name, n, cpu, command, args)
	exp, diags := tunehcl.Load(dir+"/"+name+".hcl", []byte(src), tunehcl.Options{})
	if diags.HasErrors() {
		check(diags)
	}
	trials, diags := planner.Trials(exp)
	if diags.HasErrors() {
		check(diags)
	}
	drv, err := local.New(local.Options{Capacity: local.CapacityOptions{CPUs: cpus, MemoryMiB: 1 << 16}})
	check(err)
	defer drv.Close()
	infos := make([]results.TrialInfo, len(trials))
	for i, t := range trials {
		infos[i] = results.TrialInfo{ID: t.ID, Index: t.Index, Params: t.Params(&exp.Space)}
	}
	store, err := results.Open(dir+"/results", results.Info{Name: exp.Name, Target: "local"}, infos)
	check(err)
	defer store.Close()

	startCPU := cpuNow()
	start := time.Now()
	out, err := controller.Run(context.Background(), controller.Options{
		Experiment: exp, Trials: trials, Driver: drv, Store: store, Target: "local",
	})
	check(err)
	wall := time.Since(start)
	if out.Summary.Counts[results.Terminated] != n {
		check(fmt.Errorf("only %d of %d trials terminated: %v", out.Summary.Counts[results.Terminated], n, out.Summary.Counts))
	}
	return wall, cpuNow() - startCPU
}

// cpuNow is this process's user and system CPU time; the trials are other
// processes and do not count.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	check(syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-apply:", err)
		os.Exit(1)
	}
}
