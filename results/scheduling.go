package results

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/nomad-tune/tune/planner"
)

// Scheduling is what the scheduler did, measured from the trials'
// histories: how long attempts took to run, how many ran at once, and how
// much of the target they held. It is computed from the records, so a
// resumed experiment's figures include the attempts of its earlier runs.
//
// Times are measured over the experiment's busy time: the time during
// which at least one attempt was in flight (admitted, or known to the
// target, and not ended). Time when nothing was, such as between a run
// that was interrupted and its resume, counts for nothing.
type Scheduling struct {
	// From is the first stage of the first attempt; To the end of the
	// last, or the time of the measure while any attempt is in flight.
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
	// BusyS is the busy time in seconds.
	BusyS float64 `json:"busy_s"`
	// Attempts counts the attempts measured; Ran those of them that ran.
	Attempts int `json:"attempts"`
	Ran      int `json:"ran"`
	// SubmitToRunning is from the target accepting an attempt (Nomad
	// registered its job) to every allocation of it running: the
	// target's own latency. AdmitToRunning is from tune deciding to start
	// it, and includes tune's submission. Each counts the attempts that
	// ran whose two times are known.
	SubmitToRunning Latency `json:"submit_to_running"`
	AdmitToRunning  Latency `json:"admit_to_running"`
	// Concurrency is how many attempts ran at once.
	Concurrency Concurrency `json:"concurrency"`
	// Utilisation is, for each resource the target has, the share of it
	// running attempts held over the busy time: CPU, memory, then
	// devices by name.
	Utilisation []Utilisation `json:"utilisation,omitempty"`
}

// Latency is the spread of a delay over attempts, in seconds. The
// percentiles are nearest-rank: P99S is a delay at least 99 % of the
// attempts did not exceed.
type Latency struct {
	Count int     `json:"count"`
	P50S  float64 `json:"p50_s"`
	P99S  float64 `json:"p99_s"`
	MaxS  float64 `json:"max_s"`
}

// Concurrency is how many attempts ran at once.
type Concurrency struct {
	// Peak is the most that ran at once; Mean the time-weighted mean over
	// the busy time.
	Peak int     `json:"peak"`
	Mean float64 `json:"mean"`
	// Series is the time-weighted mean in each of up to SeriesPoints
	// equal steps of StepS seconds from From to To, for a chart.
	StepS  float64   `json:"step_s,omitempty"`
	Series []float64 `json:"series,omitempty"`
}

// Utilisation is one resource's use by the experiment.
type Utilisation struct {
	// Resource is "cpu", "memory" or a device's "vendor/type"; Unit is
	// "cores", "MiB" or "devices".
	Resource string `json:"resource"`
	Unit     string `json:"unit"`
	// Capacity is what the target has (planner.Capacity's Total), Mean
	// what running attempts held on average over the busy time, and
	// Fraction the one over the other.
	Capacity float64 `json:"capacity"`
	Mean     float64 `json:"mean"`
	Fraction float64 `json:"fraction"`
}

// SeriesPoints is how many steps Concurrency.Series has at most: enough
// for a chart, small enough to write every second.
const SeriesPoints = 100

