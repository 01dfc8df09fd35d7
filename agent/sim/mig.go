package sim

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// migDevice is one MIG instance of a simulated GPU.
type migDevice struct {
	nvml.Device

	parent  *Device
	gi, ci  int
	profile string
	memMiB  uint64
}

// buildMIG carves the model's MIG instances out of the GPU.
func (d *Device) buildMIG() {
	for i, p := range d.model.MIGProfiles {
		d.migs = append(d.migs, &migDevice{parent: d, gi: i + 1, profile: p, memMiB: profileMemMiB(p)})
	}
}

// profileMemMiB reads the memory out of a profile name: "3g.40gb" is 40 GiB.
func profileMemMiB(p string) uint64 {
	_, mem, _ := strings.Cut(p, ".")
	gb, _ := strconv.Atoi(strings.TrimSuffix(mem, "gb"))
	return uint64(gb) * 1024
}

// used is the instance's share of the simulated job's memory.
func (m *migDevice) used() uint64 {
	st := m.parent.read()
	frac := st.memUsed / float64(m.parent.model.MemoryMiB)
	return uint64(frac*float64(m.memMiB)) << 20
}

func (d *Device) GetMigMode() (int, int, nvml.Return) {
	if ret := d.supported(d.model.Arch >= nvml.DEVICE_ARCH_AMPERE && d.model.MemoryTemp); ret != nvml.SUCCESS {
		return 0, 0, ret
	}
	if d.migs != nil {
		return nvml.DEVICE_MIG_ENABLE, nvml.DEVICE_MIG_ENABLE, nvml.SUCCESS
	}
	return nvml.DEVICE_MIG_DISABLE, nvml.DEVICE_MIG_DISABLE, nvml.SUCCESS
}

func (d *Device) GetMaxMigDeviceCount() (int, nvml.Return) { return 7, d.do() }

func (d *Device) GetMigDeviceHandleByIndex(i int) (nvml.Device, nvml.Return) {
	if ret := d.do(); ret != nvml.SUCCESS {
		return nil, ret
	}
	if i < 0 || i >= len(d.migs) {
		return nil, nvml.ERROR_NOT_FOUND
	}
	return d.migs[i], nvml.SUCCESS
}

func (m *migDevice) GetGpuInstanceId() (int, nvml.Return)     { return m.gi, m.parent.do() }
func (m *migDevice) GetComputeInstanceId() (int, nvml.Return) { return m.ci, m.parent.do() }
func (m *migDevice) GetUUID() (string, nvml.Return) {
	return fmt.Sprintf("MIG-%s-%d", strings.TrimPrefix(m.parent.uuid, "GPU-")[:18], m.gi), nvml.SUCCESS
}
func (m *migDevice) GetName() (string, nvml.Return) {
	return m.parent.model.Name + " MIG " + m.profile, nvml.SUCCESS
}
func (m *migDevice) GetMemoryInfo() (nvml.Memory, nvml.Return) {
	total := m.memMiB << 20
	used := m.used()
	return nvml.Memory{Total: total, Used: used, Free: total - used}, m.parent.do()
}
