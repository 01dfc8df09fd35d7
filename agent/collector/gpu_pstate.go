package collector

import (
	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

func init() { registerPerGPU("pstate", true, readPState) }

var pstateDesc = gpuDesc("gpuwd_pstate", "Performance state: 0 is the highest performance, 15 the lowest.")

// readPState reads the performance state (P0 … P15).
func readPState(r *reader) {
	if v, ret := r.g.Device.GetPerformanceState(); r.ok("performance state", ret) && v != nvml.PSTATE_UNKNOWN {
		r.gauge(pstateDesc, float64(v))
	}
}
