// Package results is the results directory of an experiment: the one
// place where what happened to every trial is kept, for the user (pandas,
// Ray Tune's result readers, `tune results`) and for a later `tune apply`
// that resumes the experiment.
//
//	<root>/<experiment>/experiment.json     the Summary and the spec
//	<root>/<experiment>/trials.csv          one row per trial
//	<root>/<experiment>/<trial_id>/params.json
//	<root>/<experiment>/<trial_id>/trial.json   the record, with its attempts' history
//	<root>/<experiment>/<trial_id>/result.json   JSON lines, one per report
//	<root>/<experiment>/<trial_id>/progress.csv
//	<root>/<experiment>/<trial_id>/stdout.log, stderr.log
//	<root>/<experiment>/<trial_id>/error.txt    why the last failed attempt failed
//
// Whole files are replaced atomically (a temporary file in the same
// folder, fsync, rename); files that grow line by line get each line in
// one write. A crash of tune therefore leaves old or new files and whole
// lines, never half of either.
//
// A Store records; it does not decide. Which trial runs, when it is
// retried or stopped and what status it ends with are the controller's:
// the Store persists the records it is handed and adds only what Ray Tune
// adds to a reported row. It holds an exclusive lock on the experiment's
// folder so that two tune processes never write the same files.
package results
