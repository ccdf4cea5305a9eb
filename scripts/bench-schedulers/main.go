// Command bench-schedulers measures early stopping on synthetic learning
// curves: how many training iterations each scheduler spends, and how
// good the best trial it lets finish is, against running every trial to
// the end and against Optuna's pruners on the same curves.
//
// Each trial's curve is loss(t) = a + (l0 - a)·e^(-r·t) + noise for
// t = 1 … max_t, with its asymptote a, start l0 and rate r drawn from a
// seeded generator: fast learners with a poor asymptote cross slow ones
// with a good one, which is what makes stopping early risky. Trials run
// a fixed number at once; each step, every running trial makes its next
// report, in admission order, and a trial that is stopped or reaches
// max_t frees its place for the next trial, as the controller admits
// them. tune's schedulers run in-process through the scheduler package
// the controller calls, so the figures measure the algorithms alone.
//
// Optuna runs in a peer script (optuna_peer.py, ask-and-tell with the
// same curves, written to a temporary file, and the same schedule) under
// /usr/bin/python3 with Debian's python3-optuna; it is skipped, with a
// note, when that is not installed. Nothing of tune depends on it.
//
// It prints, per method, the median over seeds of the iterations used (and
// their share of running every trial to the end) and of the best final
// loss among the trials that reached max_t (noise-free, and its distance
// from the best of all trials).
//
// Run it from the module root:
//
//	go run ./scripts/bench-schedulers [-trials 300] [-seeds 3] [-concurrent 8] [-python /usr/bin/python3]
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"

	"github.com/nomad-tune/tune/experiment"
	"github.com/nomad-tune/tune/scheduler"
)

const maxT = 100

// curve is one trial's reported losses, step 1 first, and its noise-free
// final loss.
type curve struct {
	Reports []float64 `json:"reports"`
	Final   float64   `json:"final"`
}

func curves(seed uint64, n int) []curve {
	out := make([]curve, n)
	for i := range out {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		a := 0.05 + 0.55*rng.Float64()
		l0 := 1 + 1.5*rng.Float64()
		rate := math.Exp(math.Log(0.01) + (math.Log(0.3)-math.Log(0.01))*rng.Float64())
		at := func(t float64) float64 { return a + (l0-a)*math.Exp(-rate*t) }
		c := curve{Final: at(maxT)}
		for t := 1; t <= maxT; t++ {
			c.Reports = append(c.Reports, at(float64(t))+0.02*rng.NormFloat64())
		}
		out[i] = c
	}
	return out
}

// outcome is one method's run over one seed's curves.
type outcome struct {
	Iterations int     `json:"iterations"`
	Best       float64 `json:"best"`
}

// simulate runs the curves concurrent at a time under s (nil: no early
// stopping).
func simulate(cs []curve, concurrent int, s scheduler.Scheduler) outcome {
	type running struct{ index, step int }
	var live []running
	next, out := 0, outcome{Best: math.Inf(1)}
	for next < len(cs) || len(live) > 0 {
		for len(live) < concurrent && next < len(cs) {
			live = append(live, running{index: next})
			next++
		}
		kept := live[:0]
		for _, r := range live {
			loss := cs[r.index].Reports[r.step]
			r.step++
			out.Iterations++
			t := scheduler.Trial{ID: fmt.Sprint(r.index), Index: r.index}
			stop := false
			if s != nil {
				stop = s.Report(t, map[string]any{"training_iteration": float64(r.step), "loss": loss}).Stop
			}
			if r.step == maxT {
				out.Best = math.Min(out.Best, cs[r.index].Final)
				stop = true
			}
			if stop {
				if s != nil {
					s.Ended(t, true)
				}
				continue
			}
			kept = append(kept, r)
		}
		live = kept
	}
	return out
}

type method struct {
	name string
	spec *experiment.Scheduler
}

