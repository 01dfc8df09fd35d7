package collector

import (
	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

func init() { registerPerGPU("clocks", true, readClocks) }

var (
	smClockDesc  = gpuDesc("DCGM_FI_DEV_SM_CLOCK", "SM clock frequency (in MHz).")
	memClockDesc = gpuDesc("DCGM_FI_DEV_MEM_CLOCK", "Memory clock frequency (in MHz).")
)

// readClocks reads the current SM and memory clocks.
func readClocks(r *reader) {
	if v, ret := r.g.Device.GetClockInfo(nvml.CLOCK_SM); r.ok("sm clock", ret) {
		r.gauge(smClockDesc, float64(v))
	}
	if v, ret := r.g.Device.GetClockInfo(nvml.CLOCK_MEM); r.ok("memory clock", ret) {
		r.gauge(memClockDesc, float64(v))
	}
}
