package collector

import (
	"errors"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpu-watchdog/gpu-watchdog/agent/gpu"
)

// gpuDesc describes a per-GPU series: the dcgm-exporter label set, then extra.
func gpuDesc(name, help string, extra ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, append(append([]string{}, gpu.LabelNames...), extra...), nil)
}

// gpuMetric builds one sample of a per-GPU series.
func gpuMetric(d *prometheus.Desc, t prometheus.ValueType, v float64, g *gpu.GPU, extra ...string) prometheus.Metric {
	lv := g.Labels
	if len(extra) > 0 {
		lv = append(append(make([]string, 0, len(lv)+len(extra)), lv...), extra...)
	}
	return prometheus.MustNewConstMetric(d, t, v, lv...)
}

// eachGPU calls read for every GPU that has a handle and joins the errors.
// A GPU marked lost during the cycle is skipped from then on.
func eachGPU(gpus []*gpu.GPU, read func(g *gpu.GPU) error) error {
	var errs []error
	for _, g := range gpus {
		if !g.Up() {
			continue
		}
		if err := read(g); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

const mib = 1 << 20

// reader sends one GPU's readings and gathers the errors of its NVML calls.
type reader struct {
	g    *gpu.GPU
	ch   chan<- prometheus.Metric
	errs []error
}

func newReader(g *gpu.GPU, ch chan<- prometheus.Metric) *reader { return &reader{g: g, ch: ch} }

// ok reports whether the NVML call named what succeeded; see gpu.GPU.Check.
func (r *reader) ok(what string, ret nvml.Return) bool {
	ok, err := r.g.Check(what, ret)
	if err != nil {
		r.errs = append(r.errs, err)
	}
	return ok
}

func (r *reader) gauge(d *prometheus.Desc, v float64, extra ...string) {
	r.ch <- gpuMetric(d, prometheus.GaugeValue, v, r.g, extra...)
}

func (r *reader) counter(d *prometheus.Desc, v float64, extra ...string) {
	r.ch <- gpuMetric(d, prometheus.CounterValue, v, r.g, extra...)
}

func (r *reader) err() error { return errors.Join(r.errs...) }
