package main

import (
	"testing"

	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/assert"
)

func TestATrialJobIsPendingUntilAnAllocationOfItRuns(t *testing.T) {
	summary := func(queued, starting, running, complete, failed int) *api.JobSummary {
		return &api.JobSummary{Summary: map[string]api.TaskGroupSummary{"trial": {
			Queued: queued, Starting: starting, Running: running, Complete: complete, Failed: failed,
		}}}
	}
	cases := []struct {
		name   string
		status string
		stop   bool
		sum    *api.JobSummary
		want   string
	}{
		{"queued in Nomad, nothing placed", "pending", false, summary(1, 0, 0, 0, 0), "pending"},
		{"placed, its task starting", "running", false, summary(0, 1, 0, 0, 0), "pending"},
		{"an allocation runs", "running", false, summary(0, 0, 1, 0, 0), "running"},
		{"a gang of which one allocation runs", "running", false, summary(1, 0, 1, 0, 0), "running"},
		{"finished", "dead", false, summary(0, 0, 0, 1, 0), "complete"},
		{"failed", "dead", false, summary(0, 0, 0, 0, 1), "failed"},
		{"stopped while queued", "dead", true, summary(0, 0, 0, 0, 0), "stopped"},
		{"being stopped", "running", true, summary(0, 0, 1, 0, 0), "stopping"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			row := statusRowOf(&api.JobListStub{ID: "tune-x-00000-abc", Status: tc.status, Stop: tc.stop, JobSummary: tc.sum})
			assert.Equal(t, tc.want, row.State)
		})
	}
}
