package trialenv

import "fmt"

// Meta keys of every trial job. tune finds an experiment's jobs with
// Filter on Jobs().List, so these names are part of tune's contract with a
// cluster that may hold jobs from older versions of tune: do not rename
// them.
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
	// MetaSpec is the hash of what was compiled for the trial: a job
	// whose spec differs from the trial's now was compiled from another
	// definition of the experiment.
	MetaSpec = "tune_spec"
	// MetaParamPrefix starts one key per parameter ("tune_param_lr"),
	// whose value is the parameter as text, so a filter or the UI can
	// look at one parameter without parsing JSON.
	MetaParamPrefix = "tune_param_"
)

// ManagedBy is the value of MetaManagedBy.
const ManagedBy = "tune"

// Filter selects the jobs of one experiment on a Nomad server (a
// Jobs().List filter expression), by the meta every trial job carries.
func Filter(experiment string) string {
	return fmt.Sprintf(`Meta[%q] == %q and Meta[%q] == %q`, MetaManagedBy, ManagedBy, MetaExperiment, experiment)
}
