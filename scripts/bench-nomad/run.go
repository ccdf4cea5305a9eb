package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/nomad/api"

	"github.com/nomad-tune/tune/clock"
	"github.com/nomad-tune/tune/controller"
	"github.com/nomad-tune/tune/driver"
	nomaddrv "github.com/nomad-tune/tune/driver/nomad"
	"github.com/nomad-tune/tune/experiment"
	tunehcl "github.com/nomad-tune/tune/hcl"
	"github.com/nomad-tune/tune/jobs"
	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/results"
)

// load decodes an experiment and generates its trials.
func load(dir, name, src string) (*experiment.Experiment, []*planner.Trial, error) {
	exp, diags := tunehcl.Load(filepath.Join(dir, name+".hcl"), []byte(src), tunehcl.Options{})
	if diags.HasErrors() {
		return nil, nil, diags
	}
	trials, diags := planner.Trials(exp)
	if diags.HasErrors() {
		return nil, nil, diags
	}
	return exp, trials, nil
}

// newClient is an api client for the cluster at address, as the CLI
// builds it.
func newClient(address string) (*api.Client, error) {
	cfg := api.DefaultConfig()
	cfg.Address = address
	return nomaddrv.NewClient(cfg, 0)
}

// timedClient is newClient with every request timed by endpoint.
func timedClient(address string, rt *timedTransport) (*api.Client, error) {
	cfg := api.DefaultConfig()
	cfg.Address = address
	cfg.HttpClient = &http.Client{Transport: rt}
	return api.NewClient(cfg)
}

// timedTransport times requests by method and endpoint (IDs left out);
// streams are timed to their response headers.
type timedTransport struct {
	next http.RoundTripper
	mu   sync.Mutex
	by   map[string]*endpointStats
}

type endpointStats struct {
	n     int
	total time.Duration
}

func newTimedTransport() *timedTransport {
	// Held to the CLI's connection budget, as the driver's own client is:
	// without it the driver's requests open connections without bound and
	// the simulator refuses them past its per-client limit.
	next := cleanhttp.DefaultPooledTransport()
	next.MaxConnsPerHost = nomaddrv.DefaultMaxConns
	next.MaxIdleConnsPerHost = nomaddrv.DefaultMaxConns
	return &timedTransport{next: next, by: map[string]*endpointStats{}}
}

func (t *timedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t0 := time.Now()
	resp, err := t.next.RoundTrip(r)
	d := time.Since(t0)
	key := r.Method + " " + endpoint(r.URL.Path)
	t.mu.Lock()
	s := t.by[key]
	if s == nil {
		s = &endpointStats{}
		t.by[key] = s
	}
	s.n++
	s.total += d
	t.mu.Unlock()
	return resp, err
}

// endpoint is a request path with the IDs in it replaced by "*".
func endpoint(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(parts) >= 3 && parts[1] == "job":
		parts[2] = "*"
	case len(parts) >= 3 && (parts[1] == "node" || parts[1] == "allocation" || parts[1] == "evaluation" || parts[1] == "var"):
		parts[2] = "*"
	case len(parts) >= 4 && parts[1] == "client" && parts[2] == "fs":
		parts = append(parts[:4], "*")
	}
	return "/" + strings.Join(parts, "/")
}

// summary lists the endpoints by total time, busiest first.
func (t *timedTransport) summary() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := make([]string, 0, len(t.by))
	for k := range t.by {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return t.by[keys[i]].total > t.by[keys[j]].total })
	var b strings.Builder
	for _, k := range keys {
		s := t.by[k]
		fmt.Fprintf(&b, "      %-40s %6d × %8s mean\n", k, s.n, (s.total / time.Duration(s.n)).Round(time.Microsecond))
	}
	return b.String()
}

// tuneResult is one run of the controller with the Nomad driver.
type tuneResult struct {
	exp     *experiment.Experiment
	trials  []*planner.Trial
	outcome *controller.Outcome
	// wall and cpu are the run's wall time and this process's CPU time
	// (user + system) over it.
	wall, cpu time.Duration
	// simStart and simEnd are the simulator's time at the run's start and
	// end (zero without its clock).
	simStart, simEnd time.Time
	records          []*results.TrialRecord
	// starts are the durations of the driver's Start calls, which the
	// controller makes one after another; firstWave is when the first
	// wave (runTune's wave argument) of them had returned.
	starts    []time.Duration
	firstWave time.Duration
	// peakHeap and peakSys are the largest HeapAlloc and Sys sampled.
	peakHeap, peakSys uint64
	peakGoroutines    int
	peakFDs           int
	timedOut          bool
	// requests times the driver's requests by endpoint (with -requests).
	requests *timedTransport
	// logs counts what tune logged at warning level and above.
	logs *logCounter
	// missing counts trials whose record is missing from the results
	// folder (a write that failed).
	missing int
}

