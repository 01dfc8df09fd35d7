package collector

func init() { registerPerGPU("power", true, readPower) }

var (
	powerDesc      = gpuDesc("DCGM_FI_DEV_POWER_USAGE", "Power draw (in W).")
	energyDesc     = gpuDesc("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "Total energy consumption since boot (in mJ).")
	powerLimitDesc = gpuDesc("gpuwd_power_limit_watts", "Power limit the driver enforces on the GPU.")
)

// readPower reads draw, the energy counter and the enforced limit.
func readPower(r *reader) {
	dev := r.g.Device
	if mw, ret := dev.GetPowerUsage(); r.ok("power usage", ret) {
		r.gauge(powerDesc, float64(mw)/1000)
	}
	if mj, ret := dev.GetTotalEnergyConsumption(); r.ok("total energy", ret) {
		r.counter(energyDesc, float64(mj))
	}
	if mw, ret := dev.GetEnforcedPowerLimit(); r.ok("enforced power limit", ret) {
		r.gauge(powerLimitDesc, float64(mw)/1000)
	}
}
