package local

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/nomad-tune/tune/driver"
	"github.com/nomad-tune/tune/experiment"
)

// errStoppedWaiting ends a wait_for_gpu that Stop or Close interrupted.
var errStoppedWaiting = errors.New("stopped while waiting for GPUs")

// waitForGPUs polls the granted GPUs every interval until each has at most
// MaxUsed of its memory in use, as Ray Tune's wait_for_gpu does, and fails
// when one is still busy at the timeout. A GPU whose memory cannot be read
// (a declared GPU without a device behind it, no NVML) is not waited for:
// the wait could only ever time out. The attempt hears of it once.
func (a *attempt) waitForGPUs(w *experiment.WaitForGPU, gpus []int) error {
	interval := w.Interval
	if interval <= 0 {
		interval = defaultGPUInterval
	}
	deadline := time.Now().Add(w.Timeout)
	unreadable := map[int]bool{}
	for {
		busy, used := -1, 0.0
		for _, i := range gpus {
			if unreadable[i] {
				continue
			}
			frac, err := a.d.gpuPoll(i)
			if err != nil {
				unreadable[i] = true
				a.emit(driver.Event{
					Kind:    driver.EventWarning,
					Message: fmt.Sprintf("wait_for_gpu: cannot read how much memory GPU %d has in use, so not waiting for it: %v", i, err),
				})
				continue
			}
			if frac > w.MaxUsed && busy < 0 {
				busy, used = i, frac
			}
		}
		if busy < 0 {
			return nil
		}
		now := time.Now()
		if !now.Before(deadline) {
			return fmt.Errorf("wait_for_gpu: GPU %d still has %s%% of its memory in use after %ss",
				busy, experiment.FormatNumber(math.Round(used*1000)/10), experiment.FormatNumber(w.Timeout.Seconds()))
		}
		a.d.log.Debug("waiting for a GPU", "trial", a.key.trialID, "gpu", busy, "used", used)
		t := time.NewTimer(min(interval, deadline.Sub(now)))
		select {
		case <-a.waitCtx.Done():
			t.Stop()
			return errStoppedWaiting
		case <-t.C:
		}
	}
}
