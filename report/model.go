package report

import (
	"bufio"
	"bytes"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/nomad-tune/tune/pyjson"
	"github.com/nomad-tune/tune/results"
)

// errorLines is how many of the last lines of error.txt the page shows
// for an errored trial.
const errorLines = 8

// Model is everything the page shows, computed once from the results
// folder. Its JSON is what the structure tests compare.
type Model struct {
	// Summary and Trials' records are what results.Load returns, the data
	// tune results prints.
	Summary *results.Summary `json:"summary"`
	Plan    *Plan            `json:"plan,omitempty"`
	Trials  []*Trial         `json:"trials"`
	// Params are the experiment's parameters in order.
	Params []Param `json:"params"`
	// Best is the best trial's ID, empty when no finished trial reported
	// the metric.
	Best string `json:"best,omitempty"`
	// BestSoFar has one point per finished trial with a metric, in the
	// order they finished.
	BestSoFar []BestPoint `json:"best_so_far"`
	// Schedule is the number of trials running, and what they held, at
	// every start and end.
	Schedule []Step `json:"schedule"`
	// Generated is when the model was built; the clock of the schedule's
	// running trials.
	Generated time.Time `json:"generated"`
}

// Trial is one trial's record with its curve.
type Trial struct {
	*results.TrialRecord
	// Curve is the metric at each report of the last attempt.
	Curve []Point `json:"curve,omitempty"`
	// Stopped says a stop rule or scheduler ended the trial early.
	Stopped bool `json:"stopped,omitempty"`
	// ErrorTail is the end of error.txt for an errored trial.
	ErrorTail []string `json:"error_tail,omitempty"`
	JobID     string   `json:"job_id,omitempty"`
}

// Point is one report: its training_iteration, time_total_s and metric.
type Point struct {
	Iteration float64 `json:"iter"`
	Seconds   float64 `json:"t"`
	Value     float64 `json:"v"`
}

// Param is one parameter of the search space as the page plots it.
type Param struct {
	Name string `json:"name"`
	// Log is true for log distributions: their axes are logarithmic.
	Log bool `json:"log,omitempty"`
	// Numeric is false when some value is not a number (a choice of
	// strings): the plot then has one column per value.
	Numeric bool `json:"numeric"`
}

// BestPoint is the best metric after a trial finished.
type BestPoint struct {
	Finished int     `json:"finished"`
	Seconds  float64 `json:"t"`
	Value    float64 `json:"v"`
	Trial    string  `json:"trial"`
}

// Step is the state of the target from one start or end to the next.
type Step struct {
	Seconds float64   `json:"t"`
	Running int       `json:"running"`
	Used    Resources `json:"used"`
}

// Build reads experiment name under root into a Model. now ends the
// schedule of trials still running.
func Build(root, name string, now time.Time) (*Model, error) {
	sum, records, err := results.Load(root, name)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(root, name)
	plan, err := readPlan(dir)
	if err != nil {
		return nil, err
	}
	m := &Model{Summary: sum, Plan: plan, Trials: make([]*Trial, len(records)), Generated: now.UTC(), BestSoFar: []BestPoint{}, Schedule: []Step{}}
	parallel(len(records), func(i int) {
		m.Trials[i] = readTrial(dir, records[i], sum.Metric, plan)
	})
	m.Params = params(records, plan)
	if sum.Metric != "" {
		if best := results.Best(records, sum.Metric, sum.Mode); best != nil {
			m.Best = best.ID
		}
	}
	start := sum.StartedAt
	if start.IsZero() {
		start = earliestStart(records)
	}
	m.BestSoFar = bestSoFar(records, sum.Metric, sum.Mode, start)
	m.Schedule = schedule(records, plan, start, now)
	return m, nil
}

func readTrial(dir string, rec *results.TrialRecord, metric string, plan *Plan) *Trial {
	t := &Trial{TrialRecord: rec, Stopped: rec.StopReason != ""}
	if plan != nil {
		t.JobID = plan.Trials[rec.ID].JobID
	}
	if metric != "" {
		t.Curve = readCurve(filepath.Join(dir, rec.ID, results.ResultFile), metric)
	}
	if rec.Status == results.Error {
		t.ErrorTail = lastLines(filepath.Join(dir, rec.ID, results.ErrorFile), errorLines)
		if len(t.ErrorTail) == 0 && rec.Error != "" {
			t.ErrorTail = strings.Split(rec.Error, "\n")
		}
	}
	return t
}

// readCurve reads the metric of every whole line of result.json; lines
// without the metric as a finite number are left out of the curve.
func readCurve(path, metric string) []Point {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[:i+1]
	} else {
		return nil
	}
	var curve []Point
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64*1024), len(b)+1)
	for sc.Scan() {
		var row pyjson.Object
		if pyjson.Unmarshal(sc.Bytes(), &row) != nil {
			continue
		}
		v, ok := results.MetricValue(row, metric)
		if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		it, _ := results.Number(row[results.FieldTrainingIteration])
		secs, _ := results.Number(row[results.FieldTimeTotal])
		curve = append(curve, Point{Iteration: it, Seconds: secs, Value: v})
	}
	return curve
}

