// Package jobs compiles one trial of an experiment into one Nomad batch job
// (*api.Job): one task group per trial group, with the trial's resources,
// device requests, constraints, placement, restart and timeout policies,
// the TUNE_* environment every task reads, and job meta and a UI block so
// that every trial can be found by a meta filter and read in the Nomad UI.
//
// Compiling is pure: this package must not call Nomad, read files or look
// at the clock. The Nomad driver submits what Compile returns, and plan
// output and golden tests print it, so the same trial must always compile
// to the same job.
package jobs
