package scheduler

import (
	"fmt"
	"math"
	"slices"
)

// asha is asynchronous successive halving (Li et al., Ray Tune's
// ASHAScheduler). Each bracket has rungs at grace_period ×
// reduction_factor^k of progress. A trial reaching a rung is compared with
// the trials recorded there before it: below the (1 - 1/reduction_factor)
// quantile of their scores it stops, otherwise it goes on; either way its
// score joins the rung. No trial waits for others, so a rung with few
// trials judges against the few it has (one earlier trial is the cut-off
// itself), and the first trial at a rung always goes on.
type asha struct {
	ranking
	maxT     float64
	rf       float64
	brackets []*ashaBracket
	// bracketOf is where each trial was put, by ID.
	bracketOf map[string]*ashaBracket
}

type ashaBracket struct {
	// rungs are highest first: a report past several rungs is judged at
	// the highest one it has not been recorded at.
	rungs []*rung
}

type rung struct {
	milestone float64
	// recorded are the scores of the trials that reached the rung, by ID;
	// NaN for a trial that reported NaN there.
	recorded map[string]float64
}

func newASHA(r ranking, maxT, grace, rf float64, brackets int) *asha {
	a := &asha{ranking: r, maxT: maxT, rf: rf, bracketOf: map[string]*ashaBracket{}}
	// Ray Tune's rung count: bracket s starts s rungs later.
	maxRungs := int(math.Log(maxT/grace)/math.Log(rf) + 1)
	for s := range brackets {
		b := &ashaBracket{}
		for k := maxRungs - s - 1; k >= 0; k-- {
			b.rungs = append(b.rungs, &rung{milestone: grace * math.Pow(rf, float64(k+s)), recorded: map[string]float64{}})
		}
		a.brackets = append(a.brackets, b)
	}
	return a
}

// bracket puts a trial in a bracket the first time it is seen, weighting
// brackets with more rungs as Ray Tune does (softmax of the rung counts),
// but from the trial's index rather than a random draw: a resumed
// experiment puts every trial back where it was.
func (a *asha) bracket(t Trial) *ashaBracket {
	if b, ok := a.bracketOf[t.ID]; ok {
		return b
	}
	b := a.brackets[0]
	if len(a.brackets) > 1 {
		most := float64(len(a.brackets[0].rungs))
		weights := make([]float64, len(a.brackets))
		total := 0.0
		for i, br := range a.brackets {
			weights[i] = math.Exp(float64(len(br.rungs)) - most)
			total += weights[i]
		}
		// A low-discrepancy point in [0, 1) per index spreads trials over
		// the brackets in proportion to the weights.
		u := math.Mod(float64(t.Index)*0.6180339887498949, 1) * total
		for i, w := range weights {
			if u < w || i == len(weights)-1 {
				b = a.brackets[i]
				break
			}
			u -= w
		}
	}
	a.bracketOf[t.ID] = b
	return b
}

func (a *asha) Report(t Trial, row map[string]any) Decision {
	progress, score, ok := a.read(row)
	if !ok {
		return Decision{}
	}
	if progress >= a.maxT {
		return Decision{Stop: true, Reason: fmt.Sprintf("reached max_t: %s %s >= %s", a.timeAttr, num(progress), num(a.maxT))}
	}
	for _, r := range a.bracket(t).rungs {
		if progress < r.milestone {
			continue
		}
		if _, done := r.recorded[t.ID]; done {
			break
		}
		d := r.judge(a, score)
		r.recorded[t.ID] = score
		return d
	}
	return Decision{}
}

// judge decides on a trial that just reached the rung, before its score
// is recorded there.
func (r *rung) judge(a *asha, score float64) Decision {
	var scores []float64
	for _, s := range r.recorded {
		if !math.IsNaN(s) {
			scores = append(scores, s)
		}
	}
	if len(scores) == 0 {
		return Decision{}
	}
	slices.Sort(scores)
	cutoff := percentile(scores, 1-1/a.rf)
	// A NaN score is never good: it stops wherever there is a cut-off.
	if math.IsNaN(score) || score < cutoff {
		return Decision{Stop: true, Reason: fmt.Sprintf("asha: at rung %s = %s, %s %s is %s the cut-off %s of %s",
			a.timeAttr, num(r.milestone), a.metric, num(a.value(score)), a.worse(), num(a.value(cutoff)), plural(len(scores), "trial"))}
	}
	return Decision{}
}

func (a *asha) Ended(t Trial, done bool) {
	if done {
		// A finished trial stays in the rungs it reached: later trials are
		// judged against it, as in Ray Tune.
		return
	}
	if b, ok := a.bracketOf[t.ID]; ok {
		for _, r := range b.rungs {
			delete(r.recorded, t.ID)
		}
	}
}
