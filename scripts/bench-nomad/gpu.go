package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/nomad/api"

	"github.com/nomad-tune/tune/clock"
	"github.com/nomad-tune/tune/jobs"
	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/test/nomadsim"
)

// rendezvous is the raw_exec task of scenario b: the ranks of a gang
// trial wait for each other before training, as torch.distributed's
// rendezvous does, so a rank placed without its peers holds its GPUs and
// does nothing; then each rank "trains" for $2 seconds of wall time.
// Arguments: $1 the rendezvous folder, $2 the seconds to train, $3 the
// most polls (5 ms apart) before giving up, so that a rank left behind
// by a killed benchmark ends by itself.
const rendezvous = `s=$2 n=$3 i=0
if [ "$TUNE_WORLD_SIZE" -gt 1 ]; then
  d="$1/$NOMAD_JOB_ID-$TUNE_ATTEMPT"
  mkdir -p "$d" && : > "$d/$TUNE_RANK"
  while :; do
    set -- "$d"/*
    [ $# -ge "$TUNE_WORLD_SIZE" ] && break
    i=$((i+1))
    [ $i -gt $n ] && exit 3
    sleep 0.005
  done
fi
exec sleep "$s"`

// gpuWorkload is scenario b's trials and what bounds their makespan.
type gpuWorkload struct {
	c       config
	k       int // every k-th trial, from index 0, is a gang
	gpuWork time.Duration
	lower   time.Duration
	// whole is the lower bound in whole steps of the trials' common
	// length (see scenarioB).
	whole   time.Duration
	longest time.Duration
	gpus    int
	seed    uint64
}

func (w gpuWorkload) gang(index int) bool { return index%w.k == 0 }

// scenarioB runs gang trials beside 1-GPU trials with tune, and the same
// jobs submitted all at once as a user without tune would.
func scenarioB(ctx context.Context, c config) error {
	switch {
	case c.bNodes < 1 || c.bGPUs < 1 || c.bGangs < 1 || c.bSingles < 0 || c.bGangGPUs < 1 || c.bGangAllocs < 2:
		return fmt.Errorf("-b-nodes, -b-gpus, -b-gangs and -b-gang-gpus must be positive, and -b-gang-allocs at least 2")
	case c.bPlacement == "strict_spread" && c.bGangAllocs > c.bNodes:
		return fmt.Errorf("a strict_spread gang of %d allocations needs as many nodes (-b-nodes %d)", c.bGangAllocs, c.bNodes)
	case c.bSingles%c.bGangs != 0:
		return fmt.Errorf("-b-singles (%d) must be a multiple of -b-gangs (%d), so the two interleave evenly", c.bSingles, c.bGangs)
	case c.bGangGPUs > c.bGPUs:
		return fmt.Errorf("a gang allocation of %d GPUs does not fit a node of %d", c.bGangGPUs, c.bGPUs)
	case c.bDriver != "raw_exec" && c.bDriver != "mock_driver":
		return fmt.Errorf("-b-driver must be raw_exec or mock_driver")
	case c.bAdmission != "reserve" && c.bAdmission != "greedy":
		return fmt.Errorf("-b-admission must be reserve or greedy")
	}
	w := gpuWorkload{c: c, k: c.bSingles/c.bGangs + 1, gpus: c.bNodes * c.bGPUs}
	gangGPUs := c.bGangAllocs * c.bGangGPUs
	w.gpuWork = time.Duration(c.bGangs*gangGPUs)*c.bGangRun + time.Duration(c.bSingles)*c.bSingleRun
	w.longest = max(c.bGangRun, c.bSingleRun)
	w.lower = max(w.gpuWork/time.Duration(w.gpus), w.longest)
	fmt.Printf("(b) %d gang trials (%d allocations × %d GPUs, %s, placement %s) and %d 1-GPU trials (%s), interleaved, on %d nodes × %d GPUs; task driver %s; tune's admission %s; time scale %g×\n",
		c.bGangs, c.bGangAllocs, c.bGangGPUs, c.bGangRun, c.bPlacement, c.bSingles, c.bSingleRun, c.bNodes, c.bGPUs, c.bDriver, c.bAdmission, c.timeScale)
	fmt.Printf("    lower bound max(%.0f GPU-h / %d GPUs, longest trial %s) = %s simulated\n",
		w.gpuWork.Hours(), w.gpus, w.longest, simDuration(w.lower))
	// Every trial's length is a multiple of step, so by a time T no GPU
	// can have done more than T rounded down to a step of work: no
	// schedule ends before the GPU work fills whole steps of every GPU.
	step := gcd(c.bGangRun, c.bSingleRun)
	steps := (w.gpuWork + time.Duration(w.gpus)*step - 1) / (time.Duration(w.gpus) * step)
	w.whole = max(steps*step, w.lower)
	fmt.Printf("    in whole %s steps (every trial's length is a multiple of it, so each GPU's work by any time is too): no schedule ends before %s = %.3f × the lower bound, at most %.1f%% GPU utilisation\n",
		step, simDuration(w.whole), w.whole.Seconds()/w.lower.Seconds(), 100*w.gpuWork.Seconds()/(float64(w.gpus)*w.whole.Seconds()))

	var tunes, naives []gpuRun
	for rep := range max(c.bRepeat, 1) {
		w.seed = uint64(2 + rep)
		if c.bRepeat > 1 {
			fmt.Printf("  run %d of %d (simulator seed %d):\n", rep+1, c.bRepeat, w.seed)
		}
		tuneRes, err := w.runTune(ctx)
		if err != nil {
			return fmt.Errorf("tune: %w", err)
		}
		if ctx.Err() != nil {
			return nil
		}
		naiveRes, err := w.runNaive(ctx)
		if err != nil {
			return fmt.Errorf("naive: %w", err)
		}
		w.print("tune ", tuneRes)
		w.print("naive", naiveRes)
		tunes, naives = append(tunes, tuneRes), append(naives, naiveRes)
	}
	if len(tunes) > 1 {
		fmt.Printf("  median of %d runs:\n", len(tunes))
		w.printMedian("tune ", tunes)
		w.printMedian("naive", naives)
	}
	for _, r := range tunes {
		if !r.finished {
			return errUnfinished
		}
	}
	return nil
}

