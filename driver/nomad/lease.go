package nomad

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/nomad/api"

	"github.com/nomad-tune/tune/jobs"
)

// An experiment on a cluster is driven by one tune apply at a time. The
// one that drives it holds a lease: a Nomad Variable at
// tune/<experiment>/lease in the experiment's namespace, created and
// renewed with check-and-set, so two applies never both believe they hold
// it. The lease names its holder (host, process, results folder, since
// when). A holder that dies stops renewing it; once its time to live has
// passed since the last renewal (as the Nomad server stamped it), another
// apply, from any machine, takes it over.

// DefaultLeaseTTL is how long a lease outlives its last renewal; a holder
// renews it every third of that.
const DefaultLeaseTTL = time.Minute

// MinLeaseTTL and MaxLeaseTTL bound a lease's time to live as Nomad bounds
// its own variable locks': a shorter one would renew too often, a longer
// one would keep an experiment whose apply died locked too long.
const (
	MinLeaseTTL = 10 * time.Second
	MaxLeaseTTL = 24 * time.Hour
)

// Lease variable items.
const (
	leaseHost    = "host"
	leasePID     = "pid"
	leaseResults = "results"
	leaseSince   = "since"
	leaseTTL     = "ttl"
	leaseToken   = "token"
)

// leaseRounds bounds the read-then-write rounds of an acquisition that
// keeps losing races.
const leaseRounds = 5

// LeaseHolder is who drives an experiment.
type LeaseHolder struct {
	Host string `json:"host"`
	PID  int    `json:"pid"`
	// Results is the holder's results folder.
	Results string `json:"results"`
	// Since is when it took the lease.
	Since time.Time `json:"since"`
}

func (h LeaseHolder) String() string {
	return fmt.Sprintf("pid %d on %s, results in %s, since %s", h.PID, h.Host, h.Results, h.Since.Local().Format("2006-01-02 15:04:05 MST"))
}

// LeaseHeldError says another apply holds the experiment's lease.
type LeaseHeldError struct {
	Experiment string
	Path       string
	Namespace  string
	Holder     LeaseHolder
	// Expires is when the lease lapses unless its holder renews it; TTL
	// is how long it lives past a renewal.
	Expires time.Time
	TTL     time.Duration
}

func (e *LeaseHeldError) Error() string {
	return fmt.Sprintf("experiment %q is driven by another tune apply: %s (lease %s in namespace %q; it lapses at %s unless renewed)",
		e.Experiment, e.Holder, e.Path, e.Namespace, e.Expires.Local().Format("15:04:05"))
}

// LeaseDeniedError says the Nomad token may not read or write the lease.
type LeaseDeniedError struct {
	Path      string
	Namespace string
	Err       error
}

func (e *LeaseDeniedError) Error() string {
	return fmt.Sprintf("the Nomad token may not use the variable %s (namespace %s) that holds the experiment's lease: it needs the variables capabilities read, write and destroy on path \"tune/*\" (%v)",
		e.Path, e.Namespace, e.Err)
}

func (e *LeaseDeniedError) Unwrap() error { return e.Err }

// Lease is an apply's hold on an experiment. It renews itself until
// Release.
type Lease struct {
	d      *Driver
	path   string
	ttl    time.Duration
	items  api.VariableItems
	holder LeaseHolder

	mu    sync.Mutex
	index uint64

	// renewCtx bounds the renewals' requests; Release cancels it, so a
	// renewal stuck on a hung server never holds Release up.
	renewCtx    context.Context
	cancelRenew context.CancelFunc
	stop        chan struct{}
	stopped     chan struct{}
	lost        chan struct{}
	lostTo      *LeaseHolder
	stopOnce    sync.Once
}

// LeasePath is the variable that holds an experiment's lease. Characters
// a variable path cannot hold become '-', with a hash of the name
// appended so that distinct names keep distinct paths.
func LeasePath(experiment string) string {
	return "tune/" + jobs.SafeName(experiment, "~", 128-len("tune/")-len("/lease")) + "/lease"
}

// LeaseOptions say who takes a lease and for how long.
type LeaseOptions struct {
	Holder LeaseHolder
	// TTL is how long the lease outlives its last renewal; 0 is
	// DefaultLeaseTTL.
	TTL time.Duration
	// Dead, when set, says whether a holder is known to have died (a
	// process of this host that is gone): its lease is taken over at
	// once instead of when it lapses, so an apply killed on this machine
	// can be resumed here without waiting.
	Dead func(LeaseHolder) bool
}

