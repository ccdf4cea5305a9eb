//go:build !cgo || !linux

package local

import (
	"errors"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// errNoNVML is why GPUs are not seen: go-nvml calls NVML through cgo, and
// only on Linux, so a build without cgo (CGO_ENABLED=0, cross-compiled) or
// for another system has no way to reach it.
var errNoNVML = errors.New("NVML is not available: this build of tune has no cgo or is not for Linux")

var saidNoNVML sync.Once

// DetectGPUs reports no GPUs: this build cannot talk to NVML. GPUs can still
// be declared with -local-gpus.
func DetectGPUs(log hclog.Logger) ([]GPU, error) {
	saidNoNVML.Do(func() {
		orNullLogger(log).Debug("no NVIDIA GPUs: NVML is not available", "reason", errNoNVML.Error())
	})
	return nil, nil
}

// GPUMemoryUsed always fails in this build: there is no NVML to ask.
func GPUMemoryUsed(index int) (usedFraction float64, err error) {
	return 0, errNoNVML
}
