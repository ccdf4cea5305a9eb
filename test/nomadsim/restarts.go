package nomadsim

import (
	"fmt"
	"time"

	"github.com/hashicorp/nomad/api"

	"github.com/nomad-tune/tune/clock"
)

// Restart tracker reasons, as Nomad's client words them.
const (
	reasonNoRestartsAllowed  = "Policy allows no restarts"
	reasonUnrecoverableError = "Error was unrecoverable"
	reasonWithinPolicy       = "Restart within policy"
	reasonDelay              = "Exceeded allowed attempts, applying a delay"
	reasonSuccessful         = "Restart unnecessary as task terminated successfully"
	restartJitter            = 0.25
)

// restartTracker decides, after each exit or failed start, whether a task
// restarts and after how long, following Nomad's RestartTracker: batch
// tasks restart only on failure, attempts are counted per interval, and
// "fail" mode gives up while "delay" mode waits out the interval.
type restartTracker struct {
	clock     clock.Clock
	ids       *idSource
	policy    *api.RestartPolicy
	onSuccess bool
	start     time.Time
	count     int
	reason    string

	exit     *exitResult
	startErr error
	recover  bool
	killed   bool
	failure  bool
}

func newRestartTracker(clock clock.Clock, ids *idSource, policy *api.RestartPolicy, jobType string, lc *api.TaskLifecycle) *restartTracker {
	onSuccess := jobType != api.JobTypeBatch && jobType != api.JobTypeSysbatch
	if lc != nil {
		switch lc.Hook {
		case api.TaskLifecycleHookPrestart, api.TaskLifecycleHookPoststart:
			onSuccess = lc.Sidecar
		case api.TaskLifecycleHookPoststop:
			onSuccess = false
		}
	}
	return &restartTracker{clock: clock, ids: ids, policy: policy, onSuccess: onSuccess, start: clock.Now()}
}

func (r *restartTracker) setStartError(err error, recoverable bool) {
	r.startErr, r.recover, r.failure = err, recoverable, true
}

func (r *restartTracker) setExit(res *exitResult) { r.exit, r.failure = res, true }
func (r *restartTracker) setKilled()              { r.killed = true }

// state returns what happens next: api.TaskKilled, TaskNotRestarting,
// TaskTerminated or TaskRestarting (with its delay).
func (r *restartTracker) state() (string, time.Duration) {
	defer func() { r.exit, r.startErr, r.killed, r.failure = nil, nil, false, false }()
	if r.killed {
		r.reason = ""
		return api.TaskKilled, 0
	}
	attempts := deref(r.policy.Attempts)
	if attempts == 0 {
		r.reason = reasonNoRestartsAllowed
		if !r.onSuccess && r.exit != nil && r.exit.successful() {
			return api.TaskTerminated, 0
		}
		return api.TaskNotRestarting, 0
	}
	now := r.clock.Now()
	interval := deref(r.policy.Interval)
	if now.After(r.start.Add(interval)) {
		r.count = 0
		r.start = now
	}
	r.count++
	if !r.failure {
		return "", 0
	}
	if r.startErr != nil {
		if !r.recover {
			r.reason = reasonUnrecoverableError
			return api.TaskNotRestarting, 0
		}
	} else if r.exit != nil && r.exit.successful() && !r.onSuccess {
		r.reason = reasonSuccessful
		return api.TaskTerminated, 0
	}
	if r.count > attempts {
		if deref(r.policy.Mode) == api.RestartPolicyModeFail {
			r.reason = fmt.Sprintf(`Exceeded allowed attempts %d in interval %v and mode is "fail"`, attempts, interval)
			return api.TaskNotRestarting, 0
		}
		r.reason = reasonDelay
		return api.TaskRestarting, r.start.Add(interval).Sub(now)
	}
	r.reason = reasonWithinPolicy
	d := deref(r.policy.Delay)
	if d <= 0 {
		d = 1
	}
	return api.TaskRestarting, d + time.Duration(r.ids.float()*float64(d)*restartJitter)
}
