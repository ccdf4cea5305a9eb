package nomad

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad/api"

	"github.com/nomad-tune/tune/clock"
	"github.com/nomad-tune/tune/driver"
	"github.com/nomad-tune/tune/experiment"
	"github.com/nomad-tune/tune/jobs"
)

var (
	_ driver.Driver  = (*Driver)(nil)
	_ driver.Adopter = (*Driver)(nil)

	_ driver.Specifier = (*Driver)(nil)
)

// Options configure the Nomad driver.
type Options struct {
	// Client talks to the cluster; the CLI builds it from
	// api.DefaultConfig(), so NOMAD_ADDR, NOMAD_TOKEN, NOMAD_NAMESPACE,
	// NOMAD_REGION and the TLS variables apply.
	Client *api.Client
	// Experiment supplies the nomad block: namespace and region (which
	// override the client's), datacenters, node pool, gpu_device,
	// cpu_mhz_per_core, purge and gang_timeout.
	Experiment *experiment.Experiment
	// Logger hears about the stream, retries and attempts; nil is quiet.
	Logger hclog.Logger
	// Clock times gang placement, log draining and retries; nil is the
	// real clock.
	Clock clock.Clock
	// Backoff paces retried API calls; zero fields take DefaultBackoff's.
	Backoff Backoff
	// LogDrain bounds the wait for a finished attempt's output to be read
	// before its EventExited; 0 means DefaultLogDrain.
	LogDrain time.Duration
	// StopWait bounds the wait for a stopped attempt's allocations to end
	// before the attempt is reported ended anyway; 0 means
	// DefaultStopWait.
	StopWait time.Duration
	// Notify hears, in one line each, that Nomad stopped answering (calls
	// failing for a reason that may pass, being retried) and that it
	// answers again; nil sends them to the Logger as warnings.
	Notify func(message string)
	// InterruptWait bounds what Interrupt waits for Nomad; 0 means
	// DefaultInterruptWait.
	InterruptWait time.Duration
	// MaxConns is the connection budget the client was made with
	// (NewClient); the driver reads logs through half of it at most.
	// 0 means DefaultMaxConns.
	MaxConns int
	// LogPoll is the wait between reads of a running task's log while it
	// prints, doubling up to LogPollMax while it prints nothing; 0 means
	// DefaultLogPoll and DefaultLogPollMax.
	LogPoll    time.Duration
	LogPollMax time.Duration
}

const (
	// DefaultGangTimeout is how long an attempt may wait to be placed
	// whole when the experiment does not say (hcl sets the same default).
	DefaultGangTimeout = 2 * time.Minute
	// DefaultLogDrain lets the log streams of a finished task deliver
	// what Nomad still has buffered, without letting a stream that never
	// ends hold the attempt's EventExited back.
	DefaultLogDrain = 10 * time.Second
	// DefaultStopWait is longer than the tasks' kill timeout and Nomad
	// clients' default max_kill_timeout (30s), so a stopped attempt's
	// allocations normally end within it.
	DefaultStopWait = time.Minute
	// DefaultInterruptWait leaves an interrupted tune time to stop its
	// trials' jobs, and the person who pressed Ctrl-C an answer within
	// two seconds whatever Nomad does.
	DefaultInterruptWait = time.Second
	// DefaultLogPoll and DefaultLogPollMax pace the reads of running
	// tasks' logs: a task that reports every second is read every second,
	// and a thousand quiet ones cost Nomad two hundred small reads a
	// second rather than two thousand open streams.
	DefaultLogPoll    = time.Second
	DefaultLogPollMax = 10 * time.Second

	// closeReason is the stop message of attempts ended by Close.
	closeReason = "stopped: the Nomad driver is closing"
	// defaultStopReason is the stop message when Stop gives none.
	defaultStopReason = "stopped"
)

