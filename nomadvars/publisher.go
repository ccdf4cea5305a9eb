package nomadvars

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad/api"

	"github.com/nomad-tune/tune/clock"
	"github.com/nomad-tune/tune/controller"
	"github.com/nomad-tune/tune/jobs"
	"github.com/nomad-tune/tune/results"
)

// DefaultInterval is the least time between two writes of one Variable
// while nothing ends: the UI stays current without a write per report.
const DefaultInterval = 5 * time.Second

// maxLatest bounds the reported keys a trial's Variable mirrors, so that
// a trainer reporting hundreds of keys stays well under Nomad's 64 KiB
// per Variable.
const maxLatest = 40

// Options say where a Publisher writes.
type Options struct {
	// Client is tune's Nomad client; its connection budget is shared.
	Client *api.Client
	// Experiment names the experiment; Namespace and Region are its.
	Experiment string
	Namespace  string
	Region     string
	// Groups name each trial's first task group, by trial ID: its
	// Variable is the group's (nomad/jobs/<job id>/<group>), which the
	// job page's Variables tab shows, because nomad/jobs/<job id> itself
	// holds the rendezvous of ranks that the driver rewrites and deletes.
	// A trial not named here is taken to have the default group "trial".
	Groups map[string]string
	// Interval is the least time between writes of one Variable; 0 is
	// DefaultInterval.
	Interval time.Duration
	Clock    clock.Clock
	Logger   hclog.Logger
}

// Publisher writes the Variables. The controller calls it from its loop;
// one goroutine of its own does the writing, so the loop never waits on
// Nomad.
type Publisher struct {
	opts Options
	log  hclog.Logger

	mu    sync.Mutex
	vars  map[string]*variable
	order []string
	best  map[string]best
	// outcome is how the experiment ended, once it has.
	outcome string
	// denied is set once Nomad refused a write for lack of permission;
	// nothing is written after it.
	denied bool

	// written, when set (by tests), hears the path of every write that
	// Nomad accepted.
	written chan<- string

	wake chan struct{}
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

var _ controller.Reporter = (*Publisher)(nil)

// best is a trial's best value of the metric so far and the iteration
// that reported it.
type best struct {
	value     float64
	iteration int
}

// variable is one Variable's wanted content and what was last written.
type variable struct {
	path    string
	items   api.VariableItems
	dirty   bool
	urgent  bool
	written time.Time
	index   uint64
}

// New starts a Publisher; Close flushes it and stops it.
func New(opts Options) *Publisher { return start(opts, nil) }

func start(opts Options, written chan<- string) *Publisher {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	p := &Publisher{
		opts: opts, log: opts.Logger.Named("nomadvars"),
		vars: map[string]*variable{}, best: map[string]best{},
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		written: written,
	}
	go p.run()
	return p
}

// defaultGroup is the task group of a trial whose experiment names none.
const defaultGroup = "trial"

// variablePathRE is what Nomad accepts as a Variable's path.
var variablePathRE = regexp.MustCompile(`^[a-zA-Z0-9-_~/]{1,128}$`)

// TrialPath is the Variable of a trial whose job's first task group is
// group, and whether Nomad can hold it (a job ID with a '.', from the
// experiment's name, or too long cannot name a Variable).
func TrialPath(experiment, trialID, group string) (string, bool) {
	if group == "" {
		group = defaultGroup
	}
	p := "nomad/jobs/" + jobs.JobID(experiment, trialID) + "/" + group
	return p, variablePathRE.MatchString(p)
}

// Changed records the trial and the experiment as they are after c.
func (p *Publisher) Changed(c controller.Change, s *controller.Snapshot) {
	// An end changes the counts and perhaps the best trial: the summary
	// is written with the trial.
	ended := c.Kind == controller.TrialFinished || c.Kind == controller.TrialStopped || c.Kind == controller.TrialFailed
	p.mu.Lock()
	if c.Trial.ID != "" {
		if path, ok := TrialPath(p.opts.Experiment, c.Trial.ID, p.opts.Groups[c.Trial.ID]); ok {
			t := c.Trial
			if c.Kind == controller.TrialStopped && t.StopReason == "" {
				// A trial that tune stopped to run again later (tune
				// stop, an interrupt) is PENDING: the UI says why.
				t.StopReason = c.Message
			}
			p.set(path, p.trialItems(t, s), ended)
		}
	}
	if c.Kind == controller.ExperimentDone {
		p.outcome = c.Message
	}
	p.set(jobs.SummaryPath(p.opts.Experiment), p.summaryItems(s), ended || c.Kind == controller.ExperimentDone)
	p.mu.Unlock()
	p.poke()
}

// Tick changes nothing worth a write: the summary is written on changes.
func (p *Publisher) Tick(*controller.Snapshot) {}

// Done records the final summary; Close writes it.
func (p *Publisher) Done(s *controller.Snapshot) {
	p.mu.Lock()
	p.set(jobs.SummaryPath(p.opts.Experiment), p.summaryItems(s), true)
	p.mu.Unlock()
	p.poke()
}

// Close writes what is not written yet, while ctx allows, and stops.
func (p *Publisher) Close(ctx context.Context) {
	p.once.Do(func() { close(p.stop) })
	<-p.done
	p.flush(ctx, true)
}

// set makes items the wanted content of path; urgent ones are written at
// once, the others within the interval.
func (p *Publisher) set(path string, items api.VariableItems, urgent bool) {
	v := p.vars[path]
	if v == nil {
		v = &variable{path: path}
		p.vars[path] = v
		p.order = append(p.order, path)
	}
	v.items, v.dirty = items, true
	v.urgent = v.urgent || urgent
}

func (p *Publisher) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *Publisher) run() {
	defer close(p.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-p.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		next := p.flush(ctx, false)
		var timer <-chan time.Time
		if next > 0 {
			timer = p.opts.Clock.After(next)
		}
		select {
		case <-p.stop:
			return
		case <-p.wake:
		case <-timer:
		}
	}
}