// runTune runs the experiment in src with the real controller, the real
// Nomad driver on the cluster at address and a results store under dir.
// The run is interrupted, as an interrupt ends tune apply, after
// c.limit. wave is how many trials fill the cluster, for the time it
// takes to submit them. scaled, when set, is the simulator's: tune's
// controller and driver keep time by it, and it is read right before and
// right after the run for the makespan.
func runTune(ctx context.Context, c config, dir, name, src, address string, wave int, scaled *clock.Scaled) (*tuneResult, error) {
	exp, trials, err := load(dir, name, src)
	if err != nil {
		return nil, err
	}
	// The driver's client is the CLI's unless requests are to be timed:
	// a client with its own transport changes how the api package
	// connects to nodes for logs (it cannot clone the transport, so it
	// shares it), which changes the figures.
	var rt *timedTransport
	var client *api.Client
	if c.requests {
		rt = newTimedTransport()
		client, err = timedClient(address, rt)
	} else {
		client, err = newClient(address)
	}
	if err != nil {
		return nil, err
	}
	// With a simulator in this process tune keeps time by the simulator's
	// clock, as it would keep real time beside a real cluster: its
	// backoffs, gang timeout and log drain are then as long against the
	// trials as they are in real life, instead of scale times longer.
	var tuneClock clock.Clock
	tick, summary := time.Duration(0), time.Duration(0)
	if scaled != nil {
		tuneClock = scaled
		// Progress ticks and summary writes keep their wall-clock pace.
		tick = time.Duration(float64(250*time.Millisecond) * scaled.Factor())
		summary = time.Duration(float64(time.Second) * scaled.Factor())
	}
	logger, logs := c.logger()
	nd, err := nomaddrv.New(nomaddrv.Options{Client: client, Experiment: exp, Logger: logger, Clock: tuneClock})
	if err != nil {
		return nil, err
	}
	drv := &timedDriver{Driver: nd, wave: wave}
	defer nd.Close()
	infos := make([]results.TrialInfo, len(trials))
	for i, t := range trials {
		infos[i] = results.TrialInfo{ID: t.ID, Index: t.Index, Params: t.Params(&exp.Space)}
	}
	store, err := results.Open(filepath.Join(dir, "results"), results.Info{Name: exp.Name, Target: address, Seed: exp.Seed}, infos)
	if err != nil {
		return nil, err
	}
	defer store.Close()

	runtime.GC()
	sampler := startSampler()
	runCtx, cancel := context.WithTimeout(ctx, c.limit)
	defer cancel()
	var simStart time.Time
	if scaled != nil {
		simStart = scaled.Now()
	}
	startCPU := cpuNow()
	start := time.Now()
	drv.start = start
	out, err := controller.Run(runCtx, controller.Options{
		Experiment: exp, Trials: trials, Driver: drv, Store: store, Target: address, Logger: logger,
		Clock: tuneClock, TickEvery: tick, SummaryEvery: summary,
	})
	wall := time.Since(start)
	cpu := cpuNow() - startCPU
	var simEnd time.Time
	if scaled != nil {
		simEnd = scaled.Now()
	}
	peakHeap, peakSys, peakG, peakFDs := sampler.stop()
	if err != nil {
		return nil, err
	}
	r := &tuneResult{
		exp: exp, trials: trials, outcome: out, wall: wall, cpu: cpu,
		simStart: simStart, simEnd: simEnd, records: store.Records(),
		peakHeap: peakHeap, peakSys: peakSys, peakGoroutines: peakG, peakFDs: peakFDs,
		timedOut: runCtx.Err() != nil && ctx.Err() == nil,
		requests: rt, logs: logs,
	}
	r.missing = missingRecords(store.Dir(), r.records)
	r.starts, r.firstWave = drv.stats()
	return r, nil
}

// makespan is the run's length in simulated time.
func (r *tuneResult) makespan() time.Duration { return r.simEnd.Sub(r.simStart) }