// printMedian prints the median makespan and utilisation of runs, and
// how many finished.
func (w gpuWorkload) printMedian(who string, runs []gpuRun) {
	ratios := make([]float64, 0, len(runs))
	utils := make([]float64, 0, len(runs))
	finished := 0
	for _, r := range runs {
		ratios = append(ratios, r.makespan.Seconds()/w.lower.Seconds())
		utils = append(utils, r.useful.Seconds()/(float64(w.gpus)*r.makespan.Seconds()))
		if r.finished {
			finished++
		}
	}
	sort.Float64s(ratios)
	sort.Float64s(utils)
	fmt.Printf("    %s makespan %.3f × lower bound (range %.3f–%.3f; %.3f × the whole-step bound); GPU utilisation %.1f%% (range %.1f–%.1f%%); finished %d of %d runs\n",
		who, median(ratios), ratios[0], ratios[len(ratios)-1], median(ratios)*w.lower.Seconds()/w.whole.Seconds(), 100*median(utils), 100*utils[0], 100*utils[len(utils)-1], finished, len(runs))
}

// gcd is the greatest common divisor of two positive durations, to the
// second.
func gcd(a, b time.Duration) time.Duration {
	x, y := int64(a/time.Second), int64(b/time.Second)
	for y != 0 {
		x, y = y, x%y
	}
	return max(time.Duration(x)*time.Second, time.Second)
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// gpuRun is what one way of running the workload achieved.
type gpuRun struct {
	finished bool
	// why says how an unfinished run ended.
	why string
	// makespan is from the start to the last task's end (or to the cut
	// off); controllerEnd is from the start to controller.Run's return.
	makespan, controllerEnd time.Duration
	// useful is GPU time spent training: a 1-GPU task's run, and a gang's
	// GPUs while all its ranks run together; held is GPU time allocated
	// to running tasks, waiting ranks included.
	useful, held time.Duration
	trialsDone   int
	// halfPlaced counts gangs with some but not all allocations running
	// at the end.
	halfPlaced  int
	wall        time.Duration
	submissions startStats
	detail      string
}

func (w gpuWorkload) print(who string, r gpuRun) {
	util := r.useful.Seconds() / (float64(w.gpus) * r.makespan.Seconds())
	held := r.held.Seconds() / (float64(w.gpus) * r.makespan.Seconds())
	status := "finished"
	if !r.finished {
		status = "DID NOT FINISH: " + r.why
	}
	fmt.Printf("    %s makespan %s = %.3f × lower bound (%.3f × the whole-step bound); GPU utilisation %.1f%% (GPUs held %.1f%%); %d of %d trials done; %s\n",
		who, simDuration(r.makespan), r.makespan.Seconds()/w.lower.Seconds(), r.makespan.Seconds()/w.whole.Seconds(), 100*util, 100*held,
		r.trialsDone, w.c.bGangs+w.c.bSingles, status)
	if r.detail != "" {
		fmt.Printf("          %s\n", r.detail)
	}
}

// experimentSource is the experiment: one group whose count and GPUs
// depend on whether the trial is a gang.
func (w gpuWorkload) experimentSource(rdv string) string {
	c := w.c
	gang := fmt.Sprintf("trial.index %% %d == 0", w.k)
	var task string
	if c.bDriver == "raw_exec" {
		secs := func(d time.Duration) string { return strconv.FormatFloat(d.Seconds()/c.timeScale, 'f', 4, 64) }
		task = fmt.Sprintf(`    task "train" {
      driver  = "raw_exec"
      command = "/bin/sh"
      args    = ["-c", %s, "rendezvous", %q, "${%s ? %s : %s}", "%d"]
    }`, hclString(rendezvous), rdv, gang, secs(c.bGangRun), secs(c.bSingleRun), int(c.limit/(5*time.Millisecond))+1)
	} else {
		task = fmt.Sprintf(`    task "train" {
      driver = "mock_driver"
      config {
        run_for = "${%s ? %q : %q}"
      }
    }`, gang, c.bGangRun.String(), c.bSingleRun.String())
	}
	return fmt.Sprintf(`experiment "bench-b" {
  num_samples = %d
  placement   = %q
  admission   = %q
  group "rank" {
    count = %s ? %d : 1
    resources {
      cpu    = 1
      memory = 1024
      gpu    = %s ? %d : 1
    }
%s
  }
}
`, c.bGangs+c.bSingles, c.bPlacement, c.bAdmission, gang, c.bGangAllocs, gang, c.bGangGPUs, task)
}

// hclString quotes s as an HCL string; s must hold no "${" or "%{".
func hclString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}

