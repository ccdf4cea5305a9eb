package jobs_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/jobs"
)

func TestJobsListPathDecodesToTheExperimentFilter(t *testing.T) {
	for _, name := range []string{"quadratic", "md_params.v1", "a-b_c"} {
		t.Run(name, func(t *testing.T) {
			p := jobs.JobsListPath(name)
			require.True(t, strings.HasPrefix(p, "/ui/jobs?filter="), p)
			assert.NotContains(t, p, "+", "a '+' would reach the UI's filter as it is")
			u, err := url.Parse(p)
			require.NoError(t, err)
			assert.Equal(t, `Meta.tune_experiment == "`+name+`"`, u.Query().Get("filter"))
		})
	}
}

func TestSummaryVariablePath(t *testing.T) {
	cases := []struct {
		name, experiment, namespace, want string
	}{
		{name: "the default namespace is named", experiment: "quadratic", want: "/ui/variables/var/tune/quadratic/summary@default"},
		{name: "the experiment's namespace is kept", experiment: "quadratic", namespace: "ml", want: "/ui/variables/var/tune/quadratic/summary@ml"},
		{name: "a name a variable path cannot hold is made safe as the lease's is", experiment: "a.b", want: "/ui/variables/var/" + jobs.SummaryPath("a.b") + "@default"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, jobs.SummaryVariablePath(tc.experiment, tc.namespace))
		})
	}
	assert.NotContains(t, jobs.SummaryPath("a.b"), ".")
}
