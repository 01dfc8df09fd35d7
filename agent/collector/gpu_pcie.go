package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpu-watchdog/gpu-watchdog/agent/gpu"
)

func init() { register("pcie", true, newPCIe) }

var pcieReplayDesc = gpuDesc("DCGM_FI_DEV_PCIE_REPLAY_COUNTER", "Total number of PCIe retries.")

// pcie reads the PCIe replay counter: a rising count means a bad riser, slot
// or link.
type pcie struct{ gpus []*gpu.GPU }

func newPCIe(d Deps) (Collector, error) { return &pcie{d.GPUs}, nil }

func (c *pcie) Update(ch chan<- prometheus.Metric) error {
	return eachGPU(c.gpus, func(g *gpu.GPU) error {
		r := newReader(g, ch)
		if v, ret := g.Device.GetPcieReplayCounter(); r.ok("pcie replay counter", ret) {
			r.counter(pcieReplayDesc, float64(v))
		}
		return r.err()
	})
}