// AcquireLease takes the experiment's lease, or fails at once: with a
// *LeaseHeldError when another apply holds it, a *LeaseDeniedError when
// the token may not use it.
func (d *Driver) AcquireLease(ctx context.Context, opts LeaseOptions) (*Lease, error) {
	holder, ttl := opts.Holder, opts.TTL
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	b := make([]byte, 8)
	rand.Read(b)
	l := &Lease{
		d: d, path: LeasePath(d.exp.Name), ttl: ttl, holder: holder,
		items: api.VariableItems{
			leaseHost:    holder.Host,
			leasePID:     strconv.Itoa(holder.PID),
			leaseResults: holder.Results,
			leaseSince:   holder.Since.UTC().Format(time.RFC3339Nano),
			leaseTTL:     ttl.String(),
			leaseToken:   hex.EncodeToString(b),
		},
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
		lost:    make(chan struct{}),
	}
	for round := 0; round < leaseRounds; round++ {
		cur, err := l.read(ctx)
		if err != nil {
			return nil, l.explain(err)
		}
		var write func() (*api.Variable, error)
		switch {
		case cur == nil:
			write = func() (*api.Variable, error) {
				v, _, err := d.client.Variables().CheckedCreate(l.variable(0), d.writeOpts(ctx))
				return v, err
			}
		case cur.Items[leaseToken] == l.items[leaseToken]:
			// A write of ours whose answer was lost.
			l.hold(cur.ModifyIndex)
			return l, nil
		case !l.expired(cur) && (opts.Dead == nil || !opts.Dead(holderOf(cur))):
			return nil, l.heldError(cur)
		default:
			d.log.Info("taking over the lease of an apply that died", "path", l.path, "holder", holderOf(cur).String())
			index := cur.ModifyIndex
			write = func() (*api.Variable, error) {
				v, _, err := d.client.Variables().CheckedUpdate(l.variable(index), d.writeOpts(ctx))
				return v, err
			}
		}
		var v *api.Variable
		err = d.retry(ctx, "write the lease", func() error {
			var err error
			v, err = write()
			return err
		})
		var cas api.ErrCASConflict
		switch {
		case errors.As(err, &cas):
			// Someone wrote it between the read and the write, or a retry
			// of ours found its own earlier write: read it again.
			continue
		case err != nil:
			return nil, l.explain(err)
		}
		l.hold(v.ModifyIndex)
		return l, nil
	}
	return nil, fmt.Errorf("the lease %s keeps changing while tune takes it: is another tune apply starting?", l.path)
}

// hold starts renewing the lease written at index.
func (l *Lease) hold(index uint64) {
	l.index = index
	l.renewCtx, l.cancelRenew = context.WithCancel(context.Background())
	go l.renew()
}

func (l *Lease) variable(index uint64) *api.Variable {
	items := make(api.VariableItems, len(l.items))
	for k, v := range l.items {
		items[k] = v
	}
	return &api.Variable{Path: l.path, Namespace: l.d.namespace(), ModifyIndex: index, Items: items}
}

func (l *Lease) read(ctx context.Context) (*api.Variable, error) {
	var v *api.Variable
	err := l.d.retry(ctx, "read the lease", func() error {
		var err error
		v, _, err = l.d.client.Variables().Peek(l.path, l.d.queryOpts(ctx, nil))
		return err
	})
	return v, err
}

// namespaceName is the namespace the lease lives in, for messages: the
// experiment's, or the client's (NOMAD_NAMESPACE), which the client does
// not tell.
func (l *Lease) namespaceName() string {
	if ns := l.d.namespace(); ns != "" {
		return ns
	}
	return "of the Nomad client"
}

// explain turns a denied request into a *LeaseDeniedError.
func (l *Lease) explain(err error) error {
	var resp api.UnexpectedResponseError
	if errors.As(err, &resp) && resp.StatusCode() == http.StatusForbidden {
		return &LeaseDeniedError{Path: l.path, Namespace: l.namespaceName(), Err: err}
	}
	return fmt.Errorf("the experiment's lease %s: %w", l.path, err)
}

// expired says whether v's holder has let it lapse: its ttl has passed
// since the server last wrote it.
func (l *Lease) expired(v *api.Variable) bool {
	return !l.d.clock.Now().Before(expiresAt(v))
}

func expiresAt(v *api.Variable) time.Time {
	return time.Unix(0, v.ModifyTime).Add(ttlOf(v))
}

// ttlOf is the time to live its holder gave the lease.
func ttlOf(v *api.Variable) time.Duration {
	ttl, err := time.ParseDuration(v.Items[leaseTTL])
	if err != nil || ttl <= 0 {
		return DefaultLeaseTTL
	}
	return ttl
}

func holderOf(v *api.Variable) LeaseHolder {
	pid, _ := strconv.Atoi(v.Items[leasePID])
	since, _ := time.Parse(time.RFC3339Nano, v.Items[leaseSince])
	return LeaseHolder{Host: v.Items[leaseHost], PID: pid, Results: v.Items[leaseResults], Since: since}
}

func (l *Lease) heldError(v *api.Variable) *LeaseHeldError {
	return &LeaseHeldError{Experiment: l.d.exp.Name, Path: l.path, Namespace: v.Namespace, Holder: holderOf(v), Expires: expiresAt(v), TTL: ttlOf(v)}
}

