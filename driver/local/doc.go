// Package local is the local target: trials run as processes on this
// machine, the way Ray Tune runs on a laptop when it is not attached to a
// cluster. Today it describes what this machine offers (DetectCapacity,
// DetectGPUs, GPUMemoryUsed) so that `tune plan` can fit trials onto it; the
// local process driver will live here too and use the same inventory.
//
// The machine is presented to the planner as one node in the planner's own
// terms, so the one fit function that serves Nomad serves this target too:
// CPU in milli-CPUs (MHzPerCore = 1000), memory in MiB, GPUs as one
// "nvidia/gpu" device group per model whose instance IDs are the indices
// CUDA_VISIBLE_DEVICES lists. Local GPUs may be shared fractionally, as in
// Ray Tune.
//
// What this package must not do:
//   - decide placement, admission or retries: that is the planner's job, and
//     keeping it out of the drivers is what makes local and Nomad behave alike;
//   - fail because this machine has no GPU, no NVIDIA driver or no cgo: a
//     machine without GPUs is the common case, and declared GPUs
//     (-local-gpus) let GPU experiments be tried on it;
//   - change the planner's types to carry local details: what only the local
//     target needs (GPU UUIDs, for instance) stays in this package;
//   - reserve, lock or reset a GPU, or change any device setting: it only
//     reads what NVML reports.
package local
