package collector

import (
	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpu-watchdog/gpu-watchdog/agent/gpu"
)

func init() { register("memory", true, newMemory) }

var (
	fbFreeDesc     = gpuDesc("DCGM_FI_DEV_FB_FREE", "Framebuffer memory free (in MiB).")
	fbUsedDesc     = gpuDesc("DCGM_FI_DEV_FB_USED", "Framebuffer memory used (in MiB).")
	fbReservedDesc = gpuDesc("DCGM_FI_DEV_FB_RESERVED", "Framebuffer memory reserved (in MiB).")
	fbTotalDesc    = gpuDesc("DCGM_FI_DEV_FB_TOTAL", "Framebuffer memory total (in MiB).")
)

// memory reads framebuffer use. NVML's v2 call separates the driver's
// reserved memory from what applications use; older drivers only have v1,
// where "used" includes the reserved part.
type memory struct{ gpus []*gpu.GPU }

func newMemory(d Deps) (Collector, error) { return &memory{d.GPUs}, nil }

func (c *memory) Update(ch chan<- prometheus.Metric) error {
	return eachGPU(c.gpus, func(g *gpu.GPU) error {
		r := newReader(g, ch)
		m2, ret := g.Device.GetMemoryInfo_v2()
		if ret == nvml.SUCCESS {
			r.gauge(fbFreeDesc, float64(m2.Free)/mib)
			r.gauge(fbUsedDesc, float64(m2.Used)/mib)
			r.gauge(fbReservedDesc, float64(m2.Reserved)/mib)
			r.gauge(fbTotalDesc, float64(m2.Total)/mib)
			return nil
		}
		if !gpu.Absent(ret) && !r.ok("memory info v2", ret) {
			return r.err()
		}
		if m, ret := g.Device.GetMemoryInfo(); r.ok("memory info", ret) {
			r.gauge(fbFreeDesc, float64(m.Free)/mib)
			r.gauge(fbUsedDesc, float64(m.Used)/mib)
			r.gauge(fbTotalDesc, float64(m.Total)/mib)
		}
		return r.err()
	})
}
