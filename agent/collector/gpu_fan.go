package collector

func init() { registerPerGPU("fan", true, readFan) }

var fanDesc = gpuDesc("gpuwd_fan_speed_ratio", "Fan speed as a fraction of its maximum (0-1); absent on passively cooled GPUs.")

// readFan reads the fan speed; data-centre GPUs have none and report
// NOT_SUPPORTED, so the series is absent there.
func readFan(r *reader) {
	if v, ret := r.g.Device.GetFanSpeed(); r.ok("fan speed", ret) {
		r.gauge(fanDesc, float64(v)/100)
	}
}
