package collector

import (
	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/prometheus/client_golang/prometheus"
)

func init() { registerPerGPU("ecc", true, readECC) }

// eccCounters are dcgm-exporter's four ECC totals: single-bit (corrected) and
// double-bit (uncorrected), since the last driver load (volatile) and over the
// GPU's life (aggregate).
var eccCounters = []struct {
	desc    *prometheus.Desc
	errType nvml.MemoryErrorType
	counter nvml.EccCounterType
	what    string
}{
	{gpuDesc("DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", "Total number of single-bit volatile ECC errors."), nvml.MEMORY_ERROR_TYPE_CORRECTED, nvml.VOLATILE_ECC, "ecc sbe volatile"},
	{gpuDesc("DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "Total number of double-bit volatile ECC errors."), nvml.MEMORY_ERROR_TYPE_UNCORRECTED, nvml.VOLATILE_ECC, "ecc dbe volatile"},
	{gpuDesc("DCGM_FI_DEV_ECC_SBE_AGG_TOTAL", "Total number of single-bit persistent ECC errors."), nvml.MEMORY_ERROR_TYPE_CORRECTED, nvml.AGGREGATE_ECC, "ecc sbe aggregate"},
	{gpuDesc("DCGM_FI_DEV_ECC_DBE_AGG_TOTAL", "Total number of double-bit persistent ECC errors."), nvml.MEMORY_ERROR_TYPE_UNCORRECTED, nvml.AGGREGATE_ECC, "ecc dbe aggregate"},
}

// readECC reads the ECC error totals; absent on GPUs without ECC or with it off.
func readECC(r *reader) {
	for _, e := range eccCounters {
		if v, ret := r.g.Device.GetTotalEccErrors(e.errType, e.counter); r.ok(e.what, ret) {
			r.counter(e.desc, float64(v))
		}
	}
}