// lastLines returns the last n non-empty lines of a file, cleaned of
// terminal escapes.
func lastLines(path string, n int) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimRight(results.CleanLine(l), " \t\r"); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

func params(records []*results.TrialRecord, plan *Plan) []Param {
	logs := map[string]bool{}
	if plan != nil {
		for _, n := range plan.LogParams {
			logs[n] = true
		}
	}
	numeric := map[string]bool{}
	for _, r := range records {
		for k, v := range r.Params {
			_, isNum := results.Number(v)
			if prev, seen := numeric[k]; seen {
				numeric[k] = prev && isNum
			} else {
				numeric[k] = isNum
			}
		}
	}
	out := make([]Param, 0, len(numeric))
	for k, num := range numeric {
		out = append(out, Param{Name: k, Log: logs[k] && num, Numeric: num})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func earliestStart(records []*results.TrialRecord) time.Time {
	var start time.Time
	for _, r := range records {
		if !r.StartedAt.IsZero() && (start.IsZero() || r.StartedAt.Before(start)) {
			start = r.StartedAt
		}
	}
	return start
}

// bestSoFar walks the finished trials in the order they finished.
func bestSoFar(records []*results.TrialRecord, metric, mode string, start time.Time) []BestPoint {
	out := []BestPoint{}
	if metric == "" {
		return out
	}
	var done []*results.TrialRecord
	for _, r := range records {
		if r.Status.Finished() && !r.FinishedAt.IsZero() {
			done = append(done, r)
		}
	}
	sort.SliceStable(done, func(i, j int) bool { return done[i].FinishedAt.Before(done[j].FinishedAt) })
	var best *results.TrialRecord
	for i, r := range done {
		candidates := []*results.TrialRecord{r}
		if best != nil {
			candidates = append(candidates, best)
		}
		// Best breaks ties by index; the earlier best stays when equal.
		if b := results.Best(candidates, metric, mode); b != nil {
			best = b
		}
		if best == nil {
			continue
		}
		v, _ := results.MetricValue(best.LastResult, metric)
		out = append(out, BestPoint{Finished: i + 1, Seconds: r.FinishedAt.Sub(start).Seconds(), Value: v, Trial: best.ID})
	}
	return out
}

// schedule replays the trials' starts and ends: how many ran, and what
// they held, from each change to the next. A trial's attempts run from
// their running_at to their ended_at, as their history says; an attempt
// the history does not hold yet (it is written when the attempt ends) or
// a trial recorded before tune kept one runs from its start to its end.
// What still runs ends at now.
func schedule(records []*results.TrialRecord, plan *Plan, start, now time.Time) []Step {
	type event struct {
		at    time.Time
		delta int
		res   Resources
	}
	var events []event
	add := func(from, to time.Time, running bool, res Resources) {
		if running || to.Before(from) {
			to = now
		}
		events = append(events, event{from, 1, res}, event{to, -1, res})
	}
	for _, r := range records {
		var res Resources
		if plan != nil {
			res = plan.Trials[r.ID].Resources
		}
		for _, a := range r.History {
			if !a.RunningAt.IsZero() {
				add(a.RunningAt, a.EndedAt, a.EndedAt.IsZero(), res)
			}
		}
		latest := r.Latest()
		switch {
		case r.StartedAt.IsZero():
		case latest == nil:
			add(r.StartedAt, r.FinishedAt, r.Status == results.Running, res)
		case r.Status == results.Running && !latest.EndedAt.IsZero():
			// The attempt in flight, whose history is written when it
			// ends.
			add(r.StartedAt, now, true, res)
		}
	}
	sort.SliceStable(events, func(i, j int) bool {
		if !events[i].at.Equal(events[j].at) {
			return events[i].at.Before(events[j].at)
		}
		return events[i].delta < events[j].delta
	})
	out := []Step{}
	var cur Step
	for i, e := range events {
		cur.Running += e.delta
		d := float64(e.delta)
		cur.Used.CPU += d * e.res.CPU
		cur.Used.MemoryMiB += d * e.res.MemoryMiB
		cur.Used.GPU += d * e.res.GPU
		if i+1 < len(events) && events[i+1].at.Equal(e.at) {
			continue
		}
		cur.Seconds = e.at.Sub(start).Seconds()
		out = append(out, cur)
	}
	return out
}

// parallel runs fn for 0..n-1 on a few goroutines: reading ten thousand
// result.json files one after the other is slow on a network disk.
func parallel(n int, fn func(i int)) {
	const workers = 8
	next := make(chan int)
	done := make(chan struct{})
	for range min(workers, n) {
		go func() {
			for i := range next {
				fn(i)
			}
			done <- struct{}{}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	for range min(workers, n) {
		<-done
	}
}
