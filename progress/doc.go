// Package progress shows what `tune apply` is doing while an experiment
// runs, in the spirit of Ray Tune's CLIReporter. It implements
// controller.Reporter in two forms: a live block redrawn in place for a
// terminal, and plain timestamped lines for logs that are read later (CI,
// files, pipes), where redrawing would only leave garbage behind.
//
// A reporter is a view. Everything it shows comes from the snapshots and
// changes the controller hands it; it keeps no trial state of its own
// beyond what is on screen (the last block drawn, the columns chosen), so
// it can never disagree with the controller about a trial. It must not
// block the controller either: it starts no goroutines, waits on no
// timers, and does nothing on a call but format and write. Times come from
// the snapshot's Elapsed rather than the wall clock, so the same sequence
// of calls always prints the same bytes.
package progress