// scheduling is one line of the figures experiment.json gives users, in
// the clock tune ran by (simulated time when it is scaled): the target's
// and tune's latency to running, the most trials that ran at once, and
// the share of each device kind held.
func (r *tuneResult) scheduling() string {
	s := r.outcome.Summary.Scheduling
	if s == nil {
		return "experiment.json has no scheduling figures"
	}
	line := fmt.Sprintf("experiment.json: submitted → running p50 %s, p99 %s; admitted → running p50 %s, p99 %s; peak %d running, mean %.1f",
		results.Seconds(s.SubmitToRunning.P50S), results.Seconds(s.SubmitToRunning.P99S),
		results.Seconds(s.AdmitToRunning.P50S), results.Seconds(s.AdmitToRunning.P99S), s.Concurrency.Peak, s.Concurrency.Mean)
	for _, u := range s.Utilisation {
		line += fmt.Sprintf("; %s %.1f%%", u.Resource, 100*u.Fraction)
	}
	return line
}

// missingRecords counts the trials whose trial.json is not in the
// results folder.
func missingRecords(dir string, records []*results.TrialRecord) int {
	n := 0
	for _, rec := range records {
		if _, err := os.Stat(filepath.Join(dir, rec.ID, results.TrialFile)); err != nil {
			n++
		}
	}
	return n
}

// problems is one line on what went wrong beside the figures, "" when
// nothing did.
func (r *tuneResult) problems() string {
	var out []string
	if s := r.logs.summary(); s != "" {
		out = append(out, s)
	}
	if r.missing > 0 {
		out = append(out, fmt.Sprintf("%d of %d trial records are missing from the results folder", r.missing, len(r.records)))
	}
	return strings.Join(out, "; ")
}

// finished says whether every trial terminated and was recorded;
// otherwise why not.
func (r *tuneResult) finished() (bool, string) {
	if r.missing > 0 {
		return false, fmt.Sprintf("%d trial records are missing from the results folder", r.missing)
	}
	n := r.outcome.Summary.Counts[results.Terminated]
	if r.timedOut {
		return false, fmt.Sprintf("interrupted at the wall-clock limit with %d of %d trials terminated", n, len(r.trials))
	}
	if n != len(r.trials) {
		return false, fmt.Sprintf("only %d of %d trials terminated (%s: %s; counts %v)", n, len(r.trials), r.outcome.Status, r.outcome.Message, r.outcome.Summary.Counts)
	}
	return true, ""
}

// timedDriver times the driver's Start calls: the controller submits one
// trial at a time, so their sum bounds how fast it can submit.
type timedDriver struct {
	driver.Driver
	start time.Time

	mu     sync.Mutex
	starts []time.Duration
	// wave is how many starts fill the empty cluster, and firstWave when
	// the last of them returned.
	wave      int
	firstWave time.Duration
}

func (d *timedDriver) Start(ctx context.Context, req driver.StartRequest) error {
	t0 := time.Now()
	err := d.Driver.Start(ctx, req)
	t1 := time.Now()
	d.mu.Lock()
	d.starts = append(d.starts, t1.Sub(t0))
	if len(d.starts) == d.wave {
		d.firstWave = t1.Sub(d.start)
	}
	d.mu.Unlock()
	return err
}

func (d *timedDriver) stats() ([]time.Duration, time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]time.Duration(nil), d.starts...), d.firstWave
}

// startStats summarises Start durations.
type startStats struct {
	n              int
	total          time.Duration
	mean, p50, p99 time.Duration
}

