package scheduler

import (
	"fmt"
	"math"
	"slices"
)

// median is the median stopping rule (Golovin et al., Google Vizier; Ray
// Tune's MedianStoppingRule): past the grace period, a trial stops when
// its best score so far is worse than the median of the other trials'
// running means up to the same progress, counting only trials that got
// that far, and only when at least min_samples_required of them did.
type median struct {
	ranking
	grace      float64
	minSamples int
	// reports are each trial's reports (progress and score), in order.
	reports map[string][]point
	// stopped remembers the reason a trial was stopped, so that a report
	// it still makes before it ends gets the same answer.
	stopped map[string]string
}

type point struct{ progress, score float64 }

func newMedian(r ranking, grace float64, minSamples int) *median {
	return &median{ranking: r, grace: grace, minSamples: minSamples, reports: map[string][]point{}, stopped: map[string]string{}}
}

func (m *median) Report(t Trial, row map[string]any) Decision {
	if reason, ok := m.stopped[t.ID]; ok {
		return Decision{Stop: true, Reason: reason}
	}
	progress, score, ok := m.read(row)
	if !ok {
		return Decision{}
	}
	m.reports[t.ID] = append(m.reports[t.ID], point{progress, score})
	if progress < m.grace {
		return Decision{}
	}
	var means []float64
	for id, ps := range m.reports {
		if id == t.ID || ps[len(ps)-1].progress < progress {
			continue
		}
		if mean, ok := m.runningMean(ps, progress); ok {
			means = append(means, mean)
		}
	}
	if len(means) < m.minSamples {
		return Decision{}
	}
	slices.Sort(means)
	med := percentile(means, 0.5)
	best := math.Inf(-1)
	for _, p := range m.reports[t.ID] {
		// NaN is never good: it leaves best where it was.
		if p.score > best {
			best = p.score
		}
	}
	if best >= med {
		return Decision{}
	}
	bestText := "no number"
	if !math.IsInf(best, -1) {
		bestText = num(m.value(best))
	}
	reason := fmt.Sprintf("median stopping rule: at %s = %s, best %s %s is %s the median %s of %s' running means",
		m.timeAttr, num(progress), m.metric, bestText, m.worse(), num(m.value(med)), plural(len(means), "trial"))
	m.stopped[t.ID] = reason
	return Decision{Stop: true, Reason: reason}
}

// runningMean is the mean score of a trial's reports from the grace
// period up to progress; NaN reports count as nothing, and a trial with
// no number there gives none.
func (m *median) runningMean(ps []point, progress float64) (float64, bool) {
	sum, n := 0.0, 0
	for _, p := range ps {
		if p.progress >= m.grace && p.progress <= progress && !math.IsNaN(p.score) {
			sum += p.score
			n++
		}
	}
	if n == 0 {
		return 0, false
	}
	return sum / float64(n), true
}

func (m *median) Ended(t Trial, done bool) {
	if !done {
		delete(m.reports, t.ID)
		delete(m.stopped, t.ID)
	}
}
