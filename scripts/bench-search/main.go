// Command bench-search compares tune's TPE with tune's random search and
// with Optuna's TPESampler on standard test functions: Branin (2-d),
// Rosenbrock (4-d), Ackley (5-d) and a noisy mixed space (a log-scaled
// float, an integer and a categorical, with noise on every report). For
// each function and seed it runs the given number of trials with two
// trials in flight at once: a trial is suggested while the one before it
// is still running, and trials finish in the order they started. The
// objectives run in-process, through the search.Searcher interface the
// controller calls, so the figures measure the algorithms and not
// process start-up.
//
// Optuna runs in a peer script (optuna_peer.py, ask-and-tell with the
// same two-in-flight schedule and the same objectives) under
// /usr/bin/python3 with Debian's python3-optuna; it is skipped, with a
// note, when that is not installed. Nothing of tune depends on it.
//
// It prints, per function, the median over seeds of the best value each
// method found (for the noisy function: the noise-free value of the trial
// that reported best). Lower is better; each function's minimum is 0,
// except Branin's, 0.397887.
//
// Run it from the module root:
//
//	go run ./scripts/bench-search [-trials 80] [-seeds 7] [-first-seed 0] [-python /usr/bin/python3]
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"

	"github.com/zclconf/go-cty/cty"

	"github.com/nomad-tune/tune/experiment"
	"github.com/nomad-tune/tune/search"
)

// objective is one test function over its space; value is what the
// searcher sees, truth what the figures count.
type objective struct {
	name  string
	space *experiment.Space
	value func(seed uint64, index int, x []cty.Value) (value, truth float64)
}

func uniform(name string, lo, hi float64) *experiment.Param {
	return &experiment.Param{Name: name, Dist: &experiment.Distribution{Kind: experiment.KindUniform, Lo: lo, Hi: hi}}
}

func floats(x []cty.Value) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		if v.Type() == cty.Number {
			out[i], _ = v.AsBigFloat().Float64()
		}
	}
	return out
}

func box(prefix string, n int, lo, hi float64) *experiment.Space {
	s := &experiment.Space{}
	for i := range n {
		s.Params = append(s.Params, uniform(fmt.Sprintf("%s%d", prefix, i), lo, hi))
	}
	return s
}

func exact(f func([]float64) float64) func(uint64, int, []cty.Value) (float64, float64) {
	return func(_ uint64, _ int, x []cty.Value) (float64, float64) {
		v := f(floats(x))
		return v, v
	}
}

// noise is a deterministic draw, uniform with standard deviation sd, from
// the seed and the trial index, written the same way in the peer script.
func noise(seed uint64, index int, sd float64) float64 {
	s := math.Sin(float64(seed)*12.9898+float64(index)*78.233) * 43758.5453
	u := s - math.Floor(s)
	return (u - 0.5) * math.Sqrt(12) * sd
}

func objectives() []objective {
	branin := func(x []float64) float64 {
		a, b, c := 1.0, 5.1/(4*math.Pi*math.Pi), 5/math.Pi
		r, s, t := 6.0, 10.0, 1/(8*math.Pi)
		return a*math.Pow(x[1]-b*x[0]*x[0]+c*x[0]-r, 2) + s*(1-t)*math.Cos(x[0]) + s
	}
	rosenbrock := func(x []float64) float64 {
		sum := 0.0
		for i := 0; i < len(x)-1; i++ {
			sum += 100*math.Pow(x[i+1]-x[i]*x[i], 2) + math.Pow(1-x[i], 2)
		}
		return sum
	}
	ackley := func(x []float64) float64 {
		sq, cs := 0.0, 0.0
		for _, v := range x {
			sq += v * v
			cs += math.Cos(2 * math.Pi * v)
		}
		n := float64(len(x))
		return -20*math.Exp(-0.2*math.Sqrt(sq/n)) - math.Exp(cs/n) + 20 + math.E
	}
	mixed := &experiment.Space{Params: []*experiment.Param{
		{Name: "lr", Dist: &experiment.Distribution{Kind: experiment.KindLogUniform, Lo: 1e-6, Hi: 1}},
		{Name: "layers", Dist: &experiment.Distribution{Kind: experiment.KindRandInt, Lo: 1, Hi: 17}},
		{Name: "opt", Dist: &experiment.Distribution{Kind: experiment.KindChoice, Values: []cty.Value{cty.StringVal("sgd"), cty.StringVal("adam"), cty.StringVal("rmsprop")}}},
		uniform("dropout", 0, 1),
	}}
	return []objective{
		{"branin", &experiment.Space{Params: []*experiment.Param{uniform("x0", -5, 10), uniform("x1", 0, 15)}}, exact(branin)},
		{"rosenbrock-4", box("x", 4, -5, 10), exact(rosenbrock)},
		{"ackley-5", box("x", 5, -32.768, 32.768), exact(ackley)},
		{"noisy-mixed", mixed, func(seed uint64, index int, x []cty.Value) (float64, float64) {
			f := floats(x)
			truth := math.Pow(math.Log10(f[0])+3, 2) + math.Pow(f[1]-6, 2)/8 + math.Pow(f[3]-0.2, 2)*4
			if !x[2].RawEquals(cty.StringVal("adam")) {
				truth++
			}
			return truth + noise(seed, index, 0.5), truth
		}},
	}
}

