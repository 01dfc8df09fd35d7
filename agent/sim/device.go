package sim

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// Device is one simulated GPU.
type Device struct {
	nvml.Device // unimplemented calls panic; the agent makes none

	lib    *Library
	model  *Model
	index  int
	uuid   string
	bus    uint32
	stable bool
	lost   atomic.Bool
	heat   atomic.Uint32 // a pinned temperature in °C (Heat); 0: simulated
	migs   []*migDevice

	mu   sync.Mutex
	rng  *rand.Rand
	st   state
	last time.Time
}

// read advances the simulation to now and returns the current state.
func (d *Device) read() state {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stable {
		return d.st
	}
	now := d.lib.now()
	n := int(now.Sub(d.last) / tick)
	if n > maxCatchUp {
		n = maxCatchUp
		d.last = now.Add(-maxCatchUp * tick)
	}
	for i := range n {
		if d.lib.schedule != nil {
			w := d.lib.schedule(d.index, d.last.Add(tick*time.Duration(i+1)))
			d.st.follow(w, d.model, d.rng)
		} else {
			d.st.step(d.model, d.rng)
		}
	}
	d.last = d.last.Add(tick * time.Duration(n))
	return d.st
}

func (d *Device) isLost() bool { return d.lost.Load() }

// jobPID is the host PID of the job's process, 0 when idle.
func (d *Device) jobPID() uint32 {
	st := d.read()
	if st.jobTicks == 0 || st.memUsed == 0 {
		return 0
	}
	return 40000 + uint32(d.index)*1000 + st.jobID%1000
}

// do answers ERROR_GPU_IS_LOST once the GPU has fallen off the bus.
func (d *Device) do() nvml.Return {
	if d.isLost() {
		return nvml.ERROR_GPU_IS_LOST
	}
	return nvml.SUCCESS
}

func (d *Device) supported(has bool) nvml.Return {
	if ret := d.do(); ret != nvml.SUCCESS {
		return ret
	}
	if !has {
		return nvml.ERROR_NOT_SUPPORTED
	}
	return nvml.SUCCESS
}

func (d *Device) GetUUID() (string, nvml.Return)     { return d.uuid, nvml.SUCCESS }
func (d *Device) GetName() (string, nvml.Return)     { return d.model.Name, nvml.SUCCESS }
func (d *Device) GetIndex() (int, nvml.Return)       { return d.index, nvml.SUCCESS }
func (d *Device) GetMinorNumber() (int, nvml.Return) { return d.index, nvml.SUCCESS }
func (d *Device) GetSerial() (string, nvml.Return) {
	return fmt.Sprintf("16549220%05d", d.index), nvml.SUCCESS
}
func (d *Device) GetVbiosVersion() (string, nvml.Return) { return "96.00.99.00.01", nvml.SUCCESS }
func (d *Device) GetArchitecture() (nvml.DeviceArchitecture, nvml.Return) {
	return d.model.Arch, nvml.SUCCESS
}

func (d *Device) GetPciInfo() (nvml.PciInfo, nvml.Return) {
	p := nvml.PciInfo{Bus: d.bus, PciDeviceId: d.model.PCIDeviceID}
	id := fmt.Sprintf("00000000:%02X:00.0", d.bus)
	for i := range min(len(id), len(p.BusId)-1) {
		p.BusId[i] = int8(id[i])
	}
	return p, nvml.SUCCESS
}

func (d *Device) GetMemoryInfo() (nvml.Memory, nvml.Return) {
	m2, ret := d.GetMemoryInfo_v2()
	return nvml.Memory{Total: m2.Total, Free: m2.Free, Used: m2.Used + m2.Reserved}, ret
}

func (d *Device) GetMemoryInfo_v2() (nvml.Memory_v2, nvml.Return) {
	if ret := d.do(); ret != nvml.SUCCESS {
		return nvml.Memory_v2{}, ret
	}
	st := d.read()
	total := d.model.MemoryMiB << 20
	reserved := d.model.ReservedMiB << 20
	used := uint64(st.memUsed) << 20
	if d.migs != nil {
		used = 0
		for _, m := range d.migs {
			used += m.used()
		}
	}
	return nvml.Memory_v2{Total: total, Reserved: reserved, Used: used, Free: total - reserved - used}, nvml.SUCCESS
}

