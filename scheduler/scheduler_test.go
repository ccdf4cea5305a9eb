package scheduler

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/experiment"
)

var (
	_ Scheduler = (*asha)(nil)
	_ Scheduler = (*hyperband)(nil)
	_ Scheduler = (*median)(nil)
)

// step is one call a test makes: a report of trial index at progress with
// a loss (nil: no loss reported), or, with end set, the end of the trial.
type step struct {
	trial    int
	progress float64
	loss     any
	end      bool
	done     bool
	// stop and reason are what the report's decision must be: reason is
	// the whole stop reason.
	stop   bool
	reason string
}

func report(trial int, progress float64, loss any) step {
	return step{trial: trial, progress: progress, loss: loss}
}

func (s step) stops(reason string) step { s.stop, s.reason = true, reason; return s }

func ended(trial int, done bool) step { return step{trial: trial, end: true, done: done} }

func play(t *testing.T, s Scheduler, steps []step) {
	t.Helper()
	for i, st := range steps {
		tr := Trial{ID: fmt.Sprintf("t%d", st.trial), Index: st.trial}
		if st.end {
			s.Ended(tr, st.done)
			continue
		}
		row := map[string]any{"training_iteration": st.progress}
		if st.loss != nil {
			row["loss"] = st.loss
		}
		d := s.Report(tr, row)
		assert.Equal(t, Decision{Stop: st.stop, Reason: st.reason}, d, "step %d: trial %d at %v", i, st.trial, st.progress)
	}
}

func minLoss() ranking {
	return ranking{timeAttr: "training_iteration", metric: "loss", mode: experiment.ModeMin}
}

func TestASHARungDecisions(t *testing.T) {
	cut := func(rung, loss, cutoff, of string) string {
		return fmt.Sprintf("asha: at rung training_iteration = %s, loss %s is above the cut-off %s of %s", rung, loss, cutoff, of)
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"the first trial at a rung goes on", []step{report(0, 1, 5.0)}},
		{"one earlier trial is the cut-off when a rung has fewer trials than its quantile needs", []step{
			report(0, 1, 5.0), report(1, 1, 6.0).stops(cut("1", "6", "5", "1 trial")),
		}},
		{"a tie with the cut-off goes on", []step{report(0, 1, 5.0), report(1, 1, 5.0)}},
		{"the cut-off is the 75th percentile of the scores, interpolated", []step{
			report(0, 1, 1.0),
			report(1, 1, 2.0).stops(cut("1", "2", "1", "1 trial")),
			report(2, 1, 3.0).stops(cut("1", "3", "1.25", "2 trials")),
			report(3, 1, 4.0).stops(cut("1", "4", "1.5", "3 trials")),
			// Scores -4 -3 -2 -1: position 2.25 gives -1.75.
			report(4, 1, 1.2),
		}},
		{"a report past several rungs is judged at the highest only", []step{
			report(0, 5, 1.0),
			report(1, 1, 9.0),
			report(1, 4, 9.0).stops(cut("4", "9", "1", "1 trial")),
		}},
		{"reports of different trials interleave", []step{
			report(0, 1, 3.0), report(1, 1, 2.0), report(0, 2, 3.0),
			report(1, 4, 2.0), report(0, 4, 3.0).stops(cut("4", "3", "2", "1 trial")),
		}},
		{"a trial is judged once per rung", []step{
			report(0, 1, 1.0), report(1, 1, 1.0), report(1, 2, 50.0), report(1, 3, 50.0),
		}},
		{"reaching max_t stops a trial as done", []step{
			report(0, 100, 1.0).stops("reached max_t: training_iteration 100 >= 100"),
		}},
		{"NaN stops where there is a cut-off and never sets one", []step{
			report(0, 1, math.NaN()),
			report(1, 1, 3.0),
			report(2, 1, math.NaN()).stops(cut("1", "NaN", "3", "1 trial")),
		}},
		{"a report without the metric goes on and records nothing", []step{
			report(0, 1, nil), report(1, 1, 9.0),
		}},
		{"a trial that runs again is forgotten at its rungs", []step{
			report(0, 1, 5.0), ended(0, false), report(1, 1, 6.0),
		}},
		{"a finished trial stays in its rungs", []step{
			report(0, 1, 5.0), ended(0, true), report(1, 1, 6.0).stops(cut("1", "6", "5", "1 trial")),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			play(t, newASHA(minLoss(), 100, 1, 4, 1), tc.steps)
		})
	}
}