// Driver runs trials as Nomad batch jobs. It is safe for use by several
// goroutines.
type Driver struct {
	// nodeClients are clients of the nodes, for their log streams, made
	// once per node (see logStream).
	nodeMu      sync.Mutex
	nodeClients map[string]*api.Client

	// specs are the jobs.Spec of the experiment's trials, by trial ID,
	// once computed.
	specMu sync.Mutex
	specs  map[string]string

	client      *api.Client
	exp         *experiment.Experiment
	log         hclog.Logger
	clock       clock.Clock
	backoff     Backoff
	logDrain    time.Duration
	stopWait    time.Duration
	gangTimeout time.Duration
	events      *driver.EventQueue
	// logReaders holds a token per log read in flight: the reads share
	// the connection budget with everything else the driver does.
	logReaders chan struct{}
	logPoll    Backoff
	health     *health

	// ctx ends the event-stream watcher and what attempts run in the
	// background once Close has seen every attempt end.
	ctx       context.Context
	cancel    context.CancelFunc
	watchOnce sync.Once
	closeOnce sync.Once
	// interrupted is closed by Interrupt; hurry is ctx until then, and
	// ends interruptWait after it: what stops trials uses it, so that no
	// hung request holds an interrupted run.
	interrupted   chan struct{}
	interruptOnce sync.Once
	hurry         context.Context
	hurryCancel   context.CancelFunc
	interruptWait time.Duration
	// watching is closed once the watcher has stopped.
	watching chan struct{}
	// subscribed is closed once the event stream was first asked for,
	// whether or not Nomad answered: submissions wait for it, so what
	// Nomad does with them comes through the stream, with nothing to
	// catch up by reading.
	subscribed    chan struct{}
	subscribeOnce sync.Once
	// streamGen counts the subscriptions to the event stream (guarded by
	// mu).
	streamGen uint64

	// sharesMu serialises cpuShares' reads of the cluster.
	sharesMu sync.Mutex

	mu            sync.Mutex
	closed        bool
	watchStarted  bool
	sharesPerCore int64
	attempts      map[attemptKey]*attempt
	// unconfirmed are the jobs of interrupted attempts whose stop Nomad
	// had not confirmed in time.
	unconfirmed []string
	// byJob finds the running attempt of a job; a trial runs one attempt
	// at a time, and its attempts share the job ID.
	byJob map[string]*attempt
	// jobIndex is the job modify index tune last knew each of the
	// experiment's jobs at (see knownIndex).
	jobIndex map[string]uint64
	// live counts attempts from Start until their EventExited is queued.
	live sync.WaitGroup

	// submissions are the attempts waiting for a submitter.
	submissions *submitQueue
	// placeable are the placement keys (placementKey) of jobs Nomad's
	// dry run said it would place: a job of one allocation with such a
	// key is registered without one.
	placeableMu sync.Mutex
	placeable   map[string]bool
	// refusals are the nodes that lately refused a pinned job.
	refusals pinRefusals
}

type attemptKey struct {
	trialID string
	attempt int
}

// New returns a driver for the cluster the client talks to. It makes no
// call to Nomad; the event stream is opened by the first Start.
func New(opts Options) (*Driver, error) {
	if opts.Client == nil {
		return nil, errors.New("nomad driver: a Nomad API client is required")
	}
	if opts.Experiment == nil {
		return nil, errors.New("nomad driver: an experiment is required")
	}
	if opts.LogDrain < 0 || opts.StopWait < 0 || opts.LogPoll < 0 || opts.LogPollMax < 0 || opts.MaxConns < 0 {
		return nil, fmt.Errorf("nomad driver: the log drain (%s), stop wait (%s), log poll (%s, %s) and connection budget (%d) must not be negative",
			opts.LogDrain, opts.StopWait, opts.LogPoll, opts.LogPollMax, opts.MaxConns)
	}
	log := opts.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	ctx, cancel := context.WithCancel(context.Background())
	hurry, hurryCancel := context.WithCancel(ctx)
	d := &Driver{
		hurry:         hurry,
		hurryCancel:   hurryCancel,
		interrupted:   make(chan struct{}),
		interruptWait: opts.InterruptWait,
		client:        opts.Client,
		exp:           opts.Experiment,
		log:           log.Named("nomad"),
		clock:         opts.Clock,
		backoff:       opts.Backoff.withDefaults(),
		logDrain:      opts.LogDrain,
		stopWait:      opts.StopWait,
		gangTimeout:   opts.Experiment.Nomad.GangTimeout,
		events:        driver.NewEventQueue(),
		logReaders:    make(chan struct{}, logReaders(opts.MaxConns)),
		logPoll:       Backoff{Initial: opts.LogPoll, Max: opts.LogPollMax},
		ctx:           ctx,
		cancel:        cancel,
		watching:      make(chan struct{}),
		subscribed:    make(chan struct{}),
		attempts:      map[attemptKey]*attempt{},
		byJob:         map[string]*attempt{},
		jobIndex:      map[string]uint64{},
		placeable:     map[string]bool{},
		nodeClients:   map[string]*api.Client{},
		specs:         map[string]string{},
	}
	if d.clock == nil {
		d.clock = clock.Real{}
	}
	notify := opts.Notify
	if notify == nil {
		notify = func(msg string) { d.log.Warn(msg) }
	}
	d.health = &health{clock: d.clock, notify: notify}
	d.submissions = newSubmitQueue(submitters(opts.MaxConns), d.submit)
	if d.interruptWait <= 0 {
		d.interruptWait = DefaultInterruptWait
	}
	if d.logDrain == 0 {
		d.logDrain = DefaultLogDrain
	}
	if d.stopWait == 0 {
		d.stopWait = DefaultStopWait
	}
	if d.logPoll.Initial == 0 {
		d.logPoll.Initial = DefaultLogPoll
	}
	if d.logPoll.Max == 0 {
		d.logPoll.Max = max(DefaultLogPollMax, d.logPoll.Initial)
	}
	if d.gangTimeout <= 0 {
		d.gangTimeout = DefaultGangTimeout
	}
	return d, nil
}