// flush writes every Variable that is due (all that changed, when all is
// set) and says how long until the next one is; 0 when none waits.
func (p *Publisher) flush(ctx context.Context, all bool) time.Duration {
	for {
		p.mu.Lock()
		if p.denied {
			p.mu.Unlock()
			return 0
		}
		now := p.opts.Clock.Now()
		var due *variable
		var items api.VariableItems
		var next time.Duration
		for _, path := range p.order {
			v := p.vars[path]
			if !v.dirty {
				continue
			}
			wait := v.written.Add(p.opts.Interval).Sub(now)
			if all || v.urgent || v.written.IsZero() || wait <= 0 {
				due, items = v, v.items
				break
			}
			if next == 0 || wait < next {
				next = wait
			}
		}
		if due == nil {
			p.mu.Unlock()
			return next
		}
		due.dirty, due.urgent, due.written = false, false, now
		index := due.index
		p.mu.Unlock()

		index, err := p.write(ctx, due.path, items, index)
		p.mu.Lock()
		switch {
		case err == nil:
			due.index = index
			p.mu.Unlock()
			if p.written != nil {
				p.written <- due.path
			}
			continue
		case denied(err):
			p.denied = true
			p.log.Warn("the Nomad token may not write Variables, so the Nomad UI will not show trial metrics; grant the variables capabilities write and read on paths \"nomad/jobs/*\" and \"tune/*\"",
				"path", due.path, "error", err)
			p.mu.Unlock()
			return 0
		}
		// Tried again after the interval, with whatever is newest then.
		due.dirty = true
		p.mu.Unlock()
		// Not a warning: an outage of Nomad is told once by the driver,
		// and a write that Close cut short is made again by Close.
		p.log.Debug("cannot write a Nomad Variable; trying again", "path", due.path, "error", err)
		return p.opts.Interval
	}
}

// write puts items at path with check-and-set against index, the last
// index tune wrote (0: none). tune is the only writer of its Variables, so
// a conflict (a write whose answer was lost, a Variable deleted or edited
// by hand) is settled by writing again over what is there.
func (p *Publisher) write(ctx context.Context, path string, items api.VariableItems, index uint64) (uint64, error) {
	q := (&api.WriteOptions{Namespace: p.opts.Namespace, Region: p.opts.Region}).WithContext(ctx)
	for round := 0; round < 3; round++ {
		v := &api.Variable{Path: path, Namespace: p.opts.Namespace, Items: items, ModifyIndex: index}
		var out *api.Variable
		var err error
		if index == 0 {
			out, _, err = p.opts.Client.Variables().CheckedCreate(v, q)
		} else {
			out, _, err = p.opts.Client.Variables().CheckedUpdate(v, q)
		}
		var cas api.ErrCASConflict
		if errors.As(err, &cas) {
			index = 0
			if cas.Conflict != nil {
				index = cas.Conflict.ModifyIndex
			}
			continue
		}
		if err != nil {
			return 0, err
		}
		return out.ModifyIndex, nil
	}
	return 0, fmt.Errorf("the Variable %s keeps changing while tune writes it", path)
}

