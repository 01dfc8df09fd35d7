package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpu-watchdog/gpu-watchdog/agent/gpu"
)

func init() { register("remapped_rows", true, newRemappedRows) }

var (
	correctableRowsDesc   = gpuDesc("DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS", "Number of remapped rows for correctable errors.")
	uncorrectableRowsDesc = gpuDesc("DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", "Number of remapped rows for uncorrectable errors.")
	rowRemapFailureDesc   = gpuDesc("DCGM_FI_DEV_ROW_REMAP_FAILURE", "Whether remapping of rows has failed (1).")
	rowRemapPendingDesc   = gpuDesc("gpuwd_row_remap_pending", "Whether a row remap is pending and needs a GPU reset (1).")
)

// remappedRows reads HBM row remapping (Ampere and newer): a failure or a
// pending remap means the GPU needs attention.
type remappedRows struct{ gpus []*gpu.GPU }

func newRemappedRows(d Deps) (Collector, error) { return &remappedRows{d.GPUs}, nil }

func (c *remappedRows) Update(ch chan<- prometheus.Metric) error {
	return eachGPU(c.gpus, func(g *gpu.GPU) error {
		r := newReader(g, ch)
		if corr, unc, pending, failed, ret := g.Device.GetRemappedRows(); r.ok("remapped rows", ret) {
			r.counter(correctableRowsDesc, float64(corr))
			r.counter(uncorrectableRowsDesc, float64(unc))
			r.gauge(rowRemapFailureDesc, boolValue(failed))
			r.gauge(rowRemapPendingDesc, boolValue(pending))
		}
		return r.err()
	})
}
