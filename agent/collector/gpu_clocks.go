package collector

import (
	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpu-watchdog/gpu-watchdog/agent/gpu"
)

func init() { register("clocks", true, newClocks) }

var (
	smClockDesc  = gpuDesc("DCGM_FI_DEV_SM_CLOCK", "SM clock frequency (in MHz).")
	memClockDesc = gpuDesc("DCGM_FI_DEV_MEM_CLOCK", "Memory clock frequency (in MHz).")
)

// clocks reads the current SM and memory clocks.
type clocks struct{ gpus []*gpu.GPU }

func newClocks(d Deps) (Collector, error) { return &clocks{d.GPUs}, nil }

func (c *clocks) Update(ch chan<- prometheus.Metric) error {
	return eachGPU(c.gpus, func(g *gpu.GPU) error {
		r := newReader(g, ch)
		if v, ret := g.Device.GetClockInfo(nvml.CLOCK_SM); r.ok("sm clock", ret) {
			r.gauge(smClockDesc, float64(v))
		}
		if v, ret := g.Device.GetClockInfo(nvml.CLOCK_MEM); r.ok("memory clock", ret) {
			r.gauge(memClockDesc, float64(v))
		}
		return r.err()
	})
}
