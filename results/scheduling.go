package results

import (
	"cmp"
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
	// Times are Unix nanoseconds: sorting int64s is several times faster
	// than sorting time.Time, which matters at 100,000 trials a second.
	busy := make([]span, 0, len(records))
	edges := make([]int64, 0, 2*len(records))
	submit := make([]time.Duration, 0, len(records))
	admitted := make([]time.Duration, 0, len(records))
	var held heldTime
	s := &Scheduling{}
	end := now.UnixNano()
	for _, r := range records {
		for i := range r.History {
			a := &r.History[i]
			admit, reg, run := nanos(a.AdmittedAt), nanos(a.RegisteredAt), nanos(a.RunningAt)
			start, last := known(admit, reg, nanos(a.PlacedAt), run)
			if last == 0 {
				continue
			}
			to := end
			if !a.EndedAt.IsZero() {
				to = a.EndedAt.UnixNano()
			}
			to = max(to, last)
			s.Attempts++
			busy = append(busy, span{start, to})
			if run == 0 {
				continue
			}
			s.Ran++
			edges = append(edges, edgeAt(run, 1), edgeAt(to, -1))
			held.add(a.Held, time.Duration(to-run))
			if reg != 0 {
				submit = append(submit, time.Duration(max(run-reg, 0)))
			}
			if admit != 0 {
				admitted = append(admitted, time.Duration(max(run-admit, 0)))
			}
		}
	}
	if s.Attempts == 0 {
		return nil
	}
	from, to, busyTime := union(busy)
	s.From, s.To = time.Unix(0, from).In(now.Location()), time.Unix(0, to).In(now.Location())
	s.BusyS = busyTime.Seconds()
	s.SubmitToRunning = spread(submit)
	s.AdmitToRunning = spread(admitted)
	s.Concurrency = concurrency(edges, from, to, busyTime)
	s.Utilisation = held.utilisation(capacity, busyTime)
	return s
}

// span is from and to in Unix nanoseconds.
type span struct{ from, to int64 }

// nanos is t in Unix nanoseconds, 0 for the zero time.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// known is the earliest and the latest of the times that are not 0.
func known(times ...int64) (first, last int64) {
	for _, t := range times {
		if t == 0 {
			continue
		}
		if first == 0 || t < first {
			first = t
		}
		last = max(last, t)
	}
	return first, last
}

// An edge is an attempt starting (+1) or ending (-1) to run at a time in
// Unix nanoseconds, packed into one int64 that sorts by time with ends
// first among equals: an attempt that ends when another starts does not
// run beside it.
func edgeAt(t int64, delta int) int64 {
	if delta > 0 {
		return t<<1 | 1
	}
	return t << 1
}

func edgeOf(e int64) (t int64, delta int) {
	if e&1 == 1 {
		return e >> 1, 1
	}
	return e >> 1, -1
}

// union is the first start, the last end and the total length of spans,
// overlaps counted once.
func union(spans []span) (from, to int64, total time.Duration) {
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.from, b.from) })
	from = spans[0].from
	cur := spans[0]
	for _, sp := range spans[1:] {
		if sp.from > cur.to {
			total += time.Duration(cur.to - cur.from)
			cur = sp
			continue
		}
		cur.to = max(cur.to, sp.to)
	}
	total += time.Duration(cur.to - cur.from)
	for _, sp := range spans {
		to = max(to, sp.to)
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

// concurrency sweeps the edges in time order.
func concurrency(edges []int64, from, to int64, busy time.Duration) Concurrency {
	var c Concurrency
	if len(edges) == 0 {
		return c
	}
	slices.Sort(edges)
	width := time.Duration(to - from)
	var bins []float64
	var step time.Duration
	if width > 0 {
		// Rounded up, so that the steps never outnumber SeriesPoints.
		step = (width + SeriesPoints - 1) / SeriesPoints
		bins = make([]float64, (width+step-1)/step)
	}
	var area float64 // attempt-seconds
	running := 0
	prev := from
	for _, e := range edges {
		at, delta := edgeOf(e)
		if running > 0 {
			area += float64(running) * time.Duration(at-prev).Seconds()
			addArea(bins, step, time.Duration(prev-from), time.Duration(at-from), float64(running))
		}
		prev = at
		running += delta
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
