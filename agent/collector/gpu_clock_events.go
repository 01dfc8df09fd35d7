package collector

import (
	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpu-watchdog/gpu-watchdog/agent/gpu"
)

func init() { register("clock_events", true, newClockEvents) }

var clockEventDesc = gpuDesc("gpuwd_clock_event_active",
	"Whether the clocks are held down for this reason now (1) or not (0); NVML's clock event (throttle) reasons.", "reason")

// clockEventReasons names NVML's clock event bits as nvidia-smi does.
var clockEventReasons = []struct {
	bit  uint64
	name string
}{
	{nvml.ClocksEventReasonGpuIdle, "gpu_idle"},
	{nvml.ClocksEventReasonApplicationsClocksSetting, "applications_clocks_setting"},
	{nvml.ClocksEventReasonSwPowerCap, "sw_power_cap"},
	{nvml.ClocksThrottleReasonHwSlowdown, "hw_slowdown"},
	{nvml.ClocksEventReasonSyncBoost, "sync_boost"},
	{nvml.ClocksEventReasonSwThermalSlowdown, "sw_thermal_slowdown"},
	{nvml.ClocksThrottleReasonHwThermalSlowdown, "hw_thermal_slowdown"},
	{nvml.ClocksThrottleReasonHwPowerBrakeSlowdown, "hw_power_brake_slowdown"},
	{nvml.ClocksEventReasonDisplayClockSetting, "display_clock_setting"},
}

// clockEvents reports each reason the GPU supports as its own 0/1 series, so
// an alert can say "thermal slowdown" rather than decode a bit mask.
type clockEvents struct {
	gpus      []*gpu.GPU
	supported map[int]uint64 // per GPU index, read once
	// throttleCalls: the driver predates the clock event calls (R535), so
	// use their older names, which return the same bits.
	throttleCalls bool
}

func newClockEvents(d Deps) (Collector, error) {
	return &clockEvents{gpus: d.GPUs, supported: map[int]uint64{},
		throttleCalls: !d.Lib.Has("nvmlDeviceGetCurrentClocksEventReasons")}, nil
}

func (c *clockEvents) read(d nvml.Device) (supported, active func() (uint64, nvml.Return)) {
	if c.throttleCalls {
		return d.GetSupportedClocksThrottleReasons, d.GetCurrentClocksThrottleReasons
	}
	return d.GetSupportedClocksEventReasons, d.GetCurrentClocksEventReasons
}

func (c *clockEvents) Update(ch chan<- prometheus.Metric) error {
	return eachGPU(c.gpus, func(g *gpu.GPU) error {
		r := newReader(g, ch)
		supported, current := c.read(g.Device)
		mask, known := c.supported[g.Index]
		if !known {
			m, ret := supported()
			if !r.ok("supported clock event reasons", ret) {
				return r.err()
			}
			mask = m
			c.supported[g.Index] = m
		}
		active, ret := current()
		if !r.ok("clock event reasons", ret) {
			return r.err()
		}
		for _, reason := range clockEventReasons {
			if mask&reason.bit != 0 {
				r.gauge(clockEventDesc, boolValue(active&reason.bit != 0), reason.name)
			}
		}
		return nil
	})
}