func denied(err error) bool {
	var resp api.UnexpectedResponseError
	return errors.As(err, &resp) && resp.StatusCode() == http.StatusForbidden
}

// trialItems is a trial's Variable: its status and why it ended, and its
// latest and best values.
func (p *Publisher) trialItems(t controller.TrialView, s *controller.Snapshot) api.VariableItems {
	items := api.VariableItems{
		"trial_id":   t.ID,
		"experiment": s.Experiment,
		"status":     statusText(t.Status),
		"attempt":    strconv.Itoa(t.Attempt + 1),
		"iteration":  strconv.Itoa(t.Iterations),
	}
	if t.StopReason != "" {
		items["stop_reason"] = t.StopReason
	}
	if t.Error != "" {
		items["error"] = firstLine(t.Error)
	}
	keys := make([]string, 0, len(t.Last))
	for k := range t.Last {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	n := 0
	for _, k := range keys {
		text, ok := valueText(t.Last[k])
		if !ok || n >= maxLatest && k != s.Metric {
			continue
		}
		items["latest_"+k] = text
		n++
	}
	if s.Metric == "" {
		return items
	}
	items["metric"] = s.Metric + " (" + s.Mode + ")"
	if v, ok := t.Last[s.Metric].(float64); ok && !math.IsNaN(v) {
		b, seen := p.best[t.ID]
		if !seen || (s.Mode == "max" && v > b.value) || (s.Mode != "max" && v < b.value) {
			p.best[t.ID] = best{value: v, iteration: t.Iterations}
		}
	}
	if b, ok := p.best[t.ID]; ok {
		items["best_"+s.Metric] = numberText(b.value)
		items["best_iteration"] = strconv.Itoa(b.iteration)
	}
	return items
}

// summaryItems is the experiment's summary Variable.
func (p *Publisher) summaryItems(s *controller.Snapshot) api.VariableItems {
	experiment := p.opts.Experiment
	finished := s.Terminated + s.Errored
	state := "running"
	if p.outcome != "" {
		state = p.outcome
	}
	items := api.VariableItems{
		"state":      state,
		"experiment": experiment,
		"progress":   fmt.Sprintf("%d of %d trials finished", finished, s.Total),
		"pending":    strconv.Itoa(s.Pending),
		"running":    strconv.Itoa(s.Running),
		"terminated": strconv.Itoa(s.Terminated),
		"error":      strconv.Itoa(s.Errored),
		"total":      strconv.Itoa(s.Total),
		"elapsed":    s.Elapsed.Round(time.Second).String(),
		"jobs":       jobs.JobsListPath(experiment),
	}
	if s.TimeBudget > 0 {
		items["time_budget"] = s.TimeBudget.String()
	}
	if s.Metric != "" {
		items["metric"] = s.Metric + " (" + s.Mode + ")"
	}
	if b := s.Best; b != nil {
		items["best_trial"] = b.ID
		items["best_job"] = jobs.JobID(experiment, b.ID)
		if text, ok := valueText(b.Last[s.Metric]); ok {
			items["best_"+s.Metric] = text
		}
		if params, err := json.Marshal(b.Params); err == nil {
			items["best_params"] = string(params)
		}
	}
	return items
}

// statusText is a trial's status as the UI shows it: a pending trial is
// waiting, not failing, whether tune or Nomad holds it back.
func statusText(s results.Status) string {
	switch s {
	case results.Pending:
		return "PENDING (waiting to run: queued in tune or in Nomad)"
	case results.Error:
		return "ERROR"
	}
	return string(s)
}

// valueText is a reported value as text; false for what is not a number,
// a string or a bool (lists and objects stay in result.json).
func valueText(v any) (string, bool) {
	switch v := v.(type) {
	case float64:
		return numberText(v), true
	case string:
		return v, true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

// numberText writes a number as encoding/json does: plain digits from
// 1e-6 to 1e21 (a Unix timestamp stays readable), exponent notation
// outside.
func numberText(v float64) string {
	if a := math.Abs(v); a == 0 || (a >= 1e-6 && a < 1e21) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// firstLine keeps the first line of an error: the rest is stderr, which
// belongs in the allocation's logs.
func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}