func (w gpuWorkload) cluster() (*nomadsim.Server, *clock.Scaled, error) {
	clk := clock.NewScaled(w.c.timeScale)
	srv, err := nomadsim.Start(nomadsim.Options{
		Nodes: []nomadsim.NodeSpec{{
			Count: w.c.bNodes, Name: "gpu", Datacenter: "dc1", Cores: 64, MHz: 2400, MemoryMiB: 512 * 1024,
			GPUs: w.c.bGPUs, GPUModel: "NVIDIA H100 80GB HBM3", GPUMemoryMiB: 80 * 1024,
		}},
		Clock: clk,
		Seed:  w.seed,
	})
	return srv, clk, err
}

func (w gpuWorkload) runTune(ctx context.Context) (gpuRun, error) {
	dir, cleanup, err := w.c.tempDir("tune-bench-nomad-b-")
	if err != nil {
		return gpuRun{}, err
	}
	defer cleanup()
	srv, clock, err := w.cluster()
	if err != nil {
		return gpuRun{}, err
	}
	defer srv.Close()
	rdv := filepath.Join(dir, "rendezvous")
	if err := os.Mkdir(rdv, 0o755); err != nil {
		return gpuRun{}, err
	}
	r, err := runTune(ctx, w.c, dir, "bench-b", w.experimentSource(rdv), srv.URL(), 0, clock)
	if err != nil {
		return gpuRun{}, err
	}
	out := gpuRun{controllerEnd: r.makespan(), wall: r.wall, submissions: summarise(r.starts)}
	out.finished, out.why = r.finished()
	use, err := w.gpuUse(srv.URL(), w.gangJobs(r.exp.Name, r.trials), r.simEnd)
	if err != nil {
		return out, err
	}
	out.useful, out.held, out.trialsDone, out.halfPlaced = use.useful, use.held, use.done, use.halfPlaced
	out.makespan = use.lastEnd.Sub(r.simStart)
	if !out.finished {
		out.makespan = r.makespan()
	}
	st := out.submissions
	out.detail = fmt.Sprintf("controller returned at %s; %d submissions (%d not placeable when submitted, queued again), Start %s mean; wall %.1fs",
		simDuration(out.controllerEnd), st.n, st.n-(w.c.bGangs+w.c.bSingles), st.mean.Round(time.Microsecond), r.wall.Seconds())
	out.detail += "\n          " + r.scheduling()
	if p := r.problems(); p != "" {
		out.detail += "\n          PROBLEMS: " + p
	}
	return out, nil
}

