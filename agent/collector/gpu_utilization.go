package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpu-watchdog/gpu-watchdog/agent/gpu"
)

func init() { register("utilization", true, newUtilization) }

var (
	gpuUtilDesc     = gpuDesc("DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %).")
	memCopyUtilDesc = gpuDesc("DCGM_FI_DEV_MEM_COPY_UTIL", "Memory utilization (in %).")
	encUtilDesc     = gpuDesc("DCGM_FI_DEV_ENC_UTIL", "Encoder utilization (in %).")
	decUtilDesc     = gpuDesc("DCGM_FI_DEV_DEC_UTIL", "Decoder utilization (in %).")
)

// utilization reads how busy the GPU, its memory interface and its video
// engines were over the driver's last sample period.
type utilization struct{ gpus []*gpu.GPU }

func newUtilization(d Deps) (Collector, error) { return &utilization{d.GPUs}, nil }

func (c *utilization) Update(ch chan<- prometheus.Metric) error {
	return eachGPU(c.gpus, func(g *gpu.GPU) error {
		r := newReader(g, ch)
		if u, ret := g.Device.GetUtilizationRates(); r.ok("utilization rates", ret) {
			r.gauge(gpuUtilDesc, float64(u.Gpu))
			r.gauge(memCopyUtilDesc, float64(u.Memory))
		}
		if v, _, ret := g.Device.GetEncoderUtilization(); r.ok("encoder utilization", ret) {
			r.gauge(encUtilDesc, float64(v))
		}
		if v, _, ret := g.Device.GetDecoderUtilization(); r.ok("decoder utilization", ret) {
			r.gauge(decUtilDesc, float64(v))
		}
		return r.err()
	})
}
