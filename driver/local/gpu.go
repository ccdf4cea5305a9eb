package local

// GPU is one GPU of this machine as NVML reports it, or one declared with
// -local-gpus where the machine has fewer.
type GPU struct {
	// Index is NVML's index: the number CUDA_VISIBLE_DEVICES names, and the
	// instance ID in the capacity. NVML numbers GPUs in PCI bus order, CUDA
	// by default fastest first, so whoever sets CUDA_VISIBLE_DEVICES from it
	// must also set CUDA_DEVICE_ORDER=PCI_BUS_ID for both to mean the same
	// GPU.
	Index int
	// UUID is NVML's "GPU-..." identifier, which Nomad's device plugin
	// reports and NVIDIA_VISIBLE_DEVICES takes; empty for a declared GPU.
	UUID string
	// Model is NVML's device name (what Nomad calls the device model), or
	// DeclaredModel.
	Model string
	// MemoryMiB is the GPU's total memory; 0 when unknown (declared GPUs).
	MemoryMiB int64
}

// DeclaredModel is the model of a GPU that -local-gpus declares beyond the
// ones NVML sees. It lets GPU trials be planned and run on a machine without
// GPUs; such a trial gets CUDA_VISIBLE_DEVICES set but no real device.
const DeclaredModel = "declared"