// runNaive registers every trial's job at once, in trial order, as a
// user without tune would (the jobs are the ones tune compiles), and
// waits until every task has ended, nothing has changed for longer than
// the longest trial (a deadlock: the only tasks left are ranks waiting for
// peers that cannot be placed), or the cap.
func (w gpuWorkload) runNaive(ctx context.Context) (gpuRun, error) {
	dir, cleanup, err := w.c.tempDir("tune-bench-nomad-b-naive-")
	if err != nil {
		return gpuRun{}, err
	}
	defer cleanup()
	srv, _, err := w.cluster()
	if err != nil {
		return gpuRun{}, err
	}
	defer srv.Close()
	rdv := filepath.Join(dir, "rendezvous")
	if err := os.Mkdir(rdv, 0o755); err != nil {
		return gpuRun{}, err
	}
	exp, trials, err := load(dir, "bench-b", w.experimentSource(rdv))
	if err != nil {
		return gpuRun{}, err
	}
	job := make([]*api.Job, len(trials))
	for i, t := range trials {
		j, diags := jobs.Compile(exp, t, jobs.Options{MHzPerCore: 2400})
		if diags.HasErrors() {
			return gpuRun{}, diags
		}
		job[i] = j
	}
	client, err := newClient(srv.URL())
	if err != nil {
		return gpuRun{}, err
	}

	simStart := srv.Now()
	start := time.Now()
	for _, j := range job {
		if _, _, err := client.Jobs().Register(j, nil); err != nil {
			return gpuRun{}, fmt.Errorf("registering %s: %w", *j.ID, err)
		}
	}
	registered := time.Since(start)
	want := w.c.bGangAllocs*w.c.bGangs + w.c.bSingles
	capAt := simStart.Add(time.Duration(w.c.bNaiveCap * float64(w.lower)))
	wallLimit := time.Now().Add(w.c.limit)
	var out gpuRun
	var last nomadsim.Stats
	lastChange := srv.Now()
	for {
		now := srv.Now()
		st := srv.Stats()
		if st.Allocations[api.AllocClientStatusComplete] >= want && st.Allocations[api.AllocClientStatusRunning] == 0 && st.Allocations[api.AllocClientStatusPending] == 0 {
			out.finished = true
			break
		}
		if !sameAllocs(st, last) {
			last, lastChange = st, now
		}
		if now.Sub(lastChange) > w.longest+w.longest/2 {
			out.why = fmt.Sprintf("deadlocked: nothing changed from %s on (%d allocations running, %d complete)",
				simDuration(lastChange.Sub(simStart)), st.Allocations[api.AllocClientStatusRunning], st.Allocations[api.AllocClientStatusComplete])
			break
		}
		if now.After(capAt) {
			out.why = fmt.Sprintf("cut off at %g × the lower bound", w.c.bNaiveCap)
			break
		}
		if time.Now().After(wallLimit) {
			out.why = fmt.Sprintf("cut off at the wall-clock limit %s", w.c.limit)
			break
		}
		select {
		case <-ctx.Done():
			return out, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	end := srv.Now()
	out.wall = time.Since(start)
	use, err := w.gpuUse(srv.URL(), w.gangJobs(exp.Name, trials), end)
	if err != nil {
		return out, err
	}
	out.useful, out.held, out.trialsDone, out.halfPlaced = use.useful, use.held, use.done, use.halfPlaced
	if out.finished {
		out.makespan = use.lastEnd.Sub(simStart)
	} else {
		// The cluster was in use up to the cut off, and would have been
		// longer: the makespan is at least that.
		out.makespan = end.Sub(simStart)
	}
	out.detail = fmt.Sprintf("%d jobs registered in %.0f ms wall (%s simulated); %d gangs partly placed at the end, holding %d GPUs; wall %.1fs",
		len(job), float64(registered)/float64(time.Millisecond), simDuration(time.Duration(float64(registered)*w.c.timeScale)),
		use.halfPlaced, use.halfHeldGPUs, out.wall.Seconds())
	return out, nil
}

func sameAllocs(a, b nomadsim.Stats) bool {
	if len(a.Allocations) != len(b.Allocations) {
		return false
	}
	for k, v := range a.Allocations {
		if b.Allocations[k] != v {
			return false
		}
	}
	return true
}

// gpuUse is what the allocations did with the GPUs between from and to.
type gpuUse struct {
	useful, held time.Duration
	lastEnd      time.Time
	done         int
	halfPlaced   int
	halfHeldGPUs int
}

// rankRun is one allocation's task run.
type rankRun struct {
	createIndex  uint64
	gpus         int
	started, end time.Time
	ended        bool
}

// gangJobs maps the job ID of every trial to whether it is a gang.
func (w gpuWorkload) gangJobs(name string, trials []*planner.Trial) map[string]bool {
	out := make(map[string]bool, len(trials))
	for _, t := range trials {
		out[jobs.JobID(name, t.ID)] = w.gang(t.Index)
	}
	return out
}

// gpuUse reads every allocation and adds up GPU time: held is each
// running task's GPUs over its run (up to to when it still runs); useful counts a gang's GPUs only while all its ranks run
// together. A trial's ranks are its job's latest allocations (a retried
// attempt's replace the earlier ones').
func (w gpuWorkload) gpuUse(address string, gangs map[string]bool, to time.Time) (gpuUse, error) {
	var use gpuUse
	clip := func(t time.Time) time.Time {
		if t.IsZero() || t.After(to) {
			return to
		}
		return t
	}
	byJob := map[string][]rankRun{}
	_, err := allocSpans(address, func(a *api.AllocationListStub) {
		r := rankRun{createIndex: a.CreateIndex, gpus: allocGPUs(a)}
		for _, ts := range a.TaskStates {
			if ts == nil || ts.StartedAt.IsZero() {
				continue
			}
			r.started, r.end, r.ended = ts.StartedAt, ts.FinishedAt, !ts.FinishedAt.IsZero()
			use.held += time.Duration(r.gpus) * clip(ts.FinishedAt).Sub(ts.StartedAt)
			if r.ended && ts.FinishedAt.After(use.lastEnd) {
				use.lastEnd = ts.FinishedAt
			}
		}
		if !r.started.IsZero() {
			byJob[a.JobID] = append(byJob[a.JobID], r)
		}
	})
	if err != nil {
		return use, err
	}
	for job, ranks := range byJob {
		world := 1
		if gangs[job] {
			world = w.c.bGangAllocs
		}
		sort.Slice(ranks, func(i, j int) bool { return ranks[i].createIndex > ranks[j].createIndex })
		if len(ranks) < world {
			use.halfPlaced++
			for _, r := range ranks {
				if !r.ended {
					use.halfHeldGPUs += r.gpus
				}
			}
			continue
		}
		ranks = ranks[:world]
		// Training runs from the last rank's start to the first rank's
		// end.
		begin, end := ranks[0].started, clip(ranks[0].end)
		allEnded, gpus := true, 0
		for _, r := range ranks {
			if r.started.After(begin) {
				begin = r.started
			}
			if e := clip(r.end); e.Before(end) {
				end = e
			}
			allEnded = allEnded && r.ended
			gpus += r.gpus
		}
		if end.After(begin) {
			use.useful += time.Duration(gpus) * end.Sub(begin)
		}
		if allEnded {
			use.done++
		}
	}
	return use, nil
}

// allocGPUs is the GPUs an allocation was given.
func allocGPUs(a *api.AllocationListStub) int {
	n := 0
	if a.AllocatedResources == nil {
		return 0
	}
	for _, t := range a.AllocatedResources.Tasks {
		if t == nil {
			continue
		}
		for _, d := range t.Devices {
			if d != nil && d.Type == "gpu" {
				n += len(d.DeviceIDs)
			}
		}
	}
	return n
}
