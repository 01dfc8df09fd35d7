package collector

import (
	"github.com/gpu-watchdog/gpu-watchdog/agent/gpu"
)

func init() {
	register("memory", true, func(d Deps) (Collector, error) {
		read := readMemoryV1
		if d.Lib.Has("nvmlDeviceGetMemoryInfo_v2") { // drivers before R510 lack it
			read = readMemory
		}
		return perGPU{d.GPUs, read}, nil
	})
}

var (
	fbFreeDesc     = gpuDesc("DCGM_FI_DEV_FB_FREE", "Framebuffer memory free (in MiB).")
	fbUsedDesc     = gpuDesc("DCGM_FI_DEV_FB_USED", "Framebuffer memory used (in MiB).")
	fbReservedDesc = gpuDesc("DCGM_FI_DEV_FB_RESERVED", "Framebuffer memory reserved (in MiB).")
	fbTotalDesc    = gpuDesc("DCGM_FI_DEV_FB_TOTAL", "Framebuffer memory total (in MiB).")
)

// readMemory reads framebuffer use. NVML's v2 call separates the driver's
// reserved memory from what applications use.
func readMemory(r *reader) {
	m2, ret := r.g.Device.GetMemoryInfo_v2()
	if gpu.Absent(ret) {
		readMemoryV1(r)
		return
	}
	if r.ok("memory info v2", ret) {
		r.gauge(fbFreeDesc, float64(m2.Free)/mib)
		r.gauge(fbUsedDesc, float64(m2.Used)/mib)
		r.gauge(fbReservedDesc, float64(m2.Reserved)/mib)
		r.gauge(fbTotalDesc, float64(m2.Total)/mib)
	}
}

// readMemoryV1 is for drivers without v2, where "used" includes the
// driver's reserved memory.
func readMemoryV1(r *reader) {
	if m, ret := r.g.Device.GetMemoryInfo(); r.ok("memory info", ret) {
		r.gauge(fbFreeDesc, float64(m.Free)/mib)
		r.gauge(fbUsedDesc, float64(m.Used)/mib)
		r.gauge(fbTotalDesc, float64(m.Total)/mib)
	}
}
