// Package nomadvars keeps a running experiment's progress in Nomad
// Variables, so that the Nomad web UI shows it to people who never open a
// terminal: each trial job's status, latest and best metrics in the
// Variable at the job's own path (nomad/jobs/<job id>, shown on the job
// page's Variables tab), and the experiment's counts, progress and best
// trial in one Variable next to its lease (tune/<experiment>/summary).
//
// A Publisher is a controller.Reporter: it mirrors what the controller
// reports and decides nothing about trials. It writes at a bounded rate
// (at most once per interval per Variable, plus at once when a trial
// ends), with check-and-set, through the client tune already holds (and
// so within its connection budget). A token that may not write Variables
// costs one warning, never the experiment.
package nomadvars