func TestASHARungsFollowRayTune(t *testing.T) {
	a := newASHA(minLoss(), 100, 1, 4, 2)
	require.Len(t, a.brackets, 2)
	var got [][]float64
	for _, b := range a.brackets {
		var ms []float64
		for _, r := range b.rungs {
			ms = append(ms, r.milestone)
		}
		got = append(got, ms)
	}
	assert.Equal(t, [][]float64{{64, 16, 4, 1}, {64, 16, 4}}, got)
}

func TestASHABracketsAreChosenByIndexInProportion(t *testing.T) {
	a := newASHA(minLoss(), 100, 1, 4, 2)
	counts := map[*ashaBracket]int{}
	for i := range 1000 {
		counts[a.bracket(Trial{ID: fmt.Sprint(i), Index: i})]++
	}
	// Weights e^0 and e^-1: 73% and 27%.
	assert.InDelta(t, 731, counts[a.brackets[0]], 10)
	again := newASHA(minLoss(), 100, 1, 4, 2)
	assert.Same(t, again.brackets[1], again.bracket(Trial{ID: "x", Index: 3}), "index 3 falls in the second bracket")
	assert.Same(t, a.brackets[1], a.bracket(Trial{ID: "3", Index: 3}), "the same index, the same bracket")
}

func TestASHAModeMaxRanksHigherBetter(t *testing.T) {
	a := newASHA(ranking{timeAttr: "training_iteration", metric: "acc", mode: experiment.ModeMax}, 100, 1, 4, 1)
	row := func(acc float64) map[string]any { return map[string]any{"training_iteration": 1.0, "acc": acc} }
	assert.False(t, a.Report(Trial{ID: "a"}, row(0.8)).Stop)
	assert.False(t, a.Report(Trial{ID: "b", Index: 1}, row(0.9)).Stop)
	d := a.Report(Trial{ID: "c", Index: 2}, row(0.5))
	assert.Equal(t, "asha: at rung training_iteration = 1, acc 0.5 is below the cut-off 0.875 of 2 trials", d.Reason)
}

func TestMedianStoppingRule(t *testing.T) {
	stopped := func(at, best, median string) string {
		return fmt.Sprintf("median stopping rule: at training_iteration = %s, best loss %s is above the median %s of 2 trials' running means", at, best, median)
	}
	ab := []step{
		report(0, 1, 10.0), report(0, 2, 8.0), report(0, 3, 6.0),
		report(1, 1, 9.0), report(1, 2, 7.0), report(1, 3, 5.0),
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"a trial worse than the median of the others' running means stops", append(ab,
			report(2, 1, 20.0), report(2, 2, 20.0).stops(stopped("2", "20", "7.5")))},
		{"running means cover the grace period up to the trial's progress", append(ab,
			// A's mean over [2, 3] is 7, B's 6: median 6.5.
			report(2, 3, 6.6).stops(stopped("3", "6.6", "6.5")))},
		{"a tie with the median goes on", []step{
			report(0, 2, 8.0), report(1, 2, 6.0), report(2, 2, 7.0),
		}},
		{"the best report so far counts, grace period included", append(ab,
			report(2, 1, 1.0), report(2, 2, 20.0))},
		{"within the grace period nothing stops", append(ab, report(2, 1, 100.0))},
		{"fewer trials than min_samples_required stop nothing", []step{
			report(0, 2, 1.0), report(2, 2, 20.0),
		}},
		{"trials that have not got as far do not count", []step{
			report(0, 3, 1.0), report(1, 2, 1.0), report(2, 3, 20.0),
		}},
		{"a trial with only NaN is never good", append(ab,
			report(2, 2, math.NaN()).stops(stopped("2", "no number", "7.5")))},
		{"a stopped trial stays stopped", append(ab,
			report(2, 2, 20.0).stops(stopped("2", "20", "7.5")),
			report(2, 3, 0.0).stops(stopped("2", "20", "7.5")))},
		{"a trial that runs again starts afresh", append(ab,
			report(2, 2, 20.0).stops(stopped("2", "20", "7.5")),
			ended(2, false), report(2, 2, 1.0))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			play(t, newMedian(minLoss(), 2, 2), tc.steps)
		})
	}
}

