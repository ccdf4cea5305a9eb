package results

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/planner"
)

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// at is epoch plus s seconds.
func at(s float64) time.Time { return epoch.Add(time.Duration(s * float64(time.Second))) }

func secs(ss ...float64) []time.Duration {
	out := make([]time.Duration, len(ss))
	for i, s := range ss {
		out[i] = time.Duration(s * float64(time.Second))
	}
	return out
}

func TestPercentile(t *testing.T) {
	hundred := make([]float64, 100)
	for i := range hundred {
		hundred[i] = float64(i + 1)
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"nothing has no percentile", nil, 50, 0},
		{"one value is every percentile", secs(7), 99, secs(7)[0]},
		{"the median of an even count is the lower middle", secs(1, 2, 3, 4), 50, secs(2)[0]},
		{"the median of an odd count is the middle", secs(1, 2, 3), 50, secs(2)[0]},
		{"p99 of a hundred is the 99th", secs(hundred...), 99, secs(99)[0]},
		{"p99 of ten is the largest", secs(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, secs(10)[0]},
		{"p100 is the largest", secs(1, 5, 9), 100, secs(9)[0]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Percentile(tt.sorted, tt.p))
		})
	}
}

// ran is an attempt admitted at a, registered at r, placed at p, running
// at run and ended at end (seconds; negative leaves a stage out), holding
// held.
func ran(a, r, p, run, end float64, held planner.Amounts) AttemptTimes {
	stage := func(s float64) time.Time {
		if s < 0 {
			return time.Time{}
		}
		return at(s)
	}
	return AttemptTimes{AdmittedAt: stage(a), RegisteredAt: stage(r), PlacedAt: stage(p), RunningAt: stage(run), EndedAt: stage(end), Held: held}
}

func trial(history ...AttemptTimes) *TrialRecord { return &TrialRecord{History: history} }

var (
	oneGPU   = planner.Amounts{CPU: 2, MemoryMiB: 1024, Devices: map[string]float64{"nvidia/gpu": 1}}
	cpuOnly  = planner.Amounts{CPU: 1, MemoryMiB: 512}
	capacity = planner.Amounts{CPU: 4, MemoryMiB: 4096, Devices: map[string]float64{"nvidia/gpu": 2}}
)

// use is the utilisation of capacity when running attempts held cpu
// cores, memory MiB and gpu GPUs on average.
func use(cpu, memory, gpu float64) []Utilisation {
	return []Utilisation{
		{Resource: "cpu", Unit: "cores", Capacity: 4, Mean: cpu, Fraction: cpu / 4},
		{Resource: "memory", Unit: "MiB", Capacity: 4096, Mean: memory, Fraction: memory / 4096},
		{Resource: "nvidia/gpu", Unit: "devices", Capacity: 2, Mean: gpu, Fraction: gpu / 2},
	}
}

