// Package planner turns an experiment into trials and decides what can run
// where: it generates trials (deterministically from the seed), models the
// capacity of a target (nodes with CPU, memory, GPUs and other devices),
// fits trials onto it as whole gangs, and builds the Plan value that
// `tune plan` prints and `tune apply` executes.
//
// Everything here is pure: no Nomad calls, no processes, no clock. Drivers
// give the planner a capacity snapshot; the planner gives back decisions.
package planner
