package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpu-watchdog/gpu-watchdog/agent/gpu"
)

func init() { register("info", true, newInfo) }

var gpuInfoDesc = gpuDesc("gpuwd_gpu_info",
	"Static facts about the GPU (always 1); join on UUID for them.",
	"architecture", "vbios_version", "serial", "cuda_version")

// info exposes each GPU's identity once, as an info series, instead of
// repeating it on every series.
type info struct {
	gpus []*gpu.GPU
	cuda string
}

func newInfo(d Deps) (Collector, error) { return &info{gpus: d.GPUs, cuda: d.Lib.CUDAVersion}, nil }

func (c *info) Update(ch chan<- prometheus.Metric) error {
	for _, g := range c.gpus {
		ch <- gpuMetric(gpuInfoDesc, prometheus.GaugeValue, 1, g, g.Architecture, g.VBIOSVersion, g.Serial, c.cuda)
	}
	return nil
}
