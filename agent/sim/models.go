package sim

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// Model is what the simulator knows of a GPU model: the static facts and
// which NVML features it has (what it lacks answers ERROR_NOT_SUPPORTED).
type Model struct {
	Key         string
	Name        string
	Arch        nvml.DeviceArchitecture
	MemoryMiB   uint64
	ReservedMiB uint64
	PowerLimitW float64
	IdlePowerW  float64
	MaxSMClock  uint32 // MHz
	IdleSMClock uint32
	MemClock    uint32
	NVLinks     int
	ECC         bool
	Fan         bool
	MemoryTemp  bool
	GPM         bool
	MIGProfiles []string // non-empty: MIG mode on, with these instances
	PCIDeviceID uint32
}

var models = []Model{
	{Key: "h100", Name: "NVIDIA H100 80GB HBM3", Arch: nvml.DEVICE_ARCH_HOPPER, MemoryMiB: 81559, ReservedMiB: 535,
		PowerLimitW: 700, IdlePowerW: 72, MaxSMClock: 1980, IdleSMClock: 345, MemClock: 2619, NVLinks: 18,
		ECC: true, MemoryTemp: true, GPM: true, PCIDeviceID: 0x233010de},
	{Key: "h200", Name: "NVIDIA H200", Arch: nvml.DEVICE_ARCH_HOPPER, MemoryMiB: 143771, ReservedMiB: 584,
		PowerLimitW: 700, IdlePowerW: 78, MaxSMClock: 1980, IdleSMClock: 345, MemClock: 3201, NVLinks: 18,
		ECC: true, MemoryTemp: true, GPM: true, PCIDeviceID: 0x233510de},
	{Key: "a100", Name: "NVIDIA A100-SXM4-80GB", Arch: nvml.DEVICE_ARCH_AMPERE, MemoryMiB: 81920, ReservedMiB: 512,
		PowerLimitW: 400, IdlePowerW: 58, MaxSMClock: 1410, IdleSMClock: 210, MemClock: 1593, NVLinks: 12,
		ECC: true, MemoryTemp: true, PCIDeviceID: 0x20b210de},
	{Key: "a100mig", Name: "NVIDIA A100-SXM4-80GB", Arch: nvml.DEVICE_ARCH_AMPERE, MemoryMiB: 81920, ReservedMiB: 512,
		PowerLimitW: 400, IdlePowerW: 58, MaxSMClock: 1410, IdleSMClock: 210, MemClock: 1593, NVLinks: 12,
		ECC: true, MemoryTemp: true, MIGProfiles: []string{"3g.40gb", "2g.20gb", "1g.10gb"}, PCIDeviceID: 0x20b210de},
	{Key: "l40s", Name: "NVIDIA L40S", Arch: nvml.DEVICE_ARCH_ADA, MemoryMiB: 46068, ReservedMiB: 590,
		PowerLimitW: 350, IdlePowerW: 35, MaxSMClock: 2520, IdleSMClock: 210, MemClock: 9001,
		ECC: true, PCIDeviceID: 0x26b910de},
	{Key: "l4", Name: "NVIDIA L4", Arch: nvml.DEVICE_ARCH_ADA, MemoryMiB: 23034, ReservedMiB: 412,
		PowerLimitW: 72, IdlePowerW: 16, MaxSMClock: 2040, IdleSMClock: 210, MemClock: 6251,
		ECC: true, PCIDeviceID: 0x27b810de},
	{Key: "rtx4090", Name: "NVIDIA GeForce RTX 4090", Arch: nvml.DEVICE_ARCH_ADA, MemoryMiB: 24564, ReservedMiB: 360,
		PowerLimitW: 450, IdlePowerW: 22, MaxSMClock: 2790, IdleSMClock: 210, MemClock: 10501,
		Fan: true, PCIDeviceID: 0x268410de},
}

// mixedSpec is a small box of unlike GPUs: GPM, MIG, a consumer card with a
// fan and no ECC, and one without NVLink.
const mixedSpec = "h100x1,a100migx1,l40sx1,rtx4090x1"

// ModelKeys lists the model names ParseSpec accepts.
func ModelKeys() []string {
	keys := make([]string, len(models))
	for i, m := range models {
		keys[i] = m.Key
	}
	return keys
}

// ParseSpec reads a machine description: "h100x8", "a100x4,l4x2", or
// "mixed". A model without a count means one GPU.
func ParseSpec(spec string) ([]Model, error) {
	spec = strings.ToLower(strings.TrimSpace(spec))
	if spec == "mixed" {
		spec = mixedSpec
	}
	var out []Model
	for part := range strings.SplitSeq(spec, ",") {
		part = strings.TrimSpace(part)
		key, count := part, 1
		if i := strings.LastIndexByte(part, 'x'); i > 0 {
			if n, err := strconv.Atoi(part[i+1:]); err == nil {
				key, count = part[:i], n
			}
		}
		m, ok := findModel(key)
		if !ok {
			return nil, fmt.Errorf("simulate %q: unknown GPU model %q (known: %s, or mixed)", spec, key, strings.Join(ModelKeys(), ", "))
		}
		if count < 1 || count > 64 {
			return nil, fmt.Errorf("simulate %q: %d GPUs of %s: want 1 to 64", spec, count, key)
		}
		for range count {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("simulate %q: no GPUs", spec)
	}
	return out, nil
}

func findModel(key string) (Model, bool) {
	for _, m := range models {
		if m.Key == key {
			return m, true
		}
	}
	return Model{}, false
}