// LeaseInfo is an experiment's lease as Nomad holds it.
type LeaseInfo struct {
	Holder LeaseHolder `json:"holder"`
	// Renewed is when it was last written, as the server stamped it;
	// Expires is when it lapses unless renewed.
	Renewed time.Time `json:"renewed"`
	Expires time.Time `json:"expires"`
}

// ReadLease reads an experiment's lease in the namespace of q; nil when
// no apply holds it.
func ReadLease(client *api.Client, experiment string, q *api.QueryOptions) (*LeaseInfo, error) {
	v, _, err := client.Variables().Peek(LeasePath(experiment), q)
	if err != nil || v == nil {
		return nil, err
	}
	return &LeaseInfo{Holder: holderOf(v), Renewed: time.Unix(0, v.ModifyTime), Expires: expiresAt(v)}, nil
}

// Holder is who the lease names.
func (l *Lease) Holder() LeaseHolder { return l.holder }

// Path is the lease's variable.
func (l *Lease) Path() string { return l.path }

// Lost is closed when a renewal finds that another apply took the lease
// over (this one failed to renew it for its whole time to live); LostTo
// says who then.
func (l *Lease) Lost() <-chan struct{} { return l.lost }

// LostTo is the holder that took the lease over, once Lost is closed.
func (l *Lease) LostTo() LeaseHolder {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lostTo == nil {
		return LeaseHolder{}
	}
	return *l.lostTo
}

// renew writes the lease every third of its time to live, until Release
// or until it finds the lease taken over. A renewal that fails is tried
// again at the next one; the lease lapses only if none succeeds for its
// whole time to live.
func (l *Lease) renew() {
	defer close(l.stopped)
	for {
		select {
		case <-l.stop:
			return
		case <-l.d.clock.After(l.ttl / 3):
		}
		l.mu.Lock()
		index := l.index
		l.mu.Unlock()
		v, _, err := l.d.client.Variables().CheckedUpdate(l.variable(index), l.d.writeOpts(l.renewCtx))
		var cas api.ErrCASConflict
		if errors.As(err, &cas) && cas.Conflict != nil && cas.Conflict.ModifyIndex == 0 {
			// Deleted outside tune (nomad var purge): nobody else holds
			// it, so this apply writes it again.
			l.d.log.Warn("the experiment's lease was deleted outside tune; writing it again", "path", l.path)
			v, _, err = l.d.client.Variables().CheckedCreate(l.variable(0), l.d.writeOpts(l.renewCtx))
		}
		switch {
		case err == nil:
			l.mu.Lock()
			l.index = v.ModifyIndex
			l.mu.Unlock()
		case errors.As(err, &cas) && cas.Conflict != nil && cas.Conflict.Items[leaseToken] == l.items[leaseToken]:
			// An earlier renewal was applied though its answer was lost.
			l.mu.Lock()
			l.index = cas.Conflict.ModifyIndex
			l.mu.Unlock()
		case errors.As(err, &cas) && cas.Conflict != nil && cas.Conflict.ModifyIndex != 0:
			h := holderOf(cas.Conflict)
			l.d.log.Warn("the experiment's lease was taken over", "path", l.path, "by", h.String())
			l.mu.Lock()
			l.lostTo = &h
			l.mu.Unlock()
			close(l.lost)
			return
		default:
			l.d.log.Warn("cannot renew the experiment's lease; trying again", "path", l.path, "error", err)
		}
	}
}

// Release stops renewing the lease and deletes it, unless another apply
// holds it by now. A renewal in flight is waited for while ctx allows.
// It is safe to call more than once.
func (l *Lease) Release(ctx context.Context) error {
	first := false
	l.stopOnce.Do(func() {
		first = true
		close(l.stop)
	})
	select {
	case <-l.stopped:
	case <-ctx.Done():
		l.cancelRenew()
		<-l.stopped
	}
	l.cancelRenew()
	if !first {
		return nil
	}
	select {
	case <-l.lost:
		return nil
	default:
	}
	l.mu.Lock()
	index := l.index
	l.mu.Unlock()
	for round := 0; round < leaseRounds; round++ {
		err := l.d.retry(ctx, "release the lease", func() error {
			_, err := l.d.client.Variables().CheckedDelete(l.path, index, l.d.writeOpts(ctx))
			return err
		})
		var cas api.ErrCASConflict
		switch {
		case err == nil:
			return nil
		case errors.As(err, &cas) && cas.Conflict != nil && cas.Conflict.ModifyIndex != 0 && cas.Conflict.Items[leaseToken] == l.items[leaseToken]:
			// A renewal of ours was applied though its answer never came.
			index = cas.Conflict.ModifyIndex
		case errors.As(err, &cas):
			// Gone already (a retried delete found its own), or written by
			// an apply that took it over: not ours to delete.
			return nil
		default:
			return l.explain(err)
		}
	}
	return fmt.Errorf("the lease %s keeps changing while tune releases it", l.path)
}
