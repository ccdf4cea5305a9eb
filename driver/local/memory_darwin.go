package local

import (
	"fmt"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sys/unix"
)

// systemMemoryMiB is the machine's physical memory. macOS has no
// /proc/meminfo; the hw.memsize sysctl is its equivalent of MemTotal.
func systemMemoryMiB(hclog.Logger) (int64, error) {
	bytes, err := unix.SysctlUint64("hw.memsize")
	if err != nil {
		return 0, fmt.Errorf("sysctl hw.memsize: %w", err)
	}
	return int64(bytes / (1 << 20)), nil
}
