// Package nomad is the Nomad target: every attempt of a trial is one Nomad
// batch job, compiled by package jobs, registered through the official
// github.com/hashicorp/nomad/api client and followed on the cluster's event
// stream. Driver runs it behind the same driver.Driver interface as the
// local target; Capacity reads the cluster's ready, eligible nodes in the
// experiment's datacenters and node pool, less what their allocations
// already hold, for the planner; DryRun asks Nomad's scheduler whether a
// job would be placed, and why not, without registering it.
//
// Nomad places what fits of a multi-allocation job and leaves the rest
// waiting in a blocked evaluation, so the gang rule is built here: a job
// is planned before it is registered (unless on_unfit = "queue" asks for
// Nomad's queue), and one that is not wholly placed within the
// experiment's gang_timeout is deregistered and reported as Unplaced;
// when one allocation of a gang fails, the job is stopped so the others
// end with it.
//
// Trial jobs outlive the tune that registered them, so a later tune adopts
// them (driver.Adopter): Existing finds the experiment's jobs by their
// meta, and Adopt follows one as Start follows its own, reading its
// output from the start so that an attempt that ran, or ended, while no
// tune watched is collected whole rather than run again. Capacity leaves
// the experiment's own jobs out of what is in use, for the controller
// counts its trials, adopted ones included, itself.
//
// Placement is the controller's: each job is pinned to the nodes of the
// trial's assignment (jobs.Pin), so that Nomad places it where the
// controller's snapshot counts it. The pin is a request the cluster may
// no longer grant: a pinned job Nomad would not place is planned again
// without it, and only that plan can say a trial never runs.
//
// Submissions run in the background, a few at once within the connection
// budget (submitQueue): Start compiles and queues, and the attempt's end,
// a failed submission's included, arrives as its EventExited.
//
// Registration is idempotent: a new job is registered only if it does not
// exist (EnforceIndex with index 0) and a new attempt only over the
// version tune last knew of (the index of its own last registration or
// deregistration, or of the experiment's job listing), so a retried
// request or a concurrent writer can never double-submit a trial; the
// job is read only when that registration conflicts.
//
// What this package must not do:
//   - decide admission, placement, retries or when a trial stops: the
//     controller does, as it does for the local target;
//   - write the ACL token anywhere: not in logs, errors or events (it only
//     ever travels in the api client's request header);
//   - hold a partial placement: an attempt that Nomad placed only in part
//     is rolled back, never left to wait while it holds resources;
//   - poll: allocations are followed on one event-stream subscription,
//     re-read only once after the stream is (re)established;
//   - block on the controller: events are queued without bound, so a slow
//     reader of Events never stalls the stream or a trial's output.
package nomad
