package nomadsim

import (
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// faultState holds the faults currently injected; requests read it on
// every call, so tests can change it while clients are running.
type faultState struct {
	mu     sync.Mutex
	f      Faults
	rng    *rand.Rand
	failed int
}

func newFaultState(f Faults, seed uint64) *faultState {
	return &faultState{f: f, rng: rand.New(rand.NewPCG(seed, seed+1))}
}

func (fs *faultState) setFailure(rate float64, status int) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.f.FailureRate, fs.f.FailureStatus = rate, status
}

func (fs *faultState) setLostWrites(rate float64) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.f.LostWriteRate = rate
}

func (fs *faultState) setLatency(d time.Duration) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.f.Latency = d
}

// draw decides what happens to one request: its delay, the status it is
// failed with (0: served), and whether a write is applied but answered
// with an error.
func (fs *faultState) draw(write bool) (latency time.Duration, fail int, lose bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	latency = fs.f.Latency
	if fs.f.FailureRate > 0 && fs.rng.Float64() < fs.f.FailureRate {
		fail = fs.f.FailureStatus
		if fail == 0 {
			fail = http.StatusInternalServerError
		}
		fs.failed++
		return
	}
	if write && fs.f.LostWriteRate > 0 && fs.rng.Float64() < fs.f.LostWriteRate {
		lose = true
		fs.failed++
	}
	return
}

// faultMessage is the body of an injected failure, worded as the errors
// a Nomad server gives when it loses its leader or its client.
func faultMessage(status int) string {
	switch status {
	case http.StatusServiceUnavailable:
		return "Service Unavailable"
	case http.StatusTooManyRequests:
		return "rate limit exceeded"
	case http.StatusForbidden:
		return "Permission denied"
	case http.StatusInternalServerError:
		return "rpc error: No cluster leader"
	}
	return http.StatusText(status)
}

// lostWriteWriter swallows the real response of a write that is applied
// but reported failed.
type lostWriteWriter struct {
	header http.Header
}

func (w *lostWriteWriter) Header() http.Header         { return w.header }
func (w *lostWriteWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *lostWriteWriter) WriteHeader(int)             {}
