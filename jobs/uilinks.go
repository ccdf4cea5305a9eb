package jobs

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/nomad-tune/tune/trialenv"
)

// The Nomad UI is where a cluster's users watch it, so every trial job
// leads back to its experiment from there: a link to the jobs list filtered
// to the experiment's trials, and one to the Variable that summarises the
// experiment. The paths are the ones Nomad's web UI routes (the jobs
// index's "filter" query parameter; variables/var/<path>@<namespace>).

// SummaryPath is the Nomad Variable that holds an experiment's summary,
// next to its lease (tune/<experiment>/lease). Characters a variable path
// cannot hold become '-', with a hash of the name appended so that
// distinct names keep distinct paths.
func SummaryPath(experiment string) string {
	return "tune/" + SafeName(experiment, "~", 128-len("tune/")-len("/summary")) + "/summary"
}

// ExperimentFilter is the Nomad filter expression that selects an
// experiment's trial jobs by the meta every trial carries.
func ExperimentFilter(experiment string) string {
	return fmt.Sprintf("Meta.%s == %q", trialenv.MetaExperiment, experiment)
}

// JobsListPath is the Nomad UI's jobs list filtered to the experiment's
// trials, as a path on the Nomad address.
func JobsListPath(experiment string) string {
	// %20, not '+': the UI's router decodes query values with
	// decodeURIComponent, which leaves a '+' as it is.
	return "/ui/jobs?filter=" + strings.ReplaceAll(url.QueryEscape(ExperimentFilter(experiment)), "+", "%20")
}

// SummaryVariablePath is the Nomad UI's page of the experiment's summary
// Variable in namespace ("" is Nomad's default namespace), as a path on the
// Nomad address.
func SummaryVariablePath(experiment, namespace string) string {
	if namespace == "" {
		namespace = "default"
	}
	return "/ui/variables/var/" + (&url.URL{Path: SummaryPath(experiment) + "@" + namespace}).EscapedPath()
}