func TestMeasure(t *testing.T) {
	tests := []struct {
		name    string
		records []*TrialRecord
		now     time.Time
		want    *Scheduling
	}{
		{"no attempts measure nothing", []*TrialRecord{{}, {}}, at(100), nil},
		{"an attempt with no known stage is left out", []*TrialRecord{trial(AttemptTimes{EndedAt: at(5)})}, at(100), nil},
		{
			"one trial holds what it was given while it runs",
			[]*TrialRecord{trial(ran(0, 1, 2, 3, 13, oneGPU))}, at(100),
			&Scheduling{
				From: at(0), To: at(13), BusyS: 13, Attempts: 1, Ran: 1,
				SubmitToRunning: Latency{Count: 1, P50S: 2, P99S: 2, MaxS: 2},
				AdmitToRunning:  Latency{Count: 1, P50S: 3, P99S: 3, MaxS: 3},
				Concurrency:     Concurrency{Peak: 1, Mean: 10.0 / 13},
				Utilisation:     use(20.0/13, 10240.0/13, 10.0/13),
			},
		},
		{
			"overlapping attempts run at once and their spans count once",
			[]*TrialRecord{trial(ran(0, 0, 0, 0, 10, oneGPU)), trial(ran(0, 1, 1, 5, 15, oneGPU))}, at(100),
			&Scheduling{
				From: at(0), To: at(15), BusyS: 15, Attempts: 2, Ran: 2,
				SubmitToRunning: Latency{Count: 2, P50S: 0, P99S: 4, MaxS: 4},
				AdmitToRunning:  Latency{Count: 2, P50S: 0, P99S: 5, MaxS: 5},
				Concurrency:     Concurrency{Peak: 2, Mean: 20.0 / 15},
				Utilisation:     use(40.0/15, 20480.0/15, 20.0/15),
			},
		},
		{
			"an attempt that starts when another ends does not run beside it",
			[]*TrialRecord{trial(ran(0, 0, 0, 0, 10, cpuOnly)), trial(ran(0, 0, 0, 10, 20, cpuOnly))}, at(100),
			&Scheduling{
				From: at(0), To: at(20), BusyS: 20, Attempts: 2, Ran: 2,
				SubmitToRunning: Latency{Count: 2, P50S: 0, P99S: 10, MaxS: 10},
				AdmitToRunning:  Latency{Count: 2, P50S: 0, P99S: 10, MaxS: 10},
				Concurrency:     Concurrency{Peak: 1, Mean: 1},
				Utilisation:     use(1, 512, 0),
			},
		},
		{
			"time when nothing was in flight is not busy",
			[]*TrialRecord{trial(ran(0, 0, 0, 0, 10, cpuOnly), ran(1000, 1000, 1000, 1000, 1010, cpuOnly))}, at(2000),
			&Scheduling{
				From: at(0), To: at(1010), BusyS: 20, Attempts: 2, Ran: 2,
				SubmitToRunning: Latency{Count: 2},
				AdmitToRunning:  Latency{Count: 2},
				Concurrency:     Concurrency{Peak: 1, Mean: 1},
				Utilisation:     use(1, 512, 0),
			},
		},
		{
			"an attempt in flight runs until now, and one that never ran is busy but not running",
			[]*TrialRecord{trial(ran(0, 1, -1, -1, 4, cpuOnly)), trial(ran(2, 3, 3, 5, -1, cpuOnly))}, at(10),
			&Scheduling{
				From: at(0), To: at(10), BusyS: 10, Attempts: 2, Ran: 1,
				SubmitToRunning: Latency{Count: 1, P50S: 2, P99S: 2, MaxS: 2},
				AdmitToRunning:  Latency{Count: 1, P50S: 3, P99S: 3, MaxS: 3},
				Concurrency:     Concurrency{Peak: 1, Mean: 0.5},
				Utilisation:     use(0.5, 256, 0),
			},
		},
		{
			"an adopted attempt whose admission nobody knows counts in the target's latency only",
			[]*TrialRecord{trial(ran(-1, 0, 2, 4, 8, planner.Amounts{}))}, at(10),
			&Scheduling{
				From: at(0), To: at(8), BusyS: 8, Attempts: 1, Ran: 1,
				SubmitToRunning: Latency{Count: 1, P50S: 4, P99S: 4, MaxS: 4},
				Concurrency:     Concurrency{Peak: 1, Mean: 0.5},
				Utilisation:     use(0, 0, 0),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Measure(tt.records, capacity, tt.now)
			if tt.want == nil {
				assert.Nil(t, got)
				return
			}
			require.NotNil(t, got)
			// The series is checked on its own below.
			got.Concurrency.StepS, got.Concurrency.Series = 0, nil
			assertSchedulingEqual(t, tt.want, got)
		})
	}
}

// assertSchedulingEqual compares the figures, the fractions to within
// rounding.
func assertSchedulingEqual(t *testing.T, want, got *Scheduling) {
	t.Helper()
	require.Len(t, got.Utilisation, len(want.Utilisation))
	for i := range want.Utilisation {
		w, g := want.Utilisation[i], got.Utilisation[i]
		assert.Equal(t, w.Resource, g.Resource)
		assert.Equal(t, w.Unit, g.Unit)
		assert.InDelta(t, w.Capacity, g.Capacity, 1e-9, w.Resource)
		assert.InDelta(t, w.Mean, g.Mean, 1e-9, w.Resource)
		assert.InDelta(t, w.Fraction, g.Fraction, 1e-9, w.Resource)
	}
	assert.InDelta(t, want.Concurrency.Mean, got.Concurrency.Mean, 1e-9)
	want.Utilisation, got.Utilisation = nil, nil
	want.Concurrency.Mean, got.Concurrency.Mean = 0, 0
	assert.Equal(t, want, got)
}

func TestTheConcurrencySeriesIsTheTimeWeightedMeanOfEachStep(t *testing.T) {
	tests := []struct {
		name    string
		records []*TrialRecord
		step    float64
		want    []float64
	}{
		{
			"two attempts overlap in the middle",
			[]*TrialRecord{trial(ran(0, 0, 0, 0, 60, cpuOnly)), trial(ran(0, 0, 0, 40, 100, cpuOnly))},
			1, nil,
		},
		{
			"a gap between runs is empty",
			[]*TrialRecord{trial(ran(0, 0, 0, 0, 10, cpuOnly), ran(190, 190, 190, 190, 200, cpuOnly))},
			2, append(append(fill(5, 1), fill(90, 0)...), fill(5, 1)...),
		},
		{
			"a step cut short by the end is a mean over what it has",
			[]*TrialRecord{trial(ran(0, 0, 0, 0, 10.000000001, cpuOnly))},
			0.100000001, fill(100, 1),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Measure(tt.records, capacity, at(1000)).Concurrency
			assert.InDelta(t, tt.step, got.StepS, 1e-9)
			require.LessOrEqual(t, len(got.Series), SeriesPoints)
			if tt.want == nil {
				want := append(append(fill(40, 1), fill(20, 2)...), fill(40, 1)...)
				assert.InDeltaSlice(t, want, got.Series, 1e-9)
				return
			}
			assert.InDeltaSlice(t, tt.want, got.Series, 1e-9)
		})
	}
}

