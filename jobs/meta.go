package jobs

import (
	"fmt"
	"hash/fnv"
	"strings"
)

// Meta keys of every trial job. Other packages find an experiment's jobs
// with a filter such as `Meta["tune_experiment"] == "quadratic"` on
// Jobs().List, so these names are part of tune's contract with a cluster
// that may hold jobs from older versions of tune: do not rename them.
const (
	// MetaManagedBy marks jobs tune created; its value is ManagedBy.
	MetaManagedBy = "tune_managed_by"
	// MetaExperiment is the experiment name.
	MetaExperiment = "tune_experiment"
	// MetaTrialID is the trial ID, e.g. "00042-7f3a9c".
	MetaTrialID = "tune_trial_id"
	// MetaTrialIndex is the trial index, in decimal.
	MetaTrialIndex = "tune_trial_index"
	// MetaParams is the trial's parameters as one compact JSON object.
	MetaParams = "tune_params"
	// MetaAttempt counts runs of a retried trial from 0.
	MetaAttempt = "tune_attempt"
	// MetaSpec is the hash of what was compiled for the trial (see
	// Spec): a job whose spec differs from the trial's now was compiled
	// from another definition of the experiment.
	MetaSpec = "tune_spec"
	// MetaParamPrefix starts one key per parameter ("tune_param_lr"),
	// whose value is the parameter as text, so a filter or the UI can
	// look at one parameter without parsing JSON.
	MetaParamPrefix = "tune_param_"
)

// ManagedBy is the value of MetaManagedBy.
const ManagedBy = "tune"

// maxJobIDLength keeps job IDs readable in the UI and in CLI tables; Nomad
// itself only rejects spaces and NUL characters.
const maxJobIDLength = 128

// JobID is the Nomad job ID of a trial: "tune-<experiment>-<trialID>".
// It does not depend on the attempt, so every attempt of a trial is a new
// version of one job and `nomad job history` shows them together.
//
// Characters other than letters, digits, '-', '_' and '.' become '-', and
// an ID longer than maxJobIDLength is cut; when either happens a hash of
// the full ID is appended so that distinct inputs keep distinct IDs.
func JobID(experimentName, trialID string) string {
	return SafeName("tune-"+experimentName+"-"+trialID, ".", maxJobIDLength)
}

// SafeName keeps the letters, digits, '-', '_' and the runes of extra in
// name and turns every other rune into '-'. When that changes name, or
// name is longer than maxLen, a hash of name is appended (the name cut to
// make room), so that distinct names keep distinct results.
func SafeName(name, extra string, maxLen int) string {
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', strings.ContainsRune(extra, r):
			return r
		}
		return '-'
	}, name)
	if clean == name && len(name) <= maxLen {
		return name
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	suffix := fmt.Sprintf("-%08x", h.Sum32())
	if len(clean) > maxLen-len(suffix) {
		clean = clean[:maxLen-len(suffix)]
	}
	return clean + suffix
}
