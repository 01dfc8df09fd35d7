package collector

func init() { registerPerGPU("remapped_rows", true, readRemappedRows) }

var (
	correctableRowsDesc   = gpuDesc("DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS", "Number of remapped rows for correctable errors.")
	uncorrectableRowsDesc = gpuDesc("DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", "Number of remapped rows for uncorrectable errors.")
	rowRemapFailureDesc   = gpuDesc("DCGM_FI_DEV_ROW_REMAP_FAILURE", "Whether remapping of rows has failed (1).")
	rowRemapPendingDesc   = gpuDesc("gpuwd_row_remap_pending", "Whether a row remap is pending and needs a GPU reset (1).")
)

// readRemappedRows reads HBM row remapping (Ampere and newer): a failure or
// a pending remap means the GPU needs attention.
func readRemappedRows(r *reader) {
	if corr, unc, pending, failed, ret := r.g.Device.GetRemappedRows(); r.ok("remapped rows", ret) {
		r.counter(correctableRowsDesc, float64(corr))
		r.counter(uncorrectableRowsDesc, float64(unc))
		r.gauge(rowRemapFailureDesc, boolValue(failed))
		r.gauge(rowRemapPendingDesc, boolValue(pending))
	}
}
