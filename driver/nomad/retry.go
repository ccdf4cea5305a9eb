package nomad

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/nomad/api"
)

// Backoff paces the retries of an API call that failed for a reason that
// may pass (a 5xx, a refused or reset connection), and the resubscriptions
// of the event stream.
type Backoff struct {
	// Initial is the first wait; each later one doubles, up to Max.
	Initial time.Duration
	Max     time.Duration
	// Retries bounds the retries of one API call, after which its last
	// error stands. The event stream is resubscribed without bound: the
	// attempts it follows have no other way to end.
	Retries int
}

// DefaultBackoff rides out a Nomad server election (a few seconds) and
// gives up on a call after about a minute.
var DefaultBackoff = Backoff{Initial: 250 * time.Millisecond, Max: 10 * time.Second, Retries: 9}

func (b Backoff) withDefaults() Backoff {
	if b.Initial <= 0 {
		b.Initial = DefaultBackoff.Initial
	}
	if b.Max <= 0 {
		b.Max = max(DefaultBackoff.Max, b.Initial)
	}
	if b.Retries <= 0 {
		b.Retries = DefaultBackoff.Retries
	}
	return b
}

// delay is the wait before retry n (from 0).
func (b Backoff) delay(n int) time.Duration {
	d := b.Initial
	for i := 0; i < n && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// retry calls call until it succeeds, fails for good, or has been retried
// Backoff.Retries times. what names the call in debug logs.
func (d *Driver) retry(ctx context.Context, what string, call func() error) error {
	for n := 0; ; n++ {
		err := call()
		switch {
		case err == nil || !transient(err) && ctx.Err() == nil:
			// Nomad answered, even if it said no.
			d.health.answered()
		case transient(err):
			d.health.failed(err)
		}
		if err == nil || !transient(err) || n >= d.backoff.Retries {
			return d.denied(err, what)
		}
		if ctx.Err() != nil {
			return err
		}
		wait := d.backoff.delay(n)
		d.log.Debug("retrying a Nomad API call", "call", what, "retry", n+1, "wait", wait, "error", err)
		select {
		case <-ctx.Done():
			return err
		case <-d.clock.After(wait):
		}
	}
}

// transient says whether a failed call may succeed if made again: the
// server failed (5xx, 429) or the connection did. A 4xx is the request's
// own fault, and a conflict on the job's modify index is an answer.
func transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if enforceConflict(err) {
		return false
	}
	var resp api.UnexpectedResponseError
	if errors.As(err, &resp) {
		code := resp.StatusCode()
		return code >= http.StatusInternalServerError || code == http.StatusTooManyRequests
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr)
}

// enforceConflict says whether Nomad refused a registration because its
// EnforceIndex did not match the job. Nomad answers it with a 500, like a
// server fault, so it is recognised by its text.
func enforceConflict(err error) bool {
	return err != nil && strings.Contains(err.Error(), api.RegisterEnforceIndexErrPrefix)
}

// notFound says whether Nomad answered 404: the job or node is not there.
func notFound(err error) bool {
	var resp api.UnexpectedResponseError
	return errors.As(err, &resp) && resp.StatusCode() == http.StatusNotFound
}

// capabilities are what an ACL token needs for each call the driver makes
// (by the name retry is given), in the words of Nomad's ACL policies.
var capabilities = map[string]string{
	"list nodes":                        `node { policy = "read" }`,
	"read node":                         `node { policy = "read" }`,
	"list allocations":                  `namespace "*" { capabilities = ["read-job"] } (tune counts every namespace's allocations against free capacity)`,
	"list the experiment's jobs":        `the "list-jobs" and "read-job" capabilities in the experiment's namespace`,
	"list job allocations":              `the "read-job" capability in the experiment's namespace`,
	"list the experiment's allocations": `the "read-job" capability in the experiment's namespace`,
	"read job":                          `the "read-job" capability in the experiment's namespace`,
	"read evaluation":                   `the "read-job" capability in the experiment's namespace`,
	"plan job":                          `the "submit-job" capability in the experiment's namespace`,
	"register job":                      `the "submit-job" capability in the experiment's namespace`,
	"deregister job":                    `the "submit-job" capability in the experiment's namespace`,
	"read logs":                         `the "read-logs" capability in the experiment's namespace`,
	"follow the event stream":           `the "read-job" capability in the experiment's namespace`,
}

// PermissionError is Nomad's 403 to a call, with the capability the ACL
// token lacks for it.
type PermissionError struct {
	Call, Needs string
	Err         error
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("Nomad refused to %s (403 Permission denied): the ACL token (NOMAD_TOKEN) needs %s", e.Call, e.Needs)
}

func (e *PermissionError) Unwrap() error { return e.Err }

// denied names the capability a call lacks when Nomad answered 403.
func (d *Driver) denied(err error, what string) error {
	return Denied(err, what, capabilities[what])
}

// Denied is err as a *PermissionError when Nomad answered 403 and needs
// is known, err otherwise. call says what was asked ("list jobs").
func Denied(err error, call, needs string) error {
	var resp api.UnexpectedResponseError
	if needs == "" || !errors.As(err, &resp) || resp.StatusCode() != http.StatusForbidden {
		return err
	}
	return &PermissionError{Call: call, Needs: needs, Err: err}
}
