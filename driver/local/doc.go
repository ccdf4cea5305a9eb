// Package local is the local target: trials run as processes on this
// machine, the way Ray Tune runs on a laptop when it is not attached to a
// cluster. DetectCapacity, DetectGPUs and GPUMemoryUsed describe what the
// machine offers, so that `tune plan` can fit trials onto it, and Driver
// runs them there behind the same driver.Driver interface as the Nomad
// target.
//
// The machine is presented to the planner as one node in the planner's own
// terms, so the one fit function that serves Nomad serves this target too:
// CPU in milli-CPUs (MHzPerCore = 1000), memory in MiB, GPUs as one
// "nvidia/gpu" device group per model whose instance IDs are the indices
// CUDA_VISIBLE_DEVICES lists. Local GPUs may be shared fractionally, as in
// Ray Tune.
//
// The driver runs every task of every allocation of a trial as one process:
// the task's command with its args, never through a shell, in the
// experiment file's folder, with the environment a Nomad task of the same
// trial gets (TUNE_RANK, TUNE_WORLD_SIZE, TUNE_CONFIG, ... as package trialenv
// sets them; of tune's own environment, everything but NOMAD_*, the Nomad
// client's credentials, which a task passes in its env block if it means
// to) and CUDA_VISIBLE_DEVICES naming the GPUs the
// planner's assignment granted the task, with CUDA_DEVICE_ORDER=PCI_BUS_ID
// so that CUDA and NVML count GPUs alike. Each process leads a process
// group of its own, so a stop (SIGTERM, then SIGKILL after a grace period)
// reaches everything it started, and what a task leaves behind in its group
// when it exits is killed, as Nomad's executor does.
//
// Nothing of a trial may outlive tune: after a kill -9 of tune, a trainer
// behind a shell (sh train.sh starting python) would otherwise run on
// unseen, and beside the same trial's next attempt when the experiment
// resumes. A parent-death signal reaches only the direct child, and a
// process group only the processes that stay in it, so on Linux every task
// runs under a supervisor: tune itself, run again with a hidden argument
// (SupervisorCommand; the tune command's main and this package's TestMain
// call MaybeSupervise). The supervisor is a child subreaper, so the task's
// whole tree stays below it; it learns of tune's death from the end of a
// pipe only tune writes to (and a parent-death signal), then kills the
// tree, and when the task exits it kills what is left and exits as the
// task did. A stop's SIGKILL goes through the same pipe, since a signal to
// the process group would end the supervisor before what left the group;
// the group is killed only once the supervisor has exited. This was
// chosen over recording each trial's process group in its folder and
// killing it on resume: that leaves the trainer running
// until a resume that may never come, needs checks that the recorded
// process is still ours, and misses processes that left the group. Other
// systems run the task directly, in its group, and a task there outlives a
// tune that is killed. A trial's processes
// start together or not
// at all and fail together: when one exits non-zero the others are stopped.
// Output is passed on line by line and @tune lines become report events,
// the same protocol as on Nomad.
//
// Lifecycle tasks run in Nomad's order (prestart to completion, then the
// main tasks with sidecars and poststart tasks beside them, then
// poststop), and templates are rendered before anything starts, into
// <trial folder>/alloc-<rank>/<task>, as far as this machine can honour
// them: text and {{ env "NAME" }}. What needs a Nomad client (artifacts,
// volumes, other template functions, another user) is refused by Check
// before anything runs, with the block's file and line, rather than
// skipped.
//
// What this package must not do:
//   - decide placement, admission, retries or when to stop a trial: that is
//     the controller's and the planner's job, and keeping it out of the
//     drivers is what makes local and Nomad behave alike;
//   - fail because this machine has no GPU, no NVIDIA driver or no cgo: a
//     machine without GPUs is the common case, and declared GPUs
//     (-local-gpus) let GPU experiments be tried on it;
//   - change the planner's types to carry local details: what only the local
//     target needs (GPU UUIDs, for instance) stays in this package;
//   - reserve, lock or reset a GPU, or change any device setting: it only
//     reads what NVML reports;
//   - block on the controller: events are queued without bound, so a slow
//     reader of Events never stalls a trial's output.
package local
