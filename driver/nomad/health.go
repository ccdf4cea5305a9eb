package nomad

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/nomad/api"

	"github.com/nomad-tune/tune/clock"
)

// unreachableAfter is how many transient failures in a row make Nomad
// unreachable to the person running tune: one failed call is a blip that
// its retry hides, two are worth a line.
const unreachableAfter = 2

// health tells the person running tune when Nomad stops answering and when
// it answers again: one line each, rather than silence while calls are
// retried for a minute, or a line per retry.
type health struct {
	clock  clock.Clock
	notify func(string)

	mu sync.Mutex
	// failures counts transient failures in a row, since the first of
	// them; told says the outage was told.
	failures int
	since    time.Time
	told     bool
}

// failed takes note of a call that failed for a reason that may pass.
func (h *health) failed(err error) {
	h.mu.Lock()
	if h.failures == 0 {
		h.since = h.clock.Now()
	}
	h.failures++
	var msg string
	if h.failures >= unreachableAfter && !h.told {
		h.told = true
		msg = fmt.Sprintf("Nomad unreachable since %s (%s); retrying", h.since.Format("15:04:05"), shortCause(err))
	}
	h.mu.Unlock()
	if msg != "" {
		h.notify(msg)
	}
}

// answered takes note of a call Nomad answered.
func (h *health) answered() {
	h.mu.Lock()
	var msg string
	if h.told {
		msg = fmt.Sprintf("Nomad reachable again (unreachable for %s)", h.clock.Now().Sub(h.since).Round(time.Second))
	}
	h.failures, h.told = 0, false
	h.mu.Unlock()
	if msg != "" {
		h.notify(msg)
	}
}

// shortCause names why a call failed in a few words.
func shortCause(err error) string {
	var resp api.UnexpectedResponseError
	var netErr net.Error
	switch {
	case errors.As(err, &resp) && resp.StatusCode() == http.StatusTooManyRequests:
		return "429: too many connections from this address"
	case errors.As(err, &resp):
		return fmt.Sprintf("it answered %d %s", resp.StatusCode(), http.StatusText(resp.StatusCode()))
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "no answer in time"
	}
	return err.Error()
}
