//go:build cgo && linux

package local

import (
	"fmt"
	"sync"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/hashicorp/go-hclog"
)

// nvmlSession is NVML initialised once for the life of the process and
// never shut down. nvmlInit can take seconds on GPUs without persistence
// mode, and wait_for_gpu polls GPUMemoryUsed, so paying it per call is not
// an option. The mutex also serialises every NVML call: go-nvml keeps
// process-wide state (its error-string function) that it swaps without
// locking when the library is loaded or unloaded.
var nvmlSession struct {
	sync.Mutex
	tried bool
	// unavailable says why NVML cannot be used; nil once it is initialised.
	unavailable error
	// memoryV2 says whether the driver has nvmlDeviceGetMemoryInfo_v2
	// (R510 and later); calling a symbol the library lacks would crash.
	memoryV2 bool
}

// nvmlReadyLocked initialises NVML on first use. A failure is remembered,
// and said once, so that asking again on a machine without GPUs costs
// nothing and logs nothing.
func nvmlReadyLocked(log hclog.Logger) error {
	s := &nvmlSession
	if s.tried {
		return s.unavailable
	}
	s.tried = true
	if ret := nvml.Init(); ret != nvml.SUCCESS {
		s.unavailable = fmt.Errorf("NVML is not available: %v", ret)
		if ret == nvml.ERROR_LIBRARY_NOT_FOUND || ret == nvml.ERROR_DRIVER_NOT_LOADED {
			log.Debug("no NVIDIA GPUs: NVML is not available", "reason", ret.Error())
		} else {
			// There is an NVIDIA driver but it does not work (a driver
			// upgraded without a reboot, a permission problem): the user
			// has GPUs they cannot use and needs to hear about it.
			log.Warn("NVIDIA driver present but NVML failed to start; no GPUs will be used", "reason", ret.Error())
		}
		return s.unavailable
	}
	s.memoryV2 = nvml.Extensions().LookupSymbol("nvmlDeviceGetMemoryInfo_v2") == nil
	return nil
}

// DetectGPUs lists this machine's NVIDIA GPUs in index order. No NVIDIA
// driver or library means no GPUs and no error; an error means NVML started
// but could not list the devices. A GPU NVML cannot describe is left out
// with a warning rather than offered to trials that would fail on it.
func DetectGPUs(log hclog.Logger) ([]GPU, error) {
	log = orNullLogger(log)
	nvmlSession.Lock()
	defer nvmlSession.Unlock()
	if nvmlReadyLocked(log) != nil {
		return nil, nil
	}
	count, ret := nvml.DeviceGetCount()
	if ret != nvml.SUCCESS {
		return nil, fmt.Errorf("NVML: counting GPUs: %v", ret)
	}
	gpus := make([]GPU, 0, count)
	for i := range count {
		gpu, err := describeGPU(i)
		if err != nil {
			log.Warn("leaving out a GPU that NVML cannot describe", "index", i, "error", err)
			continue
		}
		gpus = append(gpus, gpu)
	}
	return gpus, nil
}

func describeGPU(index int) (GPU, error) {
	dev, ret := nvml.DeviceGetHandleByIndex(index)
	if ret != nvml.SUCCESS {
		return GPU{}, fmt.Errorf("handle: %v", ret)
	}
	uuid, ret := dev.GetUUID()
	if ret != nvml.SUCCESS {
		return GPU{}, fmt.Errorf("UUID: %v", ret)
	}
	model, ret := dev.GetName()
	if ret != nvml.SUCCESS {
		return GPU{}, fmt.Errorf("name: %v", ret)
	}
	// The v1 total is what Nomad's NVIDIA device plugin reports as the
	// "memory" attribute, so constraints on it mean the same on both targets.
	mem, ret := dev.GetMemoryInfo()
	if ret != nvml.SUCCESS {
		return GPU{}, fmt.Errorf("memory: %v", ret)
	}
	return GPU{Index: index, UUID: uuid, Model: model, MemoryMiB: int64(mem.Total >> 20)}, nil
}

// GPUMemoryUsed returns the fraction (0 to 1) of the memory of GPU index
// (NVML's index) that is allocated, for wait_for_gpu. Memory the driver
// reserves for itself is not counted where the driver can say how much it
// is: on an idle small GPU it is several percent, more than wait_for_gpu's
// default threshold, and the wait would never end.
func GPUMemoryUsed(index int) (usedFraction float64, err error) {
	if index < 0 {
		return 0, fmt.Errorf("GPU index %d is negative", index)
	}
	nvmlSession.Lock()
	defer nvmlSession.Unlock()
	if err := nvmlReadyLocked(hclog.NewNullLogger()); err != nil {
		return 0, err
	}
	dev, ret := nvml.DeviceGetHandleByIndex(index)
	if ret != nvml.SUCCESS {
		return 0, fmt.Errorf("NVML: GPU %d: %v", index, ret)
	}
	var used, total uint64
	if nvmlSession.memoryV2 {
		mem, ret := dev.GetMemoryInfo_v2()
		if ret != nvml.SUCCESS {
			return 0, fmt.Errorf("NVML: GPU %d memory: %v", index, ret)
		}
		used, total = mem.Used, mem.Total
	} else {
		mem, ret := dev.GetMemoryInfo()
		if ret != nvml.SUCCESS {
			return 0, fmt.Errorf("NVML: GPU %d memory: %v", index, ret)
		}
		used, total = mem.Used, mem.Total
	}
	if total == 0 || used > total {
		return 0, fmt.Errorf("NVML: GPU %d reports %d bytes used of %d", index, used, total)
	}
	return float64(used) / float64(total), nil
}
