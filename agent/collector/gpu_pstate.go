package collector

import (
	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpu-watchdog/gpu-watchdog/agent/gpu"
)

func init() { register("pstate", true, newPState) }

var pstateDesc = gpuDesc("gpuwd_pstate", "Performance state: 0 is the highest performance, 15 the lowest.")

// pstate reads the performance state (P0 … P15).
type pstate struct{ gpus []*gpu.GPU }

func newPState(d Deps) (Collector, error) { return &pstate{d.GPUs}, nil }

func (c *pstate) Update(ch chan<- prometheus.Metric) error {
	return eachGPU(c.gpus, func(g *gpu.GPU) error {
		r := newReader(g, ch)
		if v, ret := g.Device.GetPerformanceState(); r.ok("performance state", ret) && v != nvml.PSTATE_UNKNOWN {
			r.gauge(pstateDesc, float64(v))
		}
		return r.err()
	})
}
