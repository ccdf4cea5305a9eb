// Package search chooses trials' parameter values: random search (each
// trial drawn from its own seeded source, grid points expanded) and a
// Tree-structured Parzen Estimator that suggests the next trial from the
// trials that have finished.
//
// A Searcher is told only values and metrics; it must not read results
// folders, start anything or keep state that cannot be rebuilt by telling
// it again what has finished: a resumed experiment rebuilds it that way.
package search