func fill(n int, v float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestAHistoryKeepsItsLatestAttempts(t *testing.T) {
	var r TrialRecord
	assert.Nil(t, r.Latest())
	for i := range MaxHistory + 5 {
		r.Begin(AttemptTimes{Attempt: i})
	}
	require.Len(t, r.History, MaxHistory)
	assert.Equal(t, 5, r.History[0].Attempt, "the oldest attempts went")
	assert.Equal(t, MaxHistory+4, r.Latest().Attempt)
}

func TestAHistoryRoundTripsThroughTrialJSON(t *testing.T) {
	rec := &TrialRecord{ID: "00000-abcdef", Status: Terminated, Attempts: 2, History: []AttemptTimes{
		{Attempt: 0, AdmittedAt: at(0), RegisteredAt: at(0.25), EndedAt: at(3)},
		ran(4, 4.5, 5, 6, 10, oneGPU),
	}}
	rec.History[1].Attempt = 1
	b, err := json.Marshal(rec)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"history":[{"attempt":0,"admitted_at":"2026-03-01T12:00:00Z","registered_at":"2026-03-01T12:00:00.25Z","ended_at":"2026-03-01T12:00:03Z"},`+
		`{"attempt":1,"admitted_at":"2026-03-01T12:00:04Z","registered_at":"2026-03-01T12:00:04.5Z","placed_at":"2026-03-01T12:00:05Z","running_at":"2026-03-01T12:00:06Z","ended_at":"2026-03-01T12:00:10Z",`+
		`"held":{"cpu":2,"memory_mib":1024,"devices":{"nvidia/gpu":1}}}]`, "stages never reached and nothing held are left out")
	back, err := parseTrialFile("trial.json", b)
	require.NoError(t, err)
	assert.Equal(t, rec.History, back.History)
}

func TestHistoryAndSchedulingSurviveLoadAndResume(t *testing.T) {
	root := t.TempDir()
	s, err := Open(root, testInfo(), testTrials(2))
	require.NoError(t, err)
	recs := s.Records()
	// Trial 0 finished; trial 1 failed once and waits for its retry.
	recs[0].Begin(ran(0, 1, 2, 3, 10, oneGPU))
	runTrial(t, s, recs[0], 0, Terminated, 0.5)
	recs[1].Begin(ran(0, 1, 1, 2, 4, cpuOnly))
	recs[1].Failures = 1
	runTrial(t, s, recs[1], 0, Pending)
	sched := Measure(recs, capacity, at(10))
	require.NotNil(t, sched)
	require.NoError(t, s.WriteSummary(Summary{Status: "running", Scheduling: sched}))

	sum, loaded, err := Load(root, "quadratic")
	require.NoError(t, err)
	assert.Equal(t, asJSON(t, sched), asJSON(t, sum.Scheduling), "experiment.json keeps the figures")
	require.Len(t, loaded, 2)
	for i := range recs {
		assert.Equal(t, asJSON(t, recs[i].History), asJSON(t, loaded[i].History), "trial %d", i)
	}
	require.NoError(t, s.Close())

	resumed := openStore(t, root, 2)
	again := resumed.Records()
	for i := range recs {
		assert.Equal(t, asJSON(t, recs[i].History), asJSON(t, again[i].History), "trial %d", i)
	}
	assert.Equal(t, asJSON(t, sched), asJSON(t, Measure(again, capacity, at(10))), "a resumed experiment measures the same")
}

// BenchmarkMeasure100kTrials is the cost of the scheduling figures in
// each summary of an experiment of 100,000 trials that all ran, 500 at
// a time.
func BenchmarkMeasure100kTrials(b *testing.B) {
	records := make([]*TrialRecord, 100_000)
	for i := range records {
		s := float64(i/500) * 60
		records[i] = trial(ran(s, s+0.1, s+0.5, s+1, s+60, oneGPU))
	}
	b.ResetTimer()
	for b.Loop() {
		Measure(records, capacity, at(1e7))
	}
}
