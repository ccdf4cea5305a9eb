package nomad

import (
	"net/http"
	"strings"
	"sync"
)

// front passes the driver's requests on to the simulator, counting them by
// method and path, and holds those its gate matches until they are let
// through: a test sees a submission queued or in flight, and acts then.
type front struct {
	next http.Handler
	// gate matches the requests to hold; nil holds none.
	gate func(*http.Request) bool

	mu      sync.Mutex
	counts  map[string]int
	held    int
	maxHeld int
	// busy counts the dry runs and registrations being answered, and
	// maxBusy is the most at once.
	busy     int
	maxBusy  int
	opened   bool
	released chan struct{}
	// arrived hears the method and path of each request held.
	arrived chan string
}

func newFront(gate func(*http.Request) bool) *front {
	return &front{gate: gate, counts: map[string]int{}, released: make(chan struct{}), arrived: make(chan string, 1024)}
}

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	what := r.Method + " " + r.URL.Path
	f.mu.Lock()
	f.counts[what]++
	hold := f.gate != nil && !f.opened && f.gate(r)
	if hold {
		f.held++
		f.maxHeld = max(f.maxHeld, f.held)
	}
	released := f.released
	f.mu.Unlock()
	if hold {
		f.arrived <- what
		select {
		case <-released:
		case <-r.Context().Done():
		}
		f.mu.Lock()
		f.held--
		f.mu.Unlock()
	}
	submission := isRegister(r) || isPlan(r)
	if submission {
		f.mu.Lock()
		f.busy++
		f.maxBusy = max(f.maxBusy, f.busy)
		f.mu.Unlock()
	}
	f.next.ServeHTTP(w, r)
	if submission {
		f.mu.Lock()
		f.busy--
		f.mu.Unlock()
	}
}

// most says the most requests held at once, and the most dry runs and
// registrations made at once.
func (f *front) most() (held, busy int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.maxHeld, f.maxBusy
}

// open lets every held request through, and every later one.
func (f *front) open() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.opened {
		f.opened = true
		close(f.released)
	}
}

// count is how many requests of the method and path were made.
func (f *front) count(method, path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts[method+" "+path]
}

// reset forgets the counts so far.
func (f *front) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts = map[string]int{}
}

// isRegister matches job registrations, isPlan dry runs.
func isRegister(r *http.Request) bool { return r.Method == http.MethodPut && r.URL.Path == "/v1/jobs" }
func isPlan(r *http.Request) bool {
	return r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/v1/job/") && strings.HasSuffix(r.URL.Path, "/plan")
}