func (d *Device) GetUtilizationRates() (nvml.Utilization, nvml.Return) {
	if ret := d.supported(d.migs == nil); ret != nvml.SUCCESS { // no utilisation under MIG, as on real GPUs
		return nvml.Utilization{}, ret
	}
	st := d.read()
	return nvml.Utilization{Gpu: uint32(math.Round(st.util)), Memory: uint32(math.Round(st.memCopy))}, nvml.SUCCESS
}

func (d *Device) GetEncoderUtilization() (uint32, uint32, nvml.Return) { return 0, 167000, d.do() }
func (d *Device) GetDecoderUtilization() (uint32, uint32, nvml.Return) { return 0, 167000, d.do() }

func (d *Device) GetTemperature(nvml.TemperatureSensors) (uint32, nvml.Return) {
	if c := d.heat.Load(); c > 0 {
		return c, d.do()
	}
	return uint32(math.Round(d.read().tempC)), d.do()
}

func (d *Device) GetFieldValues(values []nvml.FieldValue) nvml.Return {
	if ret := d.do(); ret != nvml.SUCCESS {
		return ret
	}
	st := d.read()
	for i := range values {
		v := &values[i]
		switch {
		case v.FieldId == nvml.FI_DEV_MEMORY_TEMP && d.model.MemoryTemp:
			setUint(v, uint64(math.Round(st.memTempC)))
		case d.model.NVLinks == 0:
			v.NvmlReturn = uint32(nvml.ERROR_NOT_SUPPORTED)
		case v.FieldId == nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_TX, v.FieldId == nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_RX:
			perLink := st.nvlinkKiB / float64(d.model.NVLinks)
			switch {
			case v.ScopeId == math.MaxUint32: // every link, summed
				setUint(v, uint64(perLink)*uint64(d.model.NVLinks))
			case int(v.ScopeId) < d.model.NVLinks:
				setUint(v, uint64(perLink))
			default:
				v.NvmlReturn = uint32(nvml.ERROR_INVALID_ARGUMENT)
			}
		case v.FieldId == nvml.FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL, v.FieldId == nvml.FI_DEV_NVLINK_CRC_DATA_ERROR_COUNT_TOTAL,
			v.FieldId == nvml.FI_DEV_NVLINK_REPLAY_ERROR_COUNT_TOTAL, v.FieldId == nvml.FI_DEV_NVLINK_RECOVERY_ERROR_COUNT_TOTAL:
			if int(v.ScopeId) >= d.model.NVLinks {
				v.NvmlReturn = uint32(nvml.ERROR_INVALID_ARGUMENT)
				continue
			}
			setUint(v, uint64(v.ScopeId%3)) // a few replays on some links
		default:
			v.NvmlReturn = uint32(nvml.ERROR_NOT_SUPPORTED)
		}
	}
	return nvml.SUCCESS
}

func setUint(v *nvml.FieldValue, x uint64) {
	v.ValueType = uint32(nvml.VALUE_TYPE_UNSIGNED_LONG_LONG)
	binary.LittleEndian.PutUint64(v.Value[:], x)
	v.NvmlReturn = uint32(nvml.SUCCESS)
}

func (d *Device) GetPowerUsage() (uint32, nvml.Return) {
	return uint32(d.read().powerW * 1000), d.do()
}

func (d *Device) GetTotalEnergyConsumption() (uint64, nvml.Return) {
	return uint64(d.read().energyMJ), d.do()
}

func (d *Device) GetEnforcedPowerLimit() (uint32, nvml.Return) {
	return uint32(d.model.PowerLimitW * 1000), d.do()
}

func (d *Device) GetClockInfo(t nvml.ClockType) (uint32, nvml.Return) {
	if t == nvml.CLOCK_MEM {
		return d.model.MemClock, d.do()
	}
	return uint32(d.read().smClock), d.do()
}

