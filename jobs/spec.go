package jobs

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/nomad/api"

	"github.com/nomad-tune/tune/experiment"
	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/trialenv"
)

// specMHzPerCore is the CPU speed a spec is compiled at. The spec leaves
// cpu shares out (see specOf), so any speed gives the same spec; this one
// only satisfies Compile.
const specMHzPerCore = 1000

// Spec is the hash of what tune compiles for a trial, written to its
// job's meta under trialenv.MetaSpec. Two compiles of a trial have the same spec
// exactly when they would run the same thing, so a job whose spec differs
// from the trial's now was compiled from another definition (the file or
// its variables changed) and its results are not this definition's.
//
// It covers the whole job as compiled for attempt 0: groups and counts,
// tasks, drivers and their config, command, args and env, resources
// (cpu as the cores asked for, memory, devices), constraints, placement,
// restart and timeout policies, datacenters, node pool, namespace,
// region, priority, meta (which tasks read as NOMAD_META_*) and
// parameters. It leaves out what tune varies per attempt (the attempt
// number in meta and in TUNE_ATTEMPT), the UI block (a description and
// links say what the job is, not what it does: editing the experiment's
// description or metric changes no result), and the MHz a cpu request
// turns into, which depends on the cluster's nodes rather than on the
// trial, so a cluster whose CPUs change does not make finished trials
// changed. Nor does it cover the node pin an attempt is registered with
// (Pin), which Compile never adds: it says where one attempt runs, not
// what the trial runs, and a resumed run must adopt a job pinned anywhere.
// A version of tune that compiles jobs differently gives different specs.
func Spec(e *experiment.Experiment, t *planner.Trial) (string, hcl.Diagnostics) {
	job, diags := compile(e, t, Options{MHzPerCore: specMHzPerCore})
	if diags.HasErrors() {
		return "", diags
	}
	spec, d := specOfTrial(e, t, job)
	return spec, append(diags, d...)
}

// specOfTrial is specOf with its failure as a diagnostic of the trial.
func specOfTrial(e *experiment.Experiment, t *planner.Trial, job *api.Job) (string, hcl.Diagnostics) {
	spec, err := specOf(job)
	if err != nil {
		return "", hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot hash the trial's job",
			Detail:   fmt.Sprintf("Trial %s: %s.", t.ID, err),
			Subject:  e.DefRange.Ptr(),
		}}
	}
	return spec, nil
}

// specOf hashes a job compiled for attempt 0, without its spec meta and
// UI block, and with cpu shares left out: each task's TUNE_CPUS holds the cores it
// asked for, which is what the shares were computed from. The job is
// left as it was.
func specOf(job *api.Job) (string, error) {
	// The fields left out are cleared for the encoding and put back, which
	// costs far less than encoding a copy.
	var cpus []**int
	for _, tg := range job.TaskGroups {
		for _, task := range tg.Tasks {
			if task.Resources != nil && task.Resources.CPU != nil {
				cpus = append(cpus, &task.Resources.CPU)
			}
		}
	}
	saved := make([]*int, len(cpus))
	for i, p := range cpus {
		saved[i], *p = *p, nil
	}
	spec, hadSpec := job.Meta[trialenv.MetaSpec]
	delete(job.Meta, trialenv.MetaSpec)
	ui := job.UI
	job.UI = nil
	raw, err := json.Marshal(job)
	job.UI = ui
	for i, p := range cpus {
		*p = saved[i]
	}
	if hadSpec {
		job.Meta[trialenv.MetaSpec] = spec
	}
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:16]), nil
}