func summarise(starts []time.Duration) startStats {
	s := startStats{n: len(starts)}
	if s.n == 0 {
		return s
	}
	sorted := append([]time.Duration(nil), starts...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	for _, d := range sorted {
		s.total += d
	}
	s.mean = s.total / time.Duration(s.n)
	s.p50 = sorted[s.n/2]
	s.p99 = sorted[min(s.n-1, s.n*99/100)]
	return s
}

// perSecond is how many Start calls one second of back-to-back starts
// makes.
func (s startStats) perSecond() float64 {
	if s.total <= 0 {
		return 0
	}
	return float64(s.n) / s.total.Seconds()
}

// sampler samples this process's heap and goroutines until stopped.
type sampler struct {
	done              chan struct{}
	wg                sync.WaitGroup
	peakHeap, peakSys atomic.Uint64
	peakG             atomic.Int64
	peakFDs           atomic.Int64
}

func startSampler() *sampler {
	s := &sampler{done: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		var ms runtime.MemStats
		n := 0
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > s.peakHeap.Load() {
				s.peakHeap.Store(ms.HeapAlloc)
			}
			if ms.Sys > s.peakSys.Load() {
				s.peakSys.Store(ms.Sys)
			}
			if g := int64(runtime.NumGoroutine()); g > s.peakG.Load() {
				s.peakG.Store(g)
			}
			if n++; n%5 == 0 {
				if fds := openFDs(); fds > s.peakFDs.Load() {
					s.peakFDs.Store(fds)
				}
			}
			select {
			case <-s.done:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *sampler) stop() (heap, sys uint64, goroutines, fds int) {
	close(s.done)
	s.wg.Wait()
	return s.peakHeap.Load(), s.peakSys.Load(), int(s.peakG.Load()), int(s.peakFDs.Load())
}

// openFDs counts this process's open file descriptors (sockets
// included); 0 where /proc/self/fd cannot be read.
func openFDs() int64 {
	f, err := os.Open("/proc/self/fd")
	if err != nil {
		return 0
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return 0
	}
	return int64(len(names))
}

// cpuNow is this process's user and system CPU time.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// maxRSS is this process's peak resident set, in bytes (Linux reports
// KiB).
func maxRSS() uint64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return uint64(ru.Maxrss) * 1024
}

// simDuration formats a simulated duration to the second, or to the
// millisecond below a minute.
func simDuration(d time.Duration) string {
	if d < time.Minute {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// lag is how long, in wall time, tune took to see what the cluster did:
// from its Start call to every task of the trial running, and from the
// last task ending to the controller recording the trial's end.
type lag struct {
	toRun, toEnd []time.Duration
}

// lags compares each trial's record with its last attempt's
// allocations, both on the simulator's clock, and gives the differences
// in wall time.
func (r *tuneResult) lags(address string, scale float64) (lag, error) {
	var out lag
	byJob := map[string]*results.TrialRecord{}
	for _, rec := range r.records {
		byJob[jobs.JobID(r.exp.Name, rec.ID)] = rec
	}
	type span struct {
		createIndex     uint64
		started, ended  time.Time
		allStarted, all bool
	}
	last := map[string]*span{}
	_, err := allocSpans(address, func(a *api.AllocationListStub) {
		sp := last[a.JobID]
		if sp != nil && a.CreateIndex < sp.createIndex {
			return
		}
		if sp == nil || a.CreateIndex > sp.createIndex {
			// A later attempt's allocations replace an earlier one's (an
			// attempt's allocations are placed by one plan, at one index).
			sp = &span{createIndex: a.CreateIndex, allStarted: true, all: true}
			last[a.JobID] = sp
		}
		for _, ts := range a.TaskStates {
			if ts == nil || ts.StartedAt.IsZero() {
				sp.allStarted = false
				continue
			}
			if ts.StartedAt.After(sp.started) {
				sp.started = ts.StartedAt
			}
			if ts.FinishedAt.IsZero() {
				sp.all = false
			} else if ts.FinishedAt.After(sp.ended) {
				sp.ended = ts.FinishedAt
			}
		}
	})
	if err != nil {
		return out, err
	}
	wall := func(d time.Duration) time.Duration { return time.Duration(float64(d) / scale) }
	for job, sp := range last {
		rec := byJob[job]
		if rec == nil || rec.StartedAt.IsZero() {
			continue
		}
		if sp.allStarted && !sp.started.IsZero() {
			out.toRun = append(out.toRun, wall(sp.started.Sub(rec.StartedAt)))
		}
		if sp.all && !sp.ended.IsZero() && !rec.FinishedAt.IsZero() {
			out.toEnd = append(out.toEnd, wall(rec.FinishedAt.Sub(sp.ended)))
		}
	}
	return out, nil
}

// quantiles formats the median and 99th percentile of ds in milliseconds.
func quantiles(ds []time.Duration) string {
	if len(ds) == 0 {
		return "n/a"
	}
	sorted := append([]time.Duration(nil), ds...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return fmt.Sprintf("%.1f ms median, %.1f ms p99", ms(sorted[len(sorted)/2]), ms(sorted[min(len(sorted)-1, len(sorted)*99/100)]))
}
