// Package nomadsim is a simulated HashiCorp Nomad cluster served over
// Nomad's HTTP API, so the Nomad target of tune can be tested for
// correctness in CI, where no Nomad binary is available, and measured at
// a scale no single machine could run: hundreds of GPU nodes, thousands
// of jobs. The real github.com/hashicorp/nomad/api client talks to it
// unchanged. It is a test double; it must never be used as a production
// server: it has no persistence, no ACLs, no TLS and no isolation.
//
// What it models, following Nomad 2.0's source rather than its
// documentation where the two differ:
//
//   - One server with a raft-like index: jobs (with versions and
//     summaries), allocations, evaluations and nodes carry CreateIndex and
//     ModifyIndex; list endpoints report their table's index and blocking
//     queries (index, wait) wait for a change to what they watch, as
//     Nomad's watch sets do. Responses carry X-Nomad-Index,
//     X-Nomad-LastContact and X-Nomad-KnownLeader.
//   - Job registration with the api package's and the server's defaults,
//     Nomad's validation messages, EnforceIndex/JobModifyIndex (the
//     "Enforcing job modify index" errors), unchanged re-registration
//     (a new evaluation, no new version), deregistration with and without
//     purge, dry-run plans with FailedTGAllocs, annotations and a
//     group-level diff, namespaces and node pools that must exist.
//   - The batch (and, without deployments, service) scheduler: a
//     reconciler with Nomad's rules for completed, failed, lost and
//     old-version allocations; feasibility (datacenter globs, node pool,
//     drivers, job/group/task constraints with all of Nomad's operators,
//     device presence, distinct_hosts, distinct_property) with computed
//     node classes, so identical nodes are "computed class ineligible";
//     bin-packing of CPU MHz, reserved cores, memory, disk and devices
//     (vendor/type[/model], count, constraints and affinities on
//     ${device.model} and ${device.attr.*} with units); Nomad's scores
//     (binpack, job anti-affinity, reschedule penalty, node affinity,
//     spread) and its limit of two candidate nodes for batch jobs;
//     AllocationMetric with nodes evaluated, filtered, exhausted and the
//     dimension exhausted. Each task group is placed on its own: a job
//     that does not fit whole is placed in part and the rest waits in a
//     blocked evaluation, retried whenever capacity frees or a node joins.
//   - Clients: every allocation runs its tasks through Nomad's lifecycle
//     (prestart, sidecars, poststart, poststop, leaders, sibling
//     failure), restart policies (attempts, interval, delay with jitter,
//     fail and delay modes), rescheduling (attempts, delay functions,
//     follow-up evaluations, node penalties), max_run_duration (2.0.3+),
//     and Nomad's task events and display messages. mock_driver tasks
//     take Nomad's mock driver config (run_for, exit_code, exit_signal,
//     exit_err_msg, stdout/stderr_string with _repeat and
//     _repeat_duration, start_error, start_error_recoverable,
//     start_block_for, kill_after); raw_exec and exec tasks run their
//     command as a local process with Nomad's task environment
//     (NOMAD_*, NVIDIA_VISIBLE_DEVICES for granted GPUs, ${...}
//     interpolation, templates with env = true).
//   - Logs (/v1/client/fs/logs) framed as Nomad frames them, with
//     rotation, origins, offsets, plain output and follow. An offset
//     counts across the rotated files as Nomad's does, so a reader
//     resumes with origin start and the bytes it has read, and every read
//     walks forward from file to file.
//   - The event stream (/v1/event/stream) with topics, keys, namespaces,
//     replay from an index and heartbeats.
//   - A cluster described by counts of node shapes, a clock that can run
//     faster than real time (clock.Scaled) or only when told
//     (clock.Manual), and injectable faults: failed and lost-reply
//     requests, latency, cut event streams and lost nodes.
//
// What it does not model, deliberately: system and sysbatch jobs (refused
// at registration), periodic and parameterized job launches, deployments,
// canaries and update strategies, networks and ports, services and
// checks, host and CSI volumes (requests for them find no node),
// artifacts, Consul, Vault and secrets, preemption, node drain and
// eligibility endpoints, multiple regions and servers, ACLs, garbage
// collection, and the file system endpoints other than logs. Templates
// render with env, parseInt and a few pure functions only (no Consul or
// Vault lookups). Clients report each task state change as its own write
// instead of batching them every 200ms, and a node's computed class is
// its node spec rather than a hash of its attributes. exec tasks run
// without isolation, like raw_exec. Real processes run in real time
// whatever the clock says. Where Nomad's behaviour is awkward but real,
// the simulator keeps it: a followed log stream stays open after its task
// has died, and deregistration evaluations have the type "service".
package nomadsim
