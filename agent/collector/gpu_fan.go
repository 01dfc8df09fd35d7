package collector

import (
	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpu-watchdog/gpu-watchdog/agent/gpu"
)

func init() {
	register("fan", true, func(d Deps) (Collector, error) { return &fan{gpus: d.GPUs, absent: map[int]bool{}}, nil })
}

var fanDesc = gpuDesc("gpuwd_fan_speed_ratio", "Fan speed as a fraction of its maximum (0-1); absent on passively cooled GPUs.")

// fan reads the fan speed. Data-centre GPUs have none and report
// NOT_SUPPORTED, so the series is absent there; a GPU that said so once is
// not asked again, because on a real H100 that answer alone costs 0.2-0.5 ms
// of driver time every cycle.
type fan struct {
	gpus   []*gpu.GPU
	absent map[int]bool
}

func (c *fan) Update(ch chan<- prometheus.Metric) error {
	return eachGPU(c.gpus, func(g *gpu.GPU) error {
		if c.absent[g.Index] {
			return nil
		}
		r := newReader(g, ch)
		v, ret := g.Device.GetFanSpeed()
		if ret == nvml.ERROR_NOT_SUPPORTED {
			c.absent[g.Index] = true
			return nil
		}
		if r.ok("fan speed", ret) {
			r.gauge(fanDesc, float64(v)/100)
		}
		return r.err()
	})
}
