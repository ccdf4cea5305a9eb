package jobs_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/experiment"
	tunehcl "github.com/nomad-tune/tune/hcl"
	"github.com/nomad-tune/tune/jobs"
	"github.com/nomad-tune/tune/planner"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata from the compiled jobs")

// goldenCases compile one trial of an experiment file in testdata each;
// the job, as indented JSON, must equal testdata/<name>.golden.
var goldenCases = []struct {
	name  string
	file  string
	trial int
	opts  jobs.Options
	// pin, when set, pins the compiled job to these nodes (jobs.Pin).
	pin *planner.Assignment
}{
	{name: "single_cpu", file: "single_cpu.hcl", trial: 1, opts: jobs.Options{MHzPerCore: 2400}},
	{name: "fractional_cpu", file: "fractional_cpu.hcl", opts: jobs.Options{MHzPerCore: 2400}},
	{name: "gpu", file: "gpu.hcl", trial: 0, opts: jobs.Options{MHzPerCore: 3000}},
	{name: "no_gpu", file: "gpu.hcl", trial: 1, opts: jobs.Options{MHzPerCore: 3000}},
	{name: "gang", file: "gang.hcl", opts: jobs.Options{MHzPerCore: 2000}},
	{name: "strict_pack", file: "strict_pack.hcl", opts: jobs.Options{MHzPerCore: 2000}},
	{name: "strict_spread", file: "strict_spread.hcl", opts: jobs.Options{MHzPerCore: 2000}},
	{name: "docker", file: "docker.hcl", opts: jobs.Options{MHzPerCore: 2400}},
	{name: "trial_timeout", file: "trial_timeout.hcl", opts: jobs.Options{MHzPerCore: 1000}},
	{name: "restarts", file: "restarts.hcl", opts: jobs.Options{MHzPerCore: 2400, Attempt: 1}},
	{name: "devices", file: "devices.hcl", opts: jobs.Options{MHzPerCore: 2400}},
	{name: "task_vocabulary", file: "task_vocabulary.hcl", opts: jobs.Options{MHzPerCore: 2400}},
	{name: "csi_gang", file: "csi_gang.hcl", opts: jobs.Options{MHzPerCore: 2400}},
	{name: "markdown_params", file: "markdown_params.hcl", opts: jobs.Options{MHzPerCore: 2400}},
	{name: "pinned_gang", file: "gang.hcl", opts: jobs.Options{MHzPerCore: 2000}, pin: &planner.Assignment{Allocs: []planner.AllocAssignment{
		{Group: "worker", Index: 0, NodeID: "node-a"}, {Group: "worker", Index: 1, NodeID: "node-b"}, {Group: "worker", Index: 2, NodeID: "node-a"},
		{Group: "ps", Index: 0, NodeID: "node-c"}, {Group: "ps", Index: 1, NodeID: "node-c"},
		{Group: "evaluator", Index: 0, NodeID: "node-b"},
	}}},
}

// compileCase compiles the trial of a golden case, pinned when it says so.
func compileCase(t *testing.T, e *experiment.Experiment, trials []*planner.Trial, trial int, opts jobs.Options, pin *planner.Assignment) *api.Job {
	t.Helper()
	require.Less(t, trial, len(trials), "the file has too few trials for this case")
	job, diags := jobs.Compile(e, trials[trial], opts)
	require.False(t, diags.HasErrors(), "compile: %s", diags.Error())
	if pin != nil {
		job = jobs.Pin(job, pin)
		require.NotNil(t, job, "the case's assignment pins every group")
	}
	return job
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			e, trials := load(t, filepath.Join("testdata", tc.file))
			got := jobJSON(t, compileCase(t, e, trials, tc.trial, tc.opts, tc.pin))

			golden := filepath.Join("testdata", tc.name+".golden")
			if *update {
				require.NoError(t, os.WriteFile(golden, got, 0o644))
				return
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run `go test ./jobs -update` to write the golden file")
			require.Equal(t, string(want), string(got), "the compiled job differs from %s; if the change is intended, run `go test ./jobs -update`", golden)
		})
	}
}

// TestGoldenSurviveCanonicalize checks that Nomad's own defaulting, which
// runs on every job the API client registers, keeps what tune set: the
// retry, restart and timeout policies are the reason the fields are set,
// and a pin is where the trial must be placed.
func TestGoldenSurviveCanonicalize(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			e, trials := load(t, filepath.Join("testdata", tc.file))
			job := compileCase(t, e, trials, tc.trial, tc.opts, tc.pin)
			var before any
			require.NoError(t, json.Unmarshal(jobJSON(t, job), &before))
			job.Canonicalize()
			var after any
			require.NoError(t, json.Unmarshal(jobJSON(t, job), &after))
			assertKept(t, before, after, "job")
			for _, tg := range job.TaskGroups {
				require.Equal(t, 0, *tg.ReschedulePolicy.Attempts, "group %s reschedules", *tg.Name)
				require.False(t, *tg.ReschedulePolicy.Unlimited, "group %s reschedules", *tg.Name)
				require.Equal(t, e.Failure.Restarts, *tg.RestartPolicy.Attempts, "group %s restarts", *tg.Name)
				require.Equal(t, api.RestartPolicyModeFail, *tg.RestartPolicy.Mode)
				if e.Stop.TrialTimeout > 0 {
					require.Equal(t, e.Stop.TrialTimeout, *tg.MaxRunDuration)
				} else {
					require.Nil(t, tg.MaxRunDuration)
				}
			}
		})
	}
}

// assertKept checks that every value tune set (every leaf that is not
// null, false, 0 or "") is still there, unchanged, after Canonicalize:
// Nomad may fill in what tune left unset, never replace what it set.
func assertKept(t *testing.T, before, after any, path string) {
	t.Helper()
	switch b := before.(type) {
	case map[string]any:
		a, ok := after.(map[string]any)
		if !assert.True(t, ok, "%s: Canonicalize replaced an object with %v", path, after) {
			return
		}
		for k, v := range b {
			assertKept(t, v, a[k], path+"."+k)
		}
	case []any:
		a, ok := after.([]any)
		if !assert.True(t, ok, "%s: Canonicalize replaced a list with %v", path, after) || !assert.Len(t, a, len(b), "%s: Canonicalize changed the length", path) {
			return
		}
		for i := range b {
			assertKept(t, b[i], a[i], fmt.Sprintf("%s[%d]", path, i))
		}
	default:
		if before == nil || before == false || before == float64(0) || before == "" {
			return
		}
		assert.Equal(t, before, after, "%s: Canonicalize changed what tune set", path)
	}
}

func load(t *testing.T, file string) (*experiment.Experiment, []*planner.Trial) {
	t.Helper()
	e, diags := tunehcl.LoadFile(file, tunehcl.Options{})
	require.False(t, diags.HasErrors(), "load %s: %s", file, diagText(diags))
	trials, diags := planner.Trials(e)
	require.False(t, diags.HasErrors(), "trials of %s: %s", file, diagText(diags))
	return e, trials
}

func jobJSON(t *testing.T, job *api.Job) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	require.NoError(t, enc.Encode(job))
	return b.Bytes()
}

func diagText(diags hcl.Diagnostics) string {
	if len(diags) == 0 {
		return "no diagnostics"
	}
	return diags.Error()
}