// Measure computes the scheduling figures of the records' histories,
// with capacity the target's resources and now the end of attempts still
// in flight; nil when no attempt has a known stage. It reads every
// attempt once and sorts them, so it is meant for summaries, not for
// every event.
func Measure(records []*TrialRecord, capacity planner.Amounts, now time.Time) *Scheduling {
	var (
		busy             []span
		edges            []edge
		submit, admitted []time.Duration
		held             heldTime
	)
	s := &Scheduling{}
	for _, r := range records {
		for i := range r.History {
			a := &r.History[i]
			stages := []time.Time{a.AdmittedAt, a.RegisteredAt, a.PlacedAt, a.RunningAt}
			start, last := known(stages)
			if start.IsZero() {
				continue
			}
			end := a.EndedAt
			if end.IsZero() {
				end = now
			}
			end = latest(end, last)
			s.Attempts++
			busy = append(busy, span{start, end})
			if a.RunningAt.IsZero() {
				continue
			}
			s.Ran++
			edges = append(edges, edge{a.RunningAt, 1}, edge{end, -1})
			held.add(a.Held, end.Sub(a.RunningAt))
			if !a.RegisteredAt.IsZero() {
				submit = append(submit, max(a.RunningAt.Sub(a.RegisteredAt), 0))
			}
			if !a.AdmittedAt.IsZero() {
				admitted = append(admitted, max(a.RunningAt.Sub(a.AdmittedAt), 0))
			}
		}
	}
	if s.Attempts == 0 {
		return nil
	}
	var busyTime time.Duration
	s.From, s.To, busyTime = union(busy)
	s.BusyS = busyTime.Seconds()
	s.SubmitToRunning = spread(submit)
	s.AdmitToRunning = spread(admitted)
	s.Concurrency = concurrency(edges, s.From, s.To, busyTime)
	s.Utilisation = held.utilisation(capacity, busyTime)
	return s
}

type span struct{ from, to time.Time }

// edge is an attempt starting (+1) or ending (-1) to run.
type edge struct {
	at    time.Time
	delta int
}

// known is the earliest and the latest of the times that are not zero.
func known(times []time.Time) (first, last time.Time) {
	for _, t := range times {
		if t.IsZero() {
			continue
		}
		if first.IsZero() || t.Before(first) {
			first = t
		}
		last = latest(last, t)
	}
	return first, last
}

func latest(a, b time.Time) time.Time {
	if a.Before(b) {
		return b
	}
	return a
}

// union is the first start, the last end and the total length of spans,
// overlaps counted once.
func union(spans []span) (from, to time.Time, total time.Duration) {
	sort.Slice(spans, func(i, j int) bool { return spans[i].from.Before(spans[j].from) })
	from = spans[0].from
	cur := spans[0]
	for _, sp := range spans[1:] {
		if sp.from.After(cur.to) {
			total += cur.to.Sub(cur.from)
			cur = sp
			continue
		}
		cur.to = latest(cur.to, sp.to)
	}
	total += cur.to.Sub(cur.from)
	for _, sp := range spans {
		to = latest(to, sp.to)
	}
	return from, to, total
}

// spread is the count, median, 99th percentile and largest of ds.
func spread(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	slices.Sort(ds)
	return Latency{
		Count: len(ds),
		P50S:  Percentile(ds, 50).Seconds(),
		P99S:  Percentile(ds, 99).Seconds(),
		MaxS:  ds[len(ds)-1].Seconds(),
	}
}

// Percentile is the nearest-rank p-th percentile (0 < p ≤ 100) of sorted
// durations: the smallest of them that at least p % of them do not
// exceed. 0 when there are none.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// concurrency sweeps the edges in time order: an attempt that ends when
// another starts does not run beside it.
func concurrency(edges []edge, from, to time.Time, busy time.Duration) Concurrency {
	var c Concurrency
	if len(edges) == 0 {
		return c
	}
	sort.Slice(edges, func(i, j int) bool {
		if !edges[i].at.Equal(edges[j].at) {
			return edges[i].at.Before(edges[j].at)
		}
		return edges[i].delta < edges[j].delta
	})
	width := to.Sub(from)
	var bins []float64
	var step time.Duration
	if width > 0 {
		// Rounded up, so that the steps never outnumber SeriesPoints.
		step = (width + SeriesPoints - 1) / SeriesPoints
		bins = make([]float64, (width+step-1)/step)
	}
	var area float64 // attempt-seconds
	running := 0
	for i, e := range edges {
		if i > 0 && running > 0 {
			prev := edges[i-1].at
			area += float64(running) * e.at.Sub(prev).Seconds()
			addArea(bins, step, prev.Sub(from), e.at.Sub(from), float64(running))
		}
		running += e.delta
		c.Peak = max(c.Peak, running)
	}
	if busy > 0 {
		c.Mean = area / busy.Seconds()
	}
	if len(bins) > 0 {
		c.StepS = step.Seconds()
		c.Series = bins
		for i := range bins {
			bins[i] /= c.StepS
		}
		// The last step may be cut short by To.
		if last := width - step*time.Duration(len(bins)-1); last > 0 && last < step {
			bins[len(bins)-1] *= step.Seconds() / last.Seconds()
		}
	}
	return c
}

