package local

import "github.com/hashicorp/go-hclog"

// systemMemoryMiB is the machine's total memory as the kernel reports it.
// Like Nomad's fingerprint it is the whole machine's memory: a cgroup
// (container) limit below it is not taken into account, which is what
// -local-memory is for.
func systemMemoryMiB(hclog.Logger) (int64, error) {
	return readMemTotal("/proc/meminfo")
}
