package collector

import (
	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpu-watchdog/gpu-watchdog/agent/gpu"
)

func init() { register("temperature", true, newTemperature) }

var (
	gpuTempDesc = gpuDesc("DCGM_FI_DEV_GPU_TEMP", "GPU temperature (in C).")
	memTempDesc = gpuDesc("DCGM_FI_DEV_MEMORY_TEMP", "Memory temperature (in C).")
)

// temperature reads the GPU core and, on HBM GPUs, the memory temperature
// (a field value: NVML has no dedicated call for it).
type temperature struct{ gpus []*gpu.GPU }

func newTemperature(d Deps) (Collector, error) { return &temperature{d.GPUs}, nil }

func (c *temperature) Update(ch chan<- prometheus.Metric) error {
	return eachGPU(c.gpus, func(g *gpu.GPU) error {
		r := newReader(g, ch)
		if t, ret := g.Device.GetTemperature(nvml.TEMPERATURE_GPU); r.ok("temperature", ret) {
			r.gauge(gpuTempDesc, float64(t))
		}
		fv := []nvml.FieldValue{{FieldId: nvml.FI_DEV_MEMORY_TEMP}}
		if ret := g.Device.GetFieldValues(fv); r.ok("memory temperature", ret) {
			if v, ok := fieldValue(fv[0]); ok {
				r.gauge(memTempDesc, v)
			}
		}
		return r.err()
	})
}