const simulatedClockEvents = nvml.ClocksEventReasonGpuIdle | nvml.ClocksEventReasonApplicationsClocksSetting |
	nvml.ClocksEventReasonSwPowerCap | nvml.ClocksThrottleReasonHwSlowdown | nvml.ClocksEventReasonSyncBoost |
	nvml.ClocksEventReasonSwThermalSlowdown | nvml.ClocksThrottleReasonHwThermalSlowdown |
	nvml.ClocksThrottleReasonHwPowerBrakeSlowdown

func (d *Device) GetSupportedClocksEventReasons() (uint64, nvml.Return) {
	return simulatedClockEvents, d.do()
}

func (d *Device) GetCurrentClocksEventReasons() (uint64, nvml.Return) {
	st := d.read()
	var r uint64
	if st.util == 0 {
		r |= nvml.ClocksEventReasonGpuIdle
	}
	if st.powerW >= 0.98*d.model.PowerLimitW {
		r |= nvml.ClocksEventReasonSwPowerCap
	}
	if st.tempC >= 87 {
		r |= nvml.ClocksEventReasonSwThermalSlowdown
	}
	return r, d.do()
}

func (d *Device) GetPcieReplayCounter() (int, nvml.Return) { return int(d.read().pcieReply), d.do() }

func (d *Device) GetFanSpeed() (uint32, nvml.Return) {
	if ret := d.supported(d.model.Fan); ret != nvml.SUCCESS {
		return 0, ret
	}
	return uint32(30 + d.read().util*0.6), nvml.SUCCESS
}

func (d *Device) GetPerformanceState() (nvml.Pstates, nvml.Return) {
	if d.read().util > 0 {
		return nvml.PSTATE_0, d.do()
	}
	return nvml.PSTATE_8, d.do()
}

func (d *Device) GetTotalEccErrors(t nvml.MemoryErrorType, _ nvml.EccCounterType) (uint64, nvml.Return) {
	if ret := d.supported(d.model.ECC); ret != nvml.SUCCESS {
		return 0, ret
	}
	if t == nvml.MEMORY_ERROR_TYPE_CORRECTED {
		return d.read().eccSBE, nvml.SUCCESS
	}
	return 0, nvml.SUCCESS
}

func (d *Device) GetRemappedRows() (int, int, bool, bool, nvml.Return) {
	hasRemap := d.model.ECC && d.model.Arch >= nvml.DEVICE_ARCH_AMPERE && d.model.MemoryTemp // HBM parts
	if ret := d.supported(hasRemap); ret != nvml.SUCCESS {
		return 0, 0, false, false, ret
	}
	return int(d.read().eccSBE), 0, false, false, nvml.SUCCESS
}

func (d *Device) GetNvLinkState(link int) (nvml.EnableState, nvml.Return) {
	if ret := d.supported(d.model.NVLinks > 0); ret != nvml.SUCCESS {
		return 0, ret
	}
	if link >= d.model.NVLinks {
		return 0, nvml.ERROR_INVALID_ARGUMENT
	}
	return nvml.FEATURE_ENABLED, nvml.SUCCESS
}

func (d *Device) GetComputeRunningProcesses() ([]nvml.ProcessInfo, nvml.Return) {
	if ret := d.do(); ret != nvml.SUCCESS {
		return nil, ret
	}
	pid := d.jobPID()
	if pid == 0 {
		return nil, nvml.SUCCESS
	}
	return []nvml.ProcessInfo{{Pid: pid, UsedGpuMemory: uint64(d.read().memUsed) << 20}}, nvml.SUCCESS
}

func (d *Device) RegisterEvents(types uint64, set nvml.EventSet) nvml.Return {
	s, ok := set.(*eventSet)
	if !ok {
		return nvml.ERROR_INVALID_ARGUMENT
	}
	s.mu.Lock()
	s.registered[d] |= types
	s.mu.Unlock()
	return d.do()
}

func (d *Device) GpmQueryDeviceSupport() (nvml.GpmSupport, nvml.Return) {
	sup := nvml.GpmSupport{Version: nvml.GPM_SUPPORT_VERSION}
	if d.model.GPM && d.migs == nil {
		sup.IsSupportedDevice = 1
	}
	return sup, d.do()
}

func (d *Device) GpmSampleGet(s nvml.GpmSample) nvml.Return { return s.Get(d) }