// Target is the address of the cluster, for summaries, without the
// credentials it may hold.
func (d *Driver) Target() string {
	return RedactAddress(d.client.Address())
}

// Events delivers every attempt's events. Reports wait for room in a
// bounded queue (driver.MaxQueuedReports), so a trial that reports faster
// than they are read waits on its log stream; other events never wait. After Close
// the channel is closed once the events queued before it are received.
func (d *Driver) Events() <-chan driver.Event {
	return d.events.Out()
}

// Start compiles the attempt's job, pinned to the nodes of its assignment
// (see pinned and place), follows it, and queues its submission to Nomad,
// then returns: submissions run in the background, several at once within
// the connection budget (see submitters), so the controller never waits
// for Nomad. A submission plans the job first (see needsDryRun for when
// it does not need to), and registers it when Nomad would place all of
// it. When the plan says it would not, nothing is registered and an
// EventExited with Unplaced follows, so the controller queues the trial
// again (with on_unfit = "queue" the job is registered anyway, for a
// blocked evaluation to drive an autoscaler). When the plan says no node
// could ever hold it, in either mode, nothing is registered and an
// EventExited with Failed and NeverRuns follows. A submission that fails
// (Nomad refuses it, or stays unreachable past the retries) ends the
// attempt with an EventExited with Failed and a message that starts
// "could not start: "; nothing of it is left registered.
//
// An error means the attempt was not started at all (the request is
// invalid, its job does not compile, the driver is closed, the trial
// already runs, or the cluster's CPU speed could not be read) and no
// event of it follows.
func (d *Driver) Start(ctx context.Context, req driver.StartRequest) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if req.Experiment == nil || req.Trial == nil {
		return errors.New("nomad driver: a start request needs an experiment and a trial")
	}
	shares, err := d.cpuShares(ctx)
	if err != nil {
		return fmt.Errorf("trial %s attempt %d: %w", req.Trial.ID, req.Attempt, err)
	}
	job, diags := jobs.Compile(req.Experiment, req.Trial, jobs.Options{MHzPerCore: shares, Attempt: req.Attempt})
	if diags.HasErrors() {
		return fmt.Errorf("trial %s attempt %d: %w", req.Trial.ID, req.Attempt, diags)
	}
	pinnedJob, pins := pinned(job, req)
	a, err := newAttempt(d, req, pinnedJob)
	if err != nil {
		return fmt.Errorf("trial %s attempt %d: %w", req.Trial.ID, req.Attempt, err)
	}
	a.phase, a.free, a.pins = phaseWaiting, job, pins
	if err := d.track(a); err != nil {
		return err
	}
	d.startWatch()
	d.submissions.push(a)
	return nil
}

// track makes a the attempt of its trial and of its job, which the event
// stream's news is passed to. It refuses when the driver is closed, or
// when the trial or the job is already followed: a trial runs one attempt
// at a time.
func (d *Driver) track(a *attempt) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.closed:
		return errors.New("nomad driver: closed")
	case d.attempts[a.key] != nil:
		return fmt.Errorf("trial %s attempt %d is already running", a.key.trialID, a.key.attempt)
	case d.byJob[a.jobID] != nil:
		other := d.byJob[a.jobID].key
		return fmt.Errorf("trial %s attempt %d: attempt %d of the trial is still running as job %s", a.key.trialID, a.key.attempt, other.attempt, a.jobID)
	}
	d.attempts[a.key] = a
	d.byJob[a.jobID] = a
	d.live.Add(1)
	return nil
}

// startWatch opens the event stream once, when the first attempt is
// started or adopted.
func (d *Driver) startWatch() {
	d.watchOnce.Do(func() {
		d.mu.Lock()
		d.watchStarted = true
		d.mu.Unlock()
		go d.watch()
	})
}

