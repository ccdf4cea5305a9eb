package controller

import (
	"container/heap"
	"context"
	"fmt"
	"time"

	"github.com/nomad-tune/tune/results"
)

// timerKind is what the loop does when a timer is due.
type timerKind int

const (
	timerTrialTimeout timerKind = iota
	timerRetry
	timerBudget
)

// timer is a deadline the loop waits on with its clock: the loop owns all
// of them in one heap, so it waits on one channel however many there are.
type timer struct {
	at      time.Time
	kind    timerKind
	trialID string
	attempt int
}

type timerHeap []timer

func (h timerHeap) Len() int { return len(h) }

func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }

func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }

func (h *timerHeap) Push(x any) { *h = append(*h, x.(timer)) }

func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}

func (c *controller) addTimer(t timer) { heap.Push(&c.timers, t) }

func (c *controller) fireTimers(ctx context.Context) {
	now := c.clock.Now()
	for len(c.timers) > 0 && !c.timers[0].at.After(now) {
		t := heap.Pop(&c.timers).(timer)
		switch t.kind {
		case timerTrialTimeout:
			if r, ok := c.running[t.trialID]; ok && r.attempt == t.attempt {
				c.stop(ctx, r, "trial_timeout "+c.exp.Stop.TrialTimeout.String(), true)
			}
		case timerRetry:
			delete(c.delayed, t.trialID)
			if rec := c.records[t.trialID]; rec.Status == results.Pending && c.running[t.trialID] == nil && !c.stopAll {
				c.requeue(rec)
			}
		case timerBudget:
			if c.status == "" {
				c.status = StatusStopped
				c.message = fmt.Sprintf("the time budget (%s) is spent", c.exp.Stop.TimeBudget)
			}
			c.stopAll = true
			for _, r := range c.sortedRuns() {
				c.stop(ctx, r, "time_budget", true)
			}
		}
	}
}

// unplacedBackoff is the wait before a trial the target could not place
// is tried again: doubling from a second, up to a minute, so a cluster
// that is short of room is not hammered.
func unplacedBackoff(times int) time.Duration {
	d := time.Second << min(max(times-1, 0), 6)
	return min(d, time.Minute)
}
