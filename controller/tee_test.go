package controller

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// countingReporter counts the calls it gets.
type countingReporter struct{ changed, ticks, done int }

func (r *countingReporter) Changed(Change, *Snapshot) { r.changed++ }
func (r *countingReporter) Tick(*Snapshot)            { r.ticks++ }
func (r *countingReporter) Done(*Snapshot)            { r.done++ }

func TestATeePassesEveryCallToEachReporterAndSkipsNilOnes(t *testing.T) {
	a, b := &countingReporter{}, &countingReporter{}
	tee := Tee{a, nil, b}
	tee.Changed(Change{Kind: TrialStarted}, &Snapshot{})
	tee.Changed(Change{Kind: TrialReported}, &Snapshot{})
	tee.Tick(&Snapshot{})
	tee.Done(&Snapshot{})
	for _, r := range []*countingReporter{a, b} {
		assert.Equal(t, countingReporter{changed: 2, ticks: 1, done: 1}, *r)
	}
}
