// Package experiment is the model of one tuning experiment: its search space,
// the template every trial is built from (groups, tasks, resources), and the
// policies that govern it (failures, stopping, placement, Nomad settings).
//
// The model is produced by package hcl and consumed by the planner, the job
// compiler and the drivers. It owns the per-trial evaluation of the template
// (Experiment.ResolveShape and Experiment.ResolveTasks), so every consumer
// sees the same answer for "what does trial N ask for". It must not talk to
// Nomad, start processes or read files other than through what it is given.
package experiment
