package collector

func init() { registerPerGPU("utilization", true, readUtilization) }

var (
	gpuUtilDesc     = gpuDesc("DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %).")
	memCopyUtilDesc = gpuDesc("DCGM_FI_DEV_MEM_COPY_UTIL", "Memory utilization (in %).")
	encUtilDesc     = gpuDesc("DCGM_FI_DEV_ENC_UTIL", "Encoder utilization (in %).")
	decUtilDesc     = gpuDesc("DCGM_FI_DEV_DEC_UTIL", "Decoder utilization (in %).")
)

// readUtilization reads how busy the GPU, its memory interface and its video
// engines were over the driver's last sample period.
func readUtilization(r *reader) {
	dev := r.g.Device
	if u, ret := dev.GetUtilizationRates(); r.ok("utilization rates", ret) {
		r.gauge(gpuUtilDesc, float64(u.Gpu))
		r.gauge(memCopyUtilDesc, float64(u.Memory))
	}
	if v, _, ret := dev.GetEncoderUtilization(); r.ok("encoder utilization", ret) {
		r.gauge(encUtilDesc, float64(v))
	}
	if v, _, ret := dev.GetDecoderUtilization(); r.ok("decoder utilization", ret) {
		r.gauge(decUtilDesc, float64(v))
	}
}