// cpuShares is the MHz of one core for compiling cpu requests: the one the
// last capacity snapshot used, read now if there has been none.
func (d *Driver) cpuShares(ctx context.Context) (int64, error) {
	if n := d.exp.Nomad.CPUMHzPerCore; n > 0 {
		return int64(n), nil
	}
	// One read at a time: attempts started together share it.
	d.sharesMu.Lock()
	defer d.sharesMu.Unlock()
	d.mu.Lock()
	shares := d.sharesPerCore
	d.mu.Unlock()
	if shares > 0 {
		return shares, nil
	}
	c, err := d.Capacity(ctx)
	if err != nil {
		return 0, err
	}
	return c.SharesPerCore(), nil
}

// register submits the attempt's job so that it is never submitted twice:
// with EnforceIndex at the job modify index tune last knew of the job (0,
// a new job, when it knows of none), without reading it first. When Nomad
// has another version (someone else wrote it, Nomad collected it, or an
// earlier try of this very request was applied before its answer was
// lost), the registration conflicts, and only then is the job read: the
// version read tells whether the registration was this attempt's own, and
// otherwise is the index to register over. It returns the job modify
// index of the registration, and the evaluation it made when Nomad says.
func (d *Driver) register(ctx context.Context, a *attempt) (uint64, string, error) {
	index := d.knownIndex(a.jobID)
	for round := 0; round < 3; round++ {
		sentIndex := index
		var resp *api.JobRegisterResponse
		err := d.retry(ctx, "register job", func() error {
			var err error
			resp, _, err = d.client.Jobs().RegisterOpts(a.job, &api.RegisterOptions{EnforceIndex: true, ModifyIndex: sentIndex}, d.writeOpts(ctx))
			return err
		})
		if err == nil {
			d.setKnownIndex(a.jobID, resp.JobModifyIndex)
			return resp.JobModifyIndex, resp.EvalID, nil
		}
		if !enforceConflict(err) {
			if transient(err) || ctx.Err() != nil {
				// The last try may have been applied: take it back.
				d.withdraw(a, sentIndex)
			}
			return 0, "", err
		}
		cur, err := d.readJob(ctx, a.jobID)
		if err != nil {
			return 0, "", err
		}
		index = 0
		if cur != nil {
			index = deref(cur.JobModifyIndex)
			if a.isOwnRegistration(cur, sentIndex) {
				d.setKnownIndex(a.jobID, index)
				return index, "", nil
			}
		}
		d.setKnownIndex(a.jobID, index)
		d.log.Debug("the job was not at the index tune knew of", "job", a.jobID, "sent", sentIndex, "index", index, "error", err)
	}
	return 0, "", fmt.Errorf("job %s keeps changing while tune registers it: is another tune or a person writing it?", a.jobID)
}

// knownIndex is the job modify index tune last knew the job at: from its
// own registrations and deregistrations, the experiment's job listing
// (Existing) or a read; 0 when it knows of no such job.
func (d *Driver) knownIndex(jobID string) uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.jobIndex[jobID]
}

// setKnownIndex records the job modify index of a job; 0 says there is no
// such job.
func (d *Driver) setKnownIndex(jobID string, index uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if index == 0 {
		delete(d.jobIndex, jobID)
		return
	}
	d.jobIndex[jobID] = index
}

// readJob is the job as Nomad has it, nil when there is none.
func (d *Driver) readJob(ctx context.Context, jobID string) (*api.Job, error) {
	var job *api.Job
	err := d.retry(ctx, "read job", func() error {
		j, _, err := d.client.Jobs().Info(jobID, d.queryOpts(ctx, nil))
		if notFound(err) {
			job = nil
			return nil
		}
		job = j
		return err
	})
	return job, err
}

// withdraw deregisters the attempt's job after a registration whose
// outcome is unknown, if the job Nomad has is that registration.
func (d *Driver) withdraw(a *attempt, sentIndex uint64) {
	ctx := d.hurry
	cur, err := d.readJob(ctx, a.jobID)
	if err != nil || cur == nil || !a.isOwnRegistration(cur, sentIndex) {
		return
	}
	d.log.Debug("deregistering a job whose registration did not report back", "job", a.jobID)
	if err := d.deregister(ctx, a.jobID, true); err != nil {
		d.log.Warn("cannot deregister a job tune may have registered", "job", a.jobID, "error", err)
	}
}