// run is one study: trials suggested with `inFlight` running, finished
// oldest first; it returns the truth of the trial that reported best.
func run(o objective, s search.Searcher, seed uint64, trials, inFlight int) float64 {
	type pending struct {
		index int
		vals  []cty.Value
	}
	var running []pending
	best, bestTruth := math.Inf(1), math.Inf(1)
	next := 0
	for next < trials || len(running) > 0 {
		for next < trials && len(running) < inFlight {
			running = append(running, pending{next, s.Suggest(next, 0)})
			next++
		}
		p := running[0]
		running = running[1:]
		v, truth := o.value(seed, p.index, p.vals)
		s.Finished(p.index, 0, p.vals, v, true)
		if v < best {
			best, bestTruth = v, truth
		}
	}
	return bestTruth
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func main() {
	trials := flag.Int("trials", 80, "trials per study")
	seeds := flag.Int("seeds", 7, "seeds per function and method")
	inFlight := flag.Int("in-flight", 2, "trials running at once")
	firstSeed := flag.Uint64("first-seed", 0, "the first seed; seeds run from it up")
	python := flag.String("python", "/usr/bin/python3", "the Python with Debian's python3-optuna")
	flag.Parse()

	peer := map[string][]float64{}
	var peerNote string
	if _, file, _, ok := runtime.Caller(0); ok {
		cmd := exec.Command(*python, filepath.Join(filepath.Dir(file), "optuna_peer.py"),
			fmt.Sprint(*trials), fmt.Sprint(*seeds), fmt.Sprint(*inFlight), fmt.Sprint(*firstSeed))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err == nil {
			err = json.Unmarshal(out, &peer)
		}
		if err != nil {
			peerNote = fmt.Sprintf("Optuna skipped: %v %s", err, bytes.TrimSpace(stderr.Bytes()))
		}
	}

	fmt.Printf("median best of %d seeds, %d trials, %d in flight (lower is better)\n", *seeds, *trials, *inFlight)
	fmt.Printf("%-14s %12s %12s %12s\n", "FUNCTION", "TUNE TPE", "TUNE RANDOM", "OPTUNA TPE")
	worse := 0
	for _, o := range objectives() {
		var tpe, rnd []float64
		for seed := *firstSeed; seed < *firstSeed+uint64(*seeds); seed++ {
			tpe = append(tpe, run(o, search.NewTPE(o.space, seed, false, experiment.Search{Algorithm: experiment.SearchTPE}), seed, *trials, *inFlight))
			rnd = append(rnd, run(o, &search.Random{Space: o.space, Seed: seed}, seed, *trials, *inFlight))
		}
		optuna := "-"
		if p, ok := peer[o.name]; ok && len(p) > 0 {
			optuna = fmt.Sprintf("%12.4f", median(p))
			if median(tpe) > median(p) {
				worse++
			}
		}
		fmt.Printf("%-14s %12.4f %12.4f %12s\n", o.name, median(tpe), median(rnd), optuna)
	}
	if peerNote != "" {
		fmt.Println(peerNote)
	} else {
		fmt.Printf("tune's TPE is worse than Optuna's on %d of %d functions\n", worse, len(objectives()))
	}
	if worse > 0 {
		os.Exit(1)
	}
}