// addArea adds level × the overlap of [a, b) with each step to the bins.
func addArea(bins []float64, step, a, b time.Duration, level float64) {
	for a < b && len(bins) > 0 {
		i := min(int(a/step), len(bins)-1)
		end := min(time.Duration(i+1)*step, b)
		if i == len(bins)-1 {
			end = b
		}
		bins[i] += level * (end - a).Seconds()
		a = end
	}
}

// heldTime is resource-seconds: what running attempts held, times how
// long.
type heldTime struct {
	cpu, memory float64
	devices     map[string]float64
}

func (h *heldTime) add(a planner.Amounts, d time.Duration) {
	secs := d.Seconds()
	h.cpu += a.CPU * secs
	h.memory += a.MemoryMiB * secs
	for k, n := range a.Devices {
		if h.devices == nil {
			h.devices = map[string]float64{}
		}
		h.devices[k] += n * secs
	}
}

// utilisation sets what was held against the capacity over the busy
// time, for each resource the target has.
func (h *heldTime) utilisation(capacity planner.Amounts, busy time.Duration) []Utilisation {
	var out []Utilisation
	add := func(resource, unit string, total, used float64) {
		if total <= 0 {
			return
		}
		u := Utilisation{Resource: resource, Unit: unit, Capacity: total}
		if busy > 0 {
			u.Mean = used / busy.Seconds()
			u.Fraction = u.Mean / total
		}
		out = append(out, u)
	}
	add("cpu", "cores", capacity.CPU, h.cpu)
	add("memory", "MiB", capacity.MemoryMiB, h.memory)
	kinds := make([]string, 0, len(capacity.Devices))
	for k := range capacity.Devices {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		add(k, "devices", capacity.Devices[k], h.devices[k])
	}
	return out
}

// Fact is one line of the figures for people: what it is and its value.
type Fact struct {
	Name string
	Text string
}

// Facts are the figures as `tune results` and the report page show them.
func (s *Scheduling) Facts() []Fact {
	latency := func(l Latency) string {
		if l.Count == 0 {
			return "not known"
		}
		return fmt.Sprintf("p50 %s, p99 %s, max %s (%s)", Seconds(l.P50S), Seconds(l.P99S), Seconds(l.MaxS), count(l.Count, "attempt"))
	}
	facts := []Fact{
		{"attempts that ran", fmt.Sprintf("%d of %d, over %s busy", s.Ran, s.Attempts, Seconds(s.BusyS))},
		{"submitted → running", latency(s.SubmitToRunning)},
		{"admitted → running", latency(s.AdmitToRunning)},
		{"running at once", fmt.Sprintf("peak %d, mean %s", s.Concurrency.Peak, strconv.FormatFloat(s.Concurrency.Mean, 'f', 1, 64))},
	}
	for _, u := range s.Utilisation {
		v, unit := u.Capacity, u.Unit
		if unit == "MiB" && v >= 1024 {
			v, unit = v/1024, "GiB"
		}
		facts = append(facts, Fact{u.Resource, fmt.Sprintf("%.1f%% of %s %s", 100*u.Fraction, strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64), unit)})
	}
	return facts
}

func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// Seconds is a duration in seconds as Go writes a duration, rounded to
// what a person reads: milliseconds under a second, hundredths under a
// minute, whole seconds above.
func Seconds(s float64) string {
	d := time.Duration(s * float64(time.Second))
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
