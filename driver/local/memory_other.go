//go:build !linux && !darwin

package local

import "github.com/hashicorp/go-hclog"

// systemMemoryMiB reports 0 on systems where we have no portable way to read
// the total memory without cgo or new dependencies. That is not an error:
// the node then has no memory to offer, so a trial that asks for memory does
// not fit and `tune plan` says so, and -local-memory declares the real
// amount.
func systemMemoryMiB(log hclog.Logger) (int64, error) {
	log.Debug("total memory is not detected on this system; declare it with -local-memory")
	return 0, nil
}
