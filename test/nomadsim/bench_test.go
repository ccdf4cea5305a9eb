package nomadsim

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/require"
)

// scaleRun is one measured run: jobs single-group batch jobs registered
// over HTTP by parallel clients on a cluster of nodes, each task running
// runFor of simulated time, until every allocation has completed.
type scaleRun struct {
	jobs, nodes, clients int
	timeScale            float64
	runFor               string
}

type scaleResult struct {
	registered     int
	registerTime   time.Duration
	completeTime   time.Duration
	peakHeap       uint64
	liveHeap       uint64
	peakGoroutines int
}

func (r scaleResult) regsPerSecond() float64 {
	return float64(r.registered) / r.registerTime.Seconds()
}

func runScale(tb testing.TB, run scaleRun) scaleResult {
	tb.Helper()
	srv, err := Start(Options{
		Nodes:     []NodeSpec{{Count: run.nodes, Cores: 32, MHz: 2400, MemoryMiB: 256 * 1024}},
		TimeScale: run.timeScale,
		Seed:      7,
	})
	require.NoError(tb, err)
	defer srv.Close()
	cfg := api.DefaultConfig()
	cfg.Address = srv.URL()
	client, err := api.NewClient(cfg)
	require.NoError(tb, err)

	var res scaleResult
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	var peakHeap atomic.Uint64
	var peakG atomic.Int64
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peakHeap.Load() {
				peakHeap.Store(ms.HeapAlloc)
			}
			if g := int64(runtime.NumGoroutine()); g > peakG.Load() {
				peakG.Store(g)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()

	start := time.Now()
	var next atomic.Int64
	var failures atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < run.clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= run.jobs {
					return
				}
				job := mockJob(fmt.Sprintf("scale-%05d", i), 1, map[string]any{"run_for": run.runFor})
				if _, _, err := client.Jobs().EnforceRegister(job, 0, nil); err != nil {
					failures.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	res.registerTime = time.Since(start)
	res.registered = run.jobs - int(failures.Load())
	require.Zero(tb, failures.Load(), "registrations failed")

	deadline := time.Now().Add(5 * time.Minute)
	for {
		if srv.Stats().Allocations[api.AllocClientStatusComplete] == run.jobs {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("not complete after 5 minutes: %+v", srv.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	res.completeTime = time.Since(start)
	close(stop)
	sampler.Wait()
	// What the finished cluster keeps: every job, allocation and
	// evaluation, as Nomad keeps them until garbage collection.
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.liveHeap = ms.HeapAlloc
	res.peakHeap = peakHeap.Load()
	res.peakGoroutines = int(peakG.Load())
	return res
}

// BenchmarkRegisterAndRun10k registers 10,000 single-group jobs on a
// 1,000-node cluster with time scaled 600× (each task's 10 simulated
// minutes take one real second) and runs them all to completion. Run it
// with:
//
//	go test -run '^$' -bench RegisterAndRun10k -benchtime 1x ./test/nomadsim
func BenchmarkRegisterAndRun10k(b *testing.B) {
	for i := 0; i < b.N; i++ {
		res := runScale(b, scaleRun{jobs: 10000, nodes: 1000, clients: 32, timeScale: 600, runFor: "10m"})
		b.ReportMetric(res.regsPerSecond(), "registrations/s")
		b.ReportMetric(res.registerTime.Seconds(), "register-s")
		b.ReportMetric(res.completeTime.Seconds(), "complete-s")
		b.ReportMetric(float64(res.peakHeap)/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(res.liveHeap)/(1<<20), "live-heap-MiB")
		b.ReportMetric(float64(res.peakGoroutines), "peak-goroutines")
	}
}

func TestScale(t *testing.T) {
	t.Run("a thousand jobs on a hundred nodes all run to completion", func(t *testing.T) {
		if testing.Short() {
			t.Skip("scale run")
		}
		res := runScale(t, scaleRun{jobs: 1000, nodes: 100, clients: 16, timeScale: 600, runFor: "1m"})
		t.Logf("registered %d jobs at %.0f/s; all complete after %v; peak heap %.1f MiB",
			res.registered, res.regsPerSecond(), res.completeTime.Round(time.Millisecond), float64(res.peakHeap)/(1<<20))
	})
}
