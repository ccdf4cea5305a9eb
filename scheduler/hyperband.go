package scheduler

import (
	"fmt"
	"math"
	"sort"
)

// hyperband is synchronous HyperBand (Li et al., Ray Tune's
// HyperBandScheduler). Trials fill brackets in index order, one band of
// brackets after another; bracket s of a band holds
// ceil(s_max_1/(s+1) × reduction_factor^s) trials, which all run to the
// bracket's first milestone max_t × reduction_factor^-s. When every trial
// of the bracket has reached it, the best 1/reduction_factor go on to a
// milestone reduction_factor times further, and so on up to max_t.
//
// Ray Tune pauses a trial that reaches a milestone before the rest of its
// bracket and resumes it from a checkpoint if it is among the best. tune
// has no checkpoints to resume from, so such a trial is stopped and
// recorded as paused; it still counts in its bracket's ranking. Only the
// last of a bracket to reach a milestone can go on past it. This makes
// synchronous HyperBand far more aggressive than in Ray Tune: asha is the
// scheduler to prefer.
type hyperband struct {
	ranking
	maxT      float64
	eta       float64
	numTrials int
	// shape is one band's brackets, in order.
	shape    []bracketShape
	bandSize int
	brackets map[int]*hbBracket
}

type bracketShape struct {
	s  int
	n0 int
	r0 float64
}

type hbBracket struct {
	halves int
	// n is how many trials go on at the next halving; r and cumulR the
	// milestone the trials run to now.
	n      int
	r      float64
	live   map[int]*hbMember
	number int
}

type hbMember struct {
	index    int
	progress float64
	score    float64
	// paused: it reached the milestone before the rest of its bracket and
	// was stopped; it stays to be ranked at the halving.
	paused bool
}

func newHyperBand(r ranking, maxT, eta float64, numTrials int) *hyperband {
	h := &hyperband{ranking: r, maxT: maxT, eta: eta, numTrials: numTrials, brackets: map[int]*hbBracket{}}
	sMax1 := int(math.Round(math.Log(maxT)/math.Log(eta))) + 1
	for s := range sMax1 {
		r0 := math.Floor(maxT * math.Pow(eta, -float64(s)))
		if r0 == 0 {
			// Ray Tune skips a bracket whose first milestone rounds to 0.
			continue
		}
		n0 := int(math.Ceil(float64(sMax1) / float64(s+1) * math.Pow(eta, float64(s))))
		h.shape = append(h.shape, bracketShape{s: s, n0: n0, r0: r0})
		h.bandSize += n0
	}
	return h
}

// bracket is the bracket of trial index i, made on first use with every
// member it will have.
func (h *hyperband) bracket(i int) *hbBracket {
	band, at := i/h.bandSize, i%h.bandSize
	k, start := 0, band*h.bandSize
	for at >= h.shape[k].n0 {
		at -= h.shape[k].n0
		start += h.shape[k].n0
		k++
	}
	number := band*len(h.shape) + k
	if b, ok := h.brackets[number]; ok {
		return b
	}
	sh := h.shape[k]
	b := &hbBracket{halves: sh.s, n: sh.n0, r: sh.r0, live: map[int]*hbMember{}, number: number}
	for j := start; j < start+sh.n0 && (h.numTrials < 0 || j < h.numTrials); j++ {
		b.live[j] = &hbMember{index: j, score: math.NaN()}
	}
	h.brackets[number] = b
	return b
}

func (h *hyperband) Report(t Trial, row map[string]any) Decision {
	progress, score, ok := h.read(row)
	if !ok {
		return Decision{}
	}
	b := h.bracket(t.Index)
	m := b.live[t.Index]
	if m == nil {
		// Ranked out at a halving it missed (it was running again after
		// a retry): nothing to judge it against.
		return Decision{}
	}
	m.progress, m.score = progress, score
	if progress < b.r {
		return Decision{}
	}
	if b.halves == 0 {
		return Decision{Stop: true, Reason: fmt.Sprintf("hyperband: reached bracket %d's last milestone %s = %s", b.number+1, h.timeAttr, num(b.r))}
	}
	if !b.reached() {
		m.paused = true
		return Decision{Stop: true, Reason: fmt.Sprintf("hyperband: paused at milestone %s = %s of bracket %d with %s %s, before the rest of its bracket (tune stops trials HyperBand would pause)",
			h.timeAttr, num(b.r), b.number+1, h.metric, num(h.value(score)))}
	}
	return h.halve(b, m)
}

// reached says every live trial of the bracket reached its milestone.
func (b *hbBracket) reached() bool {
	for _, m := range b.live {
		if !m.paused && m.progress < b.r {
			return false
		}
	}
	return true
}

// halve ranks the bracket when its last trial, m, reached the milestone:
// the best n/eta go on (of them only m still runs), the rest stop.
// Paused trials are done with either way.
func (h *hyperband) halve(b *hbBracket, m *hbMember) Decision {
	milestone := b.r
	b.halves--
	b.n = int(math.Ceil(float64(b.n) / h.eta))
	b.r = math.Floor(math.Min(b.r*h.eta, h.maxT))
	ranked := make([]*hbMember, 0, len(b.live))
	for _, x := range b.live {
		ranked = append(ranked, x)
	}
	// Best first; NaN last; of equal scores the lower index first.
	sort.Slice(ranked, func(i, j int) bool {
		si, sj := ranked[i].score, ranked[j].score
		switch {
		case math.IsNaN(si) != math.IsNaN(sj):
			return !math.IsNaN(si)
		case si != sj:
			return si > sj
		}
		return ranked[i].index < ranked[j].index
	})
	keep := false
	for rank, x := range ranked {
		if x == m {
			keep = rank < b.n && !math.IsNaN(x.score)
		}
		if x.paused || (x == m && !keep) {
			delete(b.live, x.index)
		}
	}
	if keep {
		return Decision{}
	}
	cut := ranked[min(b.n, len(ranked))-1]
	return Decision{Stop: true, Reason: fmt.Sprintf("hyperband: at milestone %s = %s of bracket %d, %s %s is not among the best %s (cut-off %s)",
		h.timeAttr, num(milestone), b.number+1, h.metric, num(h.value(m.score)), plural(b.n, "trial"), num(h.value(cut.score)))}
}

func (h *hyperband) Ended(t Trial, done bool) {
	b := h.bracket(t.Index)
	m := b.live[t.Index]
	if m == nil || m.paused {
		return
	}
	if done {
		// It ended before the milestone (it finished or failed): the
		// bracket no longer waits for it.
		delete(b.live, t.Index)
		return
	}
	m.progress, m.score = 0, math.NaN()
}
