package controller

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/nomad-tune/tune/driver"
	"github.com/nomad-tune/tune/experiment"
	"github.com/nomad-tune/tune/results"
)

func TestDecideEnd(t *testing.T) {
	exited := driver.Event{Kind: driver.EventExited}
	failed := driver.Event{Kind: driver.EventExited, Failed: true, ExitCode: 1, Message: "exited with status 1"}
	unplaced := driver.Event{Kind: driver.EventExited, Unplaced: true, Message: "no node had room"}
	stopped := driver.Event{Kind: driver.EventExited, Stopped: true, ExitCode: -1}
	retryTwice := experiment.Failure{MaxFailures: 2}

	tests := []struct {
		name   string
		in     attemptEnd
		policy experiment.Failure
		want   endDecision
	}{
		{
			name: "an attempt that exits well terminates its trial",
			in:   attemptEnd{Event: exited},
			want: endDecision{Status: results.Terminated, Kind: TrialFinished},
		},
		{
			name:   "a failure within max_failures is retried",
			in:     attemptEnd{Event: failed, Failures: 1},
			policy: retryTwice,
			want: endDecision{Status: results.Pending, Failed: true, Error: "exited with status 1", Kind: TrialFailed,
				Message: "exited with status 1; retrying (2 of 2)", Next: endRetry},
		},
		{
			name:   "unlimited retries never give up",
			in:     attemptEnd{Event: failed, Failures: 40},
			policy: experiment.Failure{MaxFailures: -1},
			want: endDecision{Status: results.Pending, Failed: true, Error: "exited with status 1", Kind: TrialFailed,
				Message: "exited with status 1; retrying (41 of unlimited)", Next: endRetry},
		},
		{
			name:   "a failure past max_failures is an error",
			in:     attemptEnd{Event: failed, Failures: 2},
			policy: retryTwice,
			want: endDecision{Status: results.Error, Failed: true, Error: "exited with status 1", Kind: TrialFailed,
				Message: "exited with status 1; no retries left (max_failures = 2)"},
		},
		{
			name: "a failure without retries is an error that says only why",
			in:   attemptEnd{Event: failed},
			want: endDecision{Status: results.Error, Failed: true, Error: "exited with status 1", Kind: TrialFailed,
				Message: "exited with status 1"},
		},
		{
			name:   "a failure with fail_fast ends the experiment whatever the retries",
			in:     attemptEnd{Event: failed},
			policy: experiment.Failure{MaxFailures: 3, FailFast: true},
			want: endDecision{Status: results.Error, Failed: true, Error: "exited with status 1", Kind: TrialFailed,
				Message: "exited with status 1; fail_fast stops the experiment", Next: endFailFast},
		},
		{
			name:   "a failure's error ends with the last lines of its stderr",
			in:     attemptEnd{Event: failed, StderrTail: []string{"Traceback (most recent call last):", "ValueError: bad lr"}},
			policy: retryTwice,
			want: endDecision{Status: results.Pending, Failed: true, Kind: TrialFailed, Next: endRetry,
				Error:   "exited with status 1: Traceback (most recent call last): | ValueError: bad lr",
				Message: "exited with status 1: Traceback (most recent call last): | ValueError: bad lr; retrying (1 of 2)"},
		},
		{
			name: "a long stderr tail keeps its end",
			in:   attemptEnd{Event: failed, StderrTail: []string{strings.Repeat("x", 300), "the cause"}},
			want: endDecision{Status: results.Error, Failed: true, Kind: TrialFailed,
				Error:   "exited with status 1: …" + strings.Repeat("x", errorTailMax-len(" | the cause")-1) + " | the cause",
				Message: "exited with status 1: …" + strings.Repeat("x", errorTailMax-len(" | the cause")-1) + " | the cause"},
		},
		{
			name:   "a command the driver could not execute is not retried",
			in:     attemptEnd{Event: driver.Event{Failed: true, CannotRun: true, ExitCode: -1, Message: "could not start: no such file"}},
			policy: retryTwice,
			want: endDecision{Status: results.Error, Failed: true, Kind: TrialFailed, Error: "could not start: no such file",
				Message: "could not start: no such file; not retried: the command cannot be executed"},
		},
		{
			name:   "exit status 127 is a command not found and is not retried",
			in:     attemptEnd{Event: driver.Event{Failed: true, ExitCode: 127, Message: "exited with status 127"}, StderrTail: []string{"sh: python4: not found"}},
			policy: experiment.Failure{MaxFailures: -1},
			want: endDecision{Status: results.Error, Failed: true, Kind: TrialFailed, Error: "exited with status 127: sh: python4: not found",
				Message: "exited with status 127: sh: python4: not found; not retried: exit status 127 means a command was not found"},
		},
		{
			name:   "exit status 126 is a command that cannot execute and is not retried",
			in:     attemptEnd{Event: driver.Event{Failed: true, ExitCode: 126, Message: "exited with status 126"}},
			policy: retryTwice,
			want: endDecision{Status: results.Error, Failed: true, Kind: TrialFailed, Error: "exited with status 126",
				Message: "exited with status 126; not retried: exit status 126 means a command could not be executed"},
		},
		{
			name: "a stop rule terminates the trial with its reason",
			in:   attemptEnd{Event: stopped, Stopping: true, StopReason: "loss <= 0.1", Success: true},
			want: endDecision{Status: results.Terminated, StopReason: "loss <= 0.1", Kind: TrialStopped, Message: "loss <= 0.1"},
		},
		{
			name: "an interrupted attempt leaves the trial pending and counts for nothing",
			in:   attemptEnd{Event: stopped, Stopping: true, StopReason: "interrupted"},
			want: endDecision{Status: results.Pending, Uncounted: true, StopReason: "interrupted", Kind: TrialStopped, Message: "interrupted"},
		},
		{
			name:   "an attempt that failed while being interrupted is no failure",
			in:     attemptEnd{Event: failed, Stopping: true, StopReason: "interrupted"},
			policy: experiment.Failure{FailFast: true},
			want:   endDecision{Status: results.Pending, Uncounted: true, StopReason: "interrupted", Kind: TrialStopped, Message: "interrupted"},
		},
		{
			name: "an attempt the target could not place is queued again after a backoff",
			in:   attemptEnd{Event: unplaced, Failures: 5},
			want: endDecision{Status: results.Pending, Uncounted: true, Unplaced: true, Kind: TrialStopped,
				Message: "not placed in time: no node had room; queued again", Next: endBackoff},
		},
		{
			name: "an unplaced attempt tune was stopping ends as the stop says",
			in:   attemptEnd{Event: unplaced, Stopping: true, StopReason: "time_budget", Success: true},
			want: endDecision{Status: results.Terminated, StopReason: "time_budget", Kind: TrialStopped, Message: "time_budget"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, decideEnd(tt.in, tt.policy))
		})
	}
}
