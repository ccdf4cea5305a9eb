package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/nomad/api"

	"github.com/nomad-tune/tune/clock"
	"github.com/nomad-tune/tune/test/nomadsim"
)

// scenarioA runs many identical one-minute trials on a CPU cluster whose
// shape makes the theoretical minimum plain: waves of as many trials as
// fit at once, each wave one trial long. It runs once per time scale.
func scenarioA(ctx context.Context, c config) error {
	if c.aTrials < 1 || c.aNodes < 1 || c.aCores < 1 || c.aCPU <= 0 || c.aRunFor <= 0 {
		return fmt.Errorf("-a-trials, -a-nodes, -a-cores, -a-cpu and -a-run-for must be positive")
	}
	perNode := int(math.Floor(float64(c.aCores)/c.aCPU + 1e-9))
	if perNode < 1 {
		return fmt.Errorf("a trial of cpu = %g does not fit a node of %d cores", c.aCPU, c.aCores)
	}
	scales, err := parseScales(c.aTimeScales)
	if err != nil {
		return err
	}
	atOnce := c.aNodes * perNode
	waves := (c.aTrials + atOnce - 1) / atOnce
	minimum := time.Duration(waves) * c.aRunFor
	fmt.Printf("(a) %d trials × %s (mock_driver, cpu = %g, memory = 256) on %d nodes × %d cores: %d at once, %d %s; minimum %s simulated\n",
		c.aTrials, c.aRunFor, c.aCPU, c.aNodes, c.aCores, atOnce, waves, plural(waves, "wave", "waves"), simDuration(minimum))
	var failed error
	for _, scale := range scales {
		if err := throughputRun(ctx, c, scale, perNode, atOnce, minimum); err != nil {
			if !errors.Is(err, errUnfinished) {
				return err
			}
			failed = err
		}
		if ctx.Err() != nil {
			return nil
		}
	}
	return failed
}

// parseScales reads a comma-separated list of time scales.
func parseScales(text string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(text, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("time scale %q: want a positive number", f)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no time scale given")
	}
	return out, nil
}

// throughputRun is scenario a at one time scale.
func throughputRun(ctx context.Context, c config, scale float64, perNode, atOnce int, minimum time.Duration) error {
	// What the controller must sustain, in wall time, to keep every slot
	// busy: the whole cluster's worth of trials once per trial length.
	need := float64(atOnce) * scale / c.aRunFor.Seconds()
	fmt.Printf("  at %g×: keeping %d slots busy takes %.0f submissions per wall second (%.1f/s at 1×)\n",
		scale, atOnce, need, float64(atOnce)/c.aRunFor.Seconds())
	dir, cleanup, err := c.tempDir("tune-bench-nomad-a-")
	if err != nil {
		return err
	}
	defer cleanup()
	clk := clock.NewScaled(scale)
	srv, err := nomadsim.Start(nomadsim.Options{
		Nodes: []nomadsim.NodeSpec{{
			Count: c.aNodes, Name: "cpu", Datacenter: "dc1", Cores: c.aCores, MHz: 2400,
			MemoryMiB: nomadsim.Size(max(perNode*512, 4096)),
		}},
		Clock: clk,
		Seed:  1,
	})
	if err != nil {
		return err
	}
	defer srv.Close()

	src := fmt.Sprintf(`experiment "bench-a" {
  num_samples = %d
  resources {
    cpu    = %g
    memory = 256
  }
  task "t" {
    driver = "mock_driver"
    config {
      run_for = %q
    }
  }
}
`, c.aTrials, c.aCPU, c.aRunFor.String())
	firstWave := min(atOnce, c.aTrials)
	r, err := runTune(ctx, c, dir, "bench-a", src, srv.URL(), firstWave, clk)
	if err != nil {
		return err
	}
	makespan, simStart := r.makespan(), r.simStart
	ok, why := r.finished()
	span, err := allocSpans(srv.URL(), nil)
	if err != nil {
		return err
	}
	lags, err := r.lags(srv.URL(), scale)
	if err != nil {
		return err
	}
	st := summarise(r.starts)
	verdict := "target met"
	if makespan.Seconds()/minimum.Seconds() > 1.05 {
		verdict = "TARGET MISSED"
	}
	fmt.Printf("    makespan %s simulated = %.3f × minimum (target ≤ 1.05: %s); the last task ended at %s = %.3f × minimum\n",
		simDuration(makespan), makespan.Seconds()/minimum.Seconds(), verdict,
		simDuration(span.lastEnd.Sub(simStart)), span.lastEnd.Sub(simStart).Seconds()/minimum.Seconds())
	fmt.Printf("    submissions: %.0f/s overall (%d trials in %.2fs wall); the first %d at %.0f/s (%.0f ms wall = %s simulated); one Start takes %s mean, %s p50, %s p99\n",
		float64(c.aTrials)/r.wall.Seconds(), c.aTrials, r.wall.Seconds(),
		firstWave, float64(firstWave)/r.firstWave.Seconds(), float64(r.firstWave)/float64(time.Millisecond), simDuration(time.Duration(float64(r.firstWave)*scale)),
		st.mean.Round(time.Microsecond), st.p50.Round(time.Microsecond), st.p99.Round(time.Microsecond))
	fmt.Printf("    per trial, wall time: Start called → task running %s; task ended → controller records it %s\n",
		quantiles(lags.toRun), quantiles(lags.toEnd))
	fmt.Printf("    %s (simulated)\n", r.scheduling())
	fmt.Printf("    CPU %.2fs = %.2f ms per trial (tune and the simulator: both run in this process); peak heap %.0f MiB\n",
		r.cpu.Seconds(), r.cpu.Seconds()*1000/float64(c.aTrials), mib(r.peakHeap))
	if c.requests {
		fmt.Printf("    the driver's requests (wall time to response headers):\n%s", r.requests.summary())
	}
	if p := r.problems(); p != "" {
		fmt.Printf("    PROBLEMS: %s\n", p)
	}
	if !ok {
		fmt.Printf("    NOT FINISHED: %s\n", why)
		return errUnfinished
	}
	return nil
}

// spans is what the allocations of a cluster did, in simulated time.
type spans struct {
	allocs    int
	firstRun  time.Time
	lastEnd   time.Time
	unstarted int
}

// allocSpans reads every allocation and the first task start and last
// task end among them. each, when set, is called for each allocation.
func allocSpans(address string, each func(*api.AllocationListStub)) (spans, error) {
	var s spans
	client, err := newClient(address)
	if err != nil {
		return s, err
	}
	stubs, _, err := client.Allocations().List(&api.QueryOptions{Params: map[string]string{"resources": "true", "task_states": "true"}})
	if err != nil {
		return s, fmt.Errorf("listing allocations: %w", err)
	}
	for _, a := range stubs {
		s.allocs++
		started := false
		for _, ts := range a.TaskStates {
			if ts == nil || ts.StartedAt.IsZero() {
				continue
			}
			started = true
			if s.firstRun.IsZero() || ts.StartedAt.Before(s.firstRun) {
				s.firstRun = ts.StartedAt
			}
			if ts.FinishedAt.After(s.lastEnd) {
				s.lastEnd = ts.FinishedAt
			}
		}
		if !started {
			s.unstarted++
		}
		if each != nil {
			each(a)
		}
	}
	return s, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
