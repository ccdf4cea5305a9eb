package nomad

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/nomad-tune/tune/driver"
)

func TestTheFirstDecisiveOutcomeIsTheAttemptsEnd(t *testing.T) {
	type decision struct {
		kind    outcomeKind
		message string
	}
	cases := []struct {
		name      string
		decisions []decision
		exitCode  int
		cutOff    string
		want      driver.Event
	}{
		{name: "nothing decided is a clean end", want: driver.Event{Kind: driver.EventExited}},
		{name: "a timeout alone is a clean end that says so",
			decisions: []decision{{outcomeTimedOut, timeoutMessage}},
			want:      driver.Event{Kind: driver.EventExited, Message: timeoutMessage}},
		{name: "a failure after a timeout fails the attempt",
			decisions: []decision{{outcomeTimedOut, timeoutMessage}, {outcomeFailed, "task exited with code 2"}},
			exitCode:  2,
			want:      driver.Event{Kind: driver.EventExited, Failed: true, ExitCode: 2, Message: "task exited with code 2"}},
		{name: "a stop is not overridden by the failures it causes",
			decisions: []decision{{outcomeStopped, "loss <= 0.1"}, {outcomeFailed, "killed by signal 9"}},
			exitCode:  137,
			want:      driver.Event{Kind: driver.EventExited, Stopped: true, ExitCode: -1, Message: "loss <= 0.1"}},
		{name: "a failure without an exit code reports -1",
			decisions: []decision{{outcomeFailed, "node down"}},
			want:      driver.Event{Kind: driver.EventExited, Failed: true, ExitCode: -1, Message: "node down"}},
		{name: "an unplaced attempt is neither failed nor stopped",
			decisions: []decision{{outcomeUnplaced, "placed 1 of 2 allocations in 2m0s"}, {outcomeJobStopped, "job j was stopped in Nomad"}},
			want:      driver.Event{Kind: driver.EventExited, Unplaced: true, ExitCode: -1, Message: "placed 1 of 2 allocations in 2m0s"}},
		{name: "a job stopped outside tune is a stop",
			decisions: []decision{{outcomeJobStopped, "job j was stopped in Nomad"}},
			want:      driver.Event{Kind: driver.EventExited, Stopped: true, ExitCode: -1, Message: "job j was stopped in Nomad"}},
		{name: "an allocation Nomad stopped fails the attempt",
			decisions: []decision{{outcomeEvicted, "allocation 1a2b3c4d was stopped by Nomad: drained"}},
			want:      driver.Event{Kind: driver.EventExited, Failed: true, ExitCode: -1, Message: "allocation 1a2b3c4d was stopped by Nomad: drained"}},
		{name: "allocations cut off after a stop say how long they were waited for",
			decisions: []decision{{outcomeStopped, "interrupted"}}, cutOff: "its allocations had not ended 1m0s after the job was deregistered",
			want: driver.Event{Kind: driver.EventExited, Stopped: true, ExitCode: -1,
				Message: "interrupted (its allocations had not ended 1m0s after the job was deregistered)"}},
		{name: "allocations cut off with nothing decided fail the attempt",
			cutOff: "its allocations had not ended 1m0s after the job was deregistered",
			want: driver.Event{Kind: driver.EventExited, Failed: true, ExitCode: -1,
				Message: "the job's allocations did not end (its allocations had not ended 1m0s after the job was deregistered)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := outcome{exitCode: tc.exitCode, cutOff: tc.cutOff}
			for _, d := range tc.decisions {
				o.decide(d.kind, d.message)
			}
			assert.Equal(t, tc.want, o.event())
		})
	}
}

func TestPhasesSayWhatTheAttemptMayStillDo(t *testing.T) {
	cases := []struct {
		phase                     phase
		registered, deregistering bool
	}{
		{phaseRegistering, false, false},
		{phaseQueued, true, false},
		{phaseRunning, true, false},
		{phaseStopping, true, true},
		{phaseStopped, true, true},
		{phaseFinishing, true, true},
	}
	for _, tc := range cases {
		t.Run("a "+tc.phase.String()+" attempt", func(t *testing.T) {
			assert.Equal(t, tc.registered, tc.phase.registered(), "registered")
			assert.Equal(t, tc.deregistering, tc.phase.deregistering(), "deregistering")
		})
	}
}