func main() {
	trials := flag.Int("trials", 300, "trials per seed")
	seeds := flag.Int("seeds", 3, "seeds (curve sets)")
	concurrent := flag.Int("concurrent", 8, "trials running at once")
	python := flag.String("python", "/usr/bin/python3", "the Python with optuna for the peer script")
	flag.Parse()

	methods := []method{
		{"none (every trial to max_t)", nil},
		{"tune asha (grace 1, rf 4)", &experiment.Scheduler{Kind: experiment.SchedulerASHA, TimeAttr: "training_iteration", MaxT: maxT, GracePeriod: 1, ReductionFactor: 4, Brackets: 1}},
		{"tune asha (grace 5, rf 3)", &experiment.Scheduler{Kind: experiment.SchedulerASHA, TimeAttr: "training_iteration", MaxT: maxT, GracePeriod: 5, ReductionFactor: 3, Brackets: 1}},
		{"tune asha (grace 10, rf 3)", &experiment.Scheduler{Kind: experiment.SchedulerASHA, TimeAttr: "training_iteration", MaxT: maxT, GracePeriod: 10, ReductionFactor: 3, Brackets: 1}},
		{"tune asha (grace 10, rf 2)", &experiment.Scheduler{Kind: experiment.SchedulerASHA, TimeAttr: "training_iteration", MaxT: maxT, GracePeriod: 10, ReductionFactor: 2, Brackets: 1}},
		{"tune asha (grace 1, rf 4, 3 brackets)", &experiment.Scheduler{Kind: experiment.SchedulerASHA, TimeAttr: "training_iteration", MaxT: maxT, GracePeriod: 1, ReductionFactor: 4, Brackets: 3}},
		{"tune median (grace 10, min 3)", &experiment.Scheduler{Kind: experiment.SchedulerMedian, TimeAttr: "training_iteration", GracePeriod: 10, MinSamplesRequired: 3}},
		{"tune hyperband (rf 3)", &experiment.Scheduler{Kind: experiment.SchedulerHyperBand, TimeAttr: "training_iteration", MaxT: maxT, ReductionFactor: 3}},
	}
	results := map[string][]outcome{}
	var order []string
	sets := make([][]curve, *seeds)
	for seed := range *seeds {
		sets[seed] = curves(uint64(seed+1), *trials)
		for _, m := range methods {
			s, err := scheduler.New(m.spec, "loss", experiment.ModeMin, *trials)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			if seed == 0 {
				order = append(order, m.name)
			}
			results[m.name] = append(results[m.name], simulate(sets[seed], *concurrent, s))
		}
	}
	note := ""
	peer, err := runPeer(*python, sets, *concurrent)
	if err != nil {
		note = "Optuna skipped: " + err.Error()
	}
	for _, name := range []string{"optuna SuccessiveHalvingPruner (min 1, rf 4)", "optuna SuccessiveHalvingPruner (min 10, rf 2)", "optuna MedianPruner (warmup 10, startup 5)"} {
		if outs, ok := peer[name]; ok {
			order = append(order, name)
			results[name] = outs
		}
	}

	fmt.Printf("%d trials of %d iterations each, %d at once, %d seeds (medians over seeds); %s, Go %s\n\n",
		*trials, maxT, *concurrent, *seeds, runtime.GOARCH, runtime.Version())
	none := results[order[0]]
	fmt.Printf("%-46s %11s %9s %11s %9s\n", "method", "iterations", "of none", "best final", "vs none")
	for _, name := range order {
		var iters, best, share, gap []float64
		for i, o := range results[name] {
			iters = append(iters, float64(o.Iterations))
			best = append(best, o.Best)
			share = append(share, float64(o.Iterations)/float64(none[i].Iterations))
			gap = append(gap, (o.Best-none[i].Best)/none[i].Best)
		}
		fmt.Printf("%-46s %11.0f %8.1f%% %11.4f %+8.1f%%\n", name, median(iters), 100*median(share), median(best), 100*median(gap))
	}
	if note != "" {
		fmt.Println("\n" + note)
	}
}

func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	return (s[(len(s)-1)/2] + s[len(s)/2]) / 2
}

// runPeer runs optuna_peer.py on the same curves and returns its outcomes
// per method, one per seed.
func runPeer(python string, sets [][]curve, concurrent int) (map[string][]outcome, error) {
	if _, err := os.Stat(python); err != nil {
		return nil, fmt.Errorf("%s not found", python)
	}
	dir, err := os.MkdirTemp("", "bench-schedulers")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	input := filepath.Join(dir, "curves.json")
	b, err := json.Marshal(map[string]any{"max_t": maxT, "concurrent": concurrent, "sets": sets})
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(input, b, 0o600); err != nil {
		return nil, err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(python, filepath.Join("scripts", "bench-schedulers", "optuna_peer.py"), input)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("the peer script failed (is python3-optuna installed?): %v: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	var out map[string][]outcome
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return nil, fmt.Errorf("the peer script's output: %v", err)
	}
	return out, nil
}
