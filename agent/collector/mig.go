package collector

import (
	"strconv"
	"strings"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

func init() { registerPerGPU("mig", true, readMIG) }

var (
	migModeDesc    = gpuDesc("gpuwd_mig_mode_enabled", "Whether MIG mode is on (1) or off (0).")
	migInfoDesc    = gpuDesc("gpuwd_mig_instance_info", "A MIG instance on the GPU (always 1).", "GPU_I_ID", "GPU_I_PROFILE", "GPU_CI_ID", "mig_uuid")
	migFBUsedDesc  = gpuDesc("gpuwd_mig_fb_used_bytes", "Framebuffer memory used in the MIG instance.", "GPU_I_ID", "GPU_I_PROFILE")
	migFBTotalDesc = gpuDesc("gpuwd_mig_fb_total_bytes", "Framebuffer memory of the MIG instance.", "GPU_I_ID", "GPU_I_PROFILE")
)

// readMIG reports MIG mode and, when on, each instance with its memory,
// labelled as dcgm-exporter labels MIG series (GPU_I_ID, GPU_I_PROFILE).
func readMIG(r *reader) {
	dev := r.g.Device
	current, _, ret := dev.GetMigMode()
	if !r.ok("mig mode", ret) {
		return
	}
	enabled := current == nvml.DEVICE_MIG_ENABLE
	r.gauge(migModeDesc, boolValue(enabled))
	if !enabled {
		return
	}
	n, ret := dev.GetMaxMigDeviceCount()
	if !r.ok("max mig devices", ret) {
		return
	}
	memorySeen := map[int]bool{} // compute instances of one GPU instance share its memory
	for i := range n {
		m, ret := dev.GetMigDeviceHandleByIndex(i)
		if ret == nvml.ERROR_NOT_FOUND || ret == nvml.ERROR_INVALID_ARGUMENT {
			continue // an empty slot
		}
		if !r.ok("mig device", ret) {
			continue
		}
		giID, ret1 := m.GetGpuInstanceId()
		ciID, ret2 := m.GetComputeInstanceId()
		if !r.ok("mig gpu instance id", ret1) || !r.ok("mig compute instance id", ret2) {
			continue
		}
		uuid, _ := m.GetUUID()
		name, _ := m.GetName()
		gi, profile := strconv.Itoa(giID), migProfile(name)
		r.gauge(migInfoDesc, 1, gi, profile, strconv.Itoa(ciID), uuid)
		if memorySeen[giID] {
			continue
		}
		if mem, ret := m.GetMemoryInfo(); r.ok("mig memory", ret) {
			memorySeen[giID] = true
			r.gauge(migFBUsedDesc, float64(mem.Used), gi, profile)
			r.gauge(migFBTotalDesc, float64(mem.Total), gi, profile)
		}
	}
}

// migProfile takes the GPU instance profile out of a MIG device name:
// "NVIDIA A100-SXM4-40GB MIG 1g.5gb" gives "1g.5gb", and so does a compute
// instance's "… MIG 1c.3g.20gb" give "3g.20gb".
func migProfile(name string) string {
	_, p, ok := strings.Cut(name, "MIG ")
	if !ok {
		return name
	}
	p = strings.TrimSpace(p)
	if ci, gi, ok := strings.Cut(p, "."); ok && strings.HasSuffix(ci, "c") && strings.Contains(gi, "g.") {
		return gi
	}
	return p
}