func TestHyperBandBrackets(t *testing.T) {
	h := newHyperBand(minLoss(), 9, 3, -1)
	assert.Equal(t, []bracketShape{{s: 0, n0: 3, r0: 9}, {s: 1, n0: 5, r0: 3}, {s: 2, n0: 9, r0: 1}}, h.shape)
	assert.Same(t, h.bracket(3), h.bracket(7))
	assert.NotSame(t, h.bracket(7), h.bracket(8))
	assert.Same(t, h.bracket(0), h.bracket(2))
	assert.NotSame(t, h.bracket(0), h.bracket(17), "the second band has brackets of its own")
	d81 := newHyperBand(minLoss(), 81, 3, -1)
	assert.Equal(t, bracketShape{s: 4, n0: 81, r0: 1}, d81.shape[4], "Ray Tune's default HyperBand")
}

func TestHyperBandDecisions(t *testing.T) {
	paused := func(loss string) string {
		return "hyperband: paused at milestone training_iteration = 3 of bracket 2 with loss " + loss + ", before the rest of its bracket (tune stops trials HyperBand would pause)"
	}
	pausedFour := []step{
		report(3, 3, 1.0).stops(paused("1")), report(4, 3, 5.0).stops(paused("5")),
		report(5, 3, 3.0).stops(paused("3")), report(6, 3, 2.0).stops(paused("2")),
	}
	tests := []struct {
		name      string
		numTrials int
		steps     []step
	}{
		{"a bracket without halvings runs to max_t", 8, []step{
			report(0, 5, 1.0), report(0, 9, 1.0).stops("hyperband: reached bracket 1's last milestone training_iteration = 9"),
		}},
		{"the last trial to reach a milestone goes on when among the best", 8, append(pausedFour,
			report(7, 3, 0.5), report(7, 5, 0.5),
			report(7, 9, 0.5).stops("hyperband: reached bracket 2's last milestone training_iteration = 9"))},
		{"the last trial to reach a milestone stops when not among the best", 8, append(pausedFour,
			report(7, 3, 4.0).stops("hyperband: at milestone training_iteration = 3 of bracket 2, loss 4 is not among the best 2 trials (cut-off 2)"))},
		{"a bracket with fewer trials than it holds halves those it has", 5, []step{
			report(3, 3, 1.0).stops(paused("1")), report(4, 3, 5.0),
		}},
		{"a trial that ended before the milestone is not waited for", 5, []step{
			report(3, 1, 1.0), ended(3, true), report(4, 3, 5.0),
		}},
		{"a trial that runs again is waited for from the start", 5, []step{
			report(3, 3, 1.0).stops(paused("1")), report(4, 2, 1.0), ended(4, false),
			report(4, 3, 0.5),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			play(t, newHyperBand(minLoss(), 9, 3, tc.numTrials), tc.steps)
		})
	}
}

func TestNewNeedsMetricAndMode(t *testing.T) {
	spec := &experiment.Scheduler{Kind: experiment.SchedulerASHA, TimeAttr: "training_iteration", MaxT: 100, GracePeriod: 1, ReductionFactor: 4, Brackets: 1}
	_, err := New(spec, "", experiment.ModeNone, 10)
	assert.EqualError(t, err, `scheduler "asha" needs the experiment's metric and mode`)
	s, err := New(spec, "loss", experiment.ModeMin, 10)
	require.NoError(t, err)
	assert.IsType(t, &asha{}, s)
	none, err := New(nil, "loss", experiment.ModeMin, 10)
	require.NoError(t, err)
	assert.Nil(t, none)
}

func TestDescribeSaysWhereTrialsAreJudged(t *testing.T) {
	tests := []struct {
		name string
		spec *experiment.Scheduler
		want string
	}{
		{"no scheduler says nothing", nil, ""},
		{"asha names each bracket's rungs", &experiment.Scheduler{Kind: experiment.SchedulerASHA, TimeAttr: "epoch", MaxT: 100, GracePeriod: 1, ReductionFactor: 4, Brackets: 2},
			"asha on epoch: rungs at 1, 4, 16, 64; rungs at 4, 16, 64, max_t 100; 1 in 4 trials passes a rung"},
		{"hyperband names its brackets", &experiment.Scheduler{Kind: experiment.SchedulerHyperBand, TimeAttr: "training_iteration", MaxT: 9, ReductionFactor: 3},
			"hyperband on training_iteration, max_t 9: 3 trials from 9, 5 trials from 3, 9 trials from 1 per band"},
		{"median names its grace period", &experiment.Scheduler{Kind: experiment.SchedulerMedian, TimeAttr: "time_total_s", GracePeriod: 60, MinSamplesRequired: 1},
			"median stopping rule on time_total_s, from 60, against at least 1 other trial"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Describe(tc.spec))
		})
	}
}
