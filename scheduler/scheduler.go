// Package scheduler decides, report by report, whether a running trial
// goes on or is stopped early: Ray Tune's trial schedulers (asynchronous
// successive halving, synchronous HyperBand, the median stopping rule).
//
// A scheduler is pure: it sees reports and the ends of trials, nothing
// else. It keeps no files and starts or stops nothing; the controller
// acts on its decisions. Its progress comes from the reports themselves
// (training_iteration, time_total_s or another reported field), never
// from a clock, so replaying a results folder's reports rebuilds it
// exactly: that is how a resumed experiment gets its rungs back.
package scheduler

import (
	"fmt"
	"math"

	"github.com/nomad-tune/tune/experiment"
	"github.com/nomad-tune/tune/results"
)

// Trial names the trial a report or an end belongs to.
type Trial struct {
	ID string
	// Index is the trial's place in the experiment, from 0; schedulers
	// that group trials (HyperBand's brackets) group them by it, so a
	// replay puts every trial back where it was.
	Index int
}

// Decision is what becomes of a trial after one of its reports.
type Decision struct {
	// Stop ends the trial now; it is TERMINATED, not failed.
	Stop bool
	// Reason says why, for the trial's record and the progress output.
	Reason string
}

// Scheduler stops trials early. The controller calls it from its one
// loop, so implementations need no locks.
type Scheduler interface {
	// Report is told each report of a trial's running attempt, in the
	// order the trial made them, and says whether the trial goes on. A
	// report without a number for the time attribute or the metric goes
	// on: it says nothing the scheduler can rank.
	Report(t Trial, row map[string]any) Decision
	// Ended is told that a trial's attempt ended. done says the trial is
	// over for good (finished, failed or stopped); otherwise the trial
	// runs again from the start, and what it reported is forgotten.
	Ended(t Trial, done bool)
}

// New builds the scheduler spec describes, ranking trials by metric in
// mode. numTrials is how many trials the experiment has (HyperBand fills
// its brackets with them in index order).
func New(spec *experiment.Scheduler, metric string, mode experiment.Mode, numTrials int) (Scheduler, error) {
	if spec == nil {
		return nil, nil
	}
	if metric == "" || mode == experiment.ModeNone {
		return nil, fmt.Errorf("scheduler %q needs the experiment's metric and mode", spec.Kind)
	}
	r := ranking{timeAttr: spec.TimeAttr, metric: metric, mode: mode}
	switch spec.Kind {
	case experiment.SchedulerASHA:
		return newASHA(r, spec.MaxT, spec.GracePeriod, spec.ReductionFactor, spec.Brackets), nil
	case experiment.SchedulerHyperBand:
		return newHyperBand(r, spec.MaxT, spec.ReductionFactor, numTrials), nil
	case experiment.SchedulerMedian:
		return newMedian(r, spec.GracePeriod, spec.MinSamplesRequired), nil
	}
	return nil, fmt.Errorf("unknown scheduler %q", spec.Kind)
}

// ranking reads progress and score from reports.
type ranking struct {
	timeAttr string
	metric   string
	mode     experiment.Mode
}

// read returns a report's progress and its score, where a higher score is
// better whatever the mode; NaN stays NaN, and the callers make it worse
// than any number. ok is false when the report lacks either number.
func (r ranking) read(row map[string]any) (progress, score float64, ok bool) {
	progress, ok = results.Number(row[r.timeAttr])
	if !ok || math.IsNaN(progress) {
		return 0, 0, false
	}
	v, ok := results.Number(row[r.metric])
	if !ok {
		return 0, 0, false
	}
	return progress, r.score(v), true
}

func (r ranking) score(v float64) float64 {
	if r.mode == experiment.ModeMin {
		return -v
	}
	return v
}

// value turns a score back into the metric's own sign, for messages.
func (r ranking) value(score float64) float64 { return r.score(score) }

// num formats a number for a stop reason.
func num(v float64) string { return experiment.FormatNumber(v) }

// worse is "worse than" for the metric's mode, for stop reasons.
func (r ranking) worse() string {
	if r.mode == experiment.ModeMin {
		return "above"
	}
	return "below"
}

// percentile is numpy's default (linear) percentile of sorted values, q in
// [0, 1].
func percentile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	frac := pos - float64(lo)
	return sorted[lo] + frac*(sorted[lo+1]-sorted[lo])
}

// plural is "1 trial" or "n trials" for word "trial".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// Describe says in one line what spec stops, for tune plan: the rungs or
// milestones it judges trials at, in its time attribute.
func Describe(spec *experiment.Scheduler) string {
	if spec == nil {
		return ""
	}
	switch spec.Kind {
	case experiment.SchedulerASHA:
		a := newASHA(ranking{}, spec.MaxT, spec.GracePeriod, spec.ReductionFactor, spec.Brackets)
		text := fmt.Sprintf("asha on %s: ", spec.TimeAttr)
		for i, b := range a.brackets {
			if i > 0 {
				text += "; "
			}
			text += "rungs at " + milestones(b)
		}
		return text + fmt.Sprintf(", max_t %s; 1 in %s trials passes a rung", num(spec.MaxT), num(spec.ReductionFactor))
	case experiment.SchedulerHyperBand:
		h := newHyperBand(ranking{}, spec.MaxT, spec.ReductionFactor, -1)
		text := fmt.Sprintf("hyperband on %s, max_t %s: ", spec.TimeAttr, num(spec.MaxT))
		for i, sh := range h.shape {
			if i > 0 {
				text += ", "
			}
			text += fmt.Sprintf("%s from %s", plural(sh.n0, "trial"), num(sh.r0))
		}
		return text + " per band"
	case experiment.SchedulerMedian:
		return fmt.Sprintf("median stopping rule on %s, from %s, against at least %s", spec.TimeAttr, num(spec.GracePeriod), plural(spec.MinSamplesRequired, "other trial"))
	}
	return string(spec.Kind)
}

func milestones(b *ashaBracket) string {
	text := ""
	for i := len(b.rungs) - 1; i >= 0; i-- {
		if text != "" {
			text += ", "
		}
		text += num(b.rungs[i].milestone)
	}
	return text
}
