package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpu-watchdog/gpu-watchdog/agent/gpu"
)

func init() { register("power", true, newPower) }

var (
	powerDesc      = gpuDesc("DCGM_FI_DEV_POWER_USAGE", "Power draw (in W).")
	energyDesc     = gpuDesc("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "Total energy consumption since boot (in mJ).")
	powerLimitDesc = gpuDesc("gpuwd_power_limit_watts", "Power limit the driver enforces on the GPU.")
)

// power reads draw, the energy counter and the enforced limit.
type power struct{ gpus []*gpu.GPU }

func newPower(d Deps) (Collector, error) { return &power{d.GPUs}, nil }

func (c *power) Update(ch chan<- prometheus.Metric) error {
	return eachGPU(c.gpus, func(g *gpu.GPU) error {
		r := newReader(g, ch)
		if mw, ret := g.Device.GetPowerUsage(); r.ok("power usage", ret) {
			r.gauge(powerDesc, float64(mw)/1000)
		}
		if mj, ret := g.Device.GetTotalEnergyConsumption(); r.ok("total energy", ret) {
			r.counter(energyDesc, float64(mj))
		}
		if mw, ret := g.Device.GetEnforcedPowerLimit(); r.ok("enforced power limit", ret) {
			r.gauge(powerLimitDesc, float64(mw)/1000)
		}
		return r.err()
	})
}
