package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpu-watchdog/gpu-watchdog/agent/gpu"
)

func init() { register("fan", true, newFan) }

var fanDesc = gpuDesc("gpuwd_fan_speed_ratio", "Fan speed as a fraction of its maximum (0-1); absent on passively cooled GPUs.")

// fan reads the fan speed; data-centre GPUs have none and report
// NOT_SUPPORTED, so the series is absent there.
type fan struct{ gpus []*gpu.GPU }

func newFan(d Deps) (Collector, error) { return &fan{d.GPUs}, nil }

func (c *fan) Update(ch chan<- prometheus.Metric) error {
	return eachGPU(c.gpus, func(g *gpu.GPU) error {
		r := newReader(g, ch)
		if v, ret := g.Device.GetFanSpeed(); r.ok("fan speed", ret) {
			r.gauge(fanDesc, float64(v)/100)
		}
		return r.err()
	})
}
