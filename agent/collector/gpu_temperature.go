package collector

import (
	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

func init() { registerPerGPU("temperature", true, readTemperature) }

var (
	gpuTempDesc = gpuDesc("DCGM_FI_DEV_GPU_TEMP", "GPU temperature (in C).")
	memTempDesc = gpuDesc("DCGM_FI_DEV_MEMORY_TEMP", "Memory temperature (in C).")
)

// readTemperature reads the GPU core and, on HBM GPUs, the memory
// temperature (a field value: NVML has no dedicated call for it).
func readTemperature(r *reader) {
	if t, ret := r.g.Device.GetTemperature(nvml.TEMPERATURE_GPU); r.ok("temperature", ret) {
		r.gauge(gpuTempDesc, float64(t))
	}
	fv := []nvml.FieldValue{{FieldId: nvml.FI_DEV_MEMORY_TEMP}}
	if ret := r.g.Device.GetFieldValues(fv); r.ok("memory temperature", ret) {
		if v, ok := fieldValue(fv[0]); ok {
			r.gauge(memTempDesc, v)
		}
	}
}