// deregister stops the job, or purges it, and records the job modify
// index the stop gave it (Nomad answers with the index of the write, which
// a stop gives the job too), so the next attempt registers over it without
// a read.
func (d *Driver) deregister(ctx context.Context, jobID string, purge bool) error {
	return d.retry(ctx, "deregister job", func() error {
		_, meta, err := d.client.Jobs().Deregister(jobID, purge, d.writeOpts(ctx))
		switch {
		case notFound(err):
			d.setKnownIndex(jobID, 0)
			return nil
		case err != nil:
			return err
		case purge || meta == nil:
			// A job Nomad did not have is answered with index 0.
			d.setKnownIndex(jobID, 0)
		default:
			d.setKnownIndex(jobID, meta.LastIndex)
		}
		return nil
	})
}

// abandon forgets an attempt that was never registered.
func (d *Driver) abandon(a *attempt) {
	d.mu.Lock()
	a.phase = phaseFinishing
	d.forgetLocked(a)
	d.mu.Unlock()
	a.stopLogs()
	close(a.done)
	d.live.Done()
}

// Stop deregisters the attempt's job (purged when the experiment says so)
// and returns; the EventExited with Stopped follows once its allocations
// have ended, or at once when none was placed. An attempt that has already
// failed, or was rolled back, keeps that outcome.
func (d *Driver) Stop(_ context.Context, trialID string, attempt int, reason string) error {
	if reason == "" {
		reason = defaultStopReason
	}
	d.mu.Lock()
	a := d.attempts[attemptKey{trialID, attempt}]
	d.mu.Unlock()
	if a != nil {
		a.stop(reason)
	}
	return nil
}

// Interrupt makes the attempts stopped from now on end promptly, for an
// interrupted run that will be resumed: each is reported ended once Nomad
// has deregistered its job, without waiting for its allocations or the
// rest of its output, or, when Nomad does not confirm that within the
// interrupt wait (it is unreachable or hangs), once the wait is over;
// its job may then still run, and a resume adopts it. No submission
// starts from then on: an attempt whose job was not yet sent waits,
// nothing of it registered, and its Stop ends it at once. Later calls do
// nothing.
func (d *Driver) Interrupt() {
	d.interruptOnce.Do(func() {
		close(d.interrupted)
		d.submissions.hold()
		go func() {
			select {
			case <-d.clock.After(d.interruptWait):
				d.hurryCancel()
			case <-d.ctx.Done():
			}
		}()
		d.mu.Lock()
		defer d.mu.Unlock()
		for _, a := range d.attempts {
			a.step()
		}
	})
}

// Unconfirmed lists the jobs of attempts ended by an interrupt whose stop
// Nomad had not confirmed in time: they may still run.
func (d *Driver) Unconfirmed() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.unconfirmed)
}

func (d *Driver) isInterrupted() bool {
	select {
	case <-d.interrupted:
		return true
	default:
		return false
	}
}

// Close stops every attempt still running, waits until each has ended and
// queued its EventExited (each within the stop wait), stops following the
// event stream and then closes the event channel (after those events are
// received). Later calls do nothing.
func (d *Driver) Close() error {
	d.closeOnce.Do(func() {
		d.events.DropReports()
		d.mu.Lock()
		d.closed = true
		running := make([]*attempt, 0, len(d.attempts))
		for _, a := range d.attempts {
			running = append(running, a)
		}
		d.mu.Unlock()
		for _, a := range running {
			a.stop(closeReason)
		}
		d.live.Wait()
		d.submissions.close()
		d.cancel()
		d.mu.Lock()
		started := d.watchStarted
		d.mu.Unlock()
		if started {
			<-d.watching
		}
		d.events.Close()
	})
	return nil
}

func (d *Driver) forgetLocked(a *attempt) {
	if d.attempts[a.key] == a {
		delete(d.attempts, a.key)
	}
	if d.byJob[a.jobID] == a {
		delete(d.byJob, a.jobID)
	}
}

// ownJob says whether the allocations of a job belong to one of this
// driver's running attempts.
func (d *Driver) ownJob(namespace, jobID string) bool {
	if ns := d.namespace(); ns != "" && namespace != "" && namespace != ns {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.byJob[jobID] != nil
}

// namespace is the experiment's namespace; empty leaves the client's.
func (d *Driver) namespace() string { return d.exp.Nomad.Namespace }

func (d *Driver) queryOpts(ctx context.Context, params map[string]string) *api.QueryOptions {
	q := &api.QueryOptions{Namespace: d.exp.Nomad.Namespace, Region: d.exp.Nomad.Region, Params: params}
	return q.WithContext(ctx)
}

func (d *Driver) writeOpts(ctx context.Context) *api.WriteOptions {
	q := &api.WriteOptions{Namespace: d.exp.Nomad.Namespace, Region: d.exp.Nomad.Region}
	return q.WithContext(ctx)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
