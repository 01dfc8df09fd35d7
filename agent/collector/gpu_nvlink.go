package collector

import (
	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpu-watchdog/gpu-watchdog/agent/gpu"
)

func init() { register("nvlink", true, newNVLink) }

var (
	nvlinkActiveDesc = gpuDesc("gpuwd_nvlink_links_active", "Number of NVLink links that are up.")
	nvlinkTotalDesc  = gpuDesc("DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL", "Total NVLink data transferred over all links, both directions (in KiB).")
	nvlinkTxDesc     = gpuDesc("gpuwd_nvlink_transmit_bytes_total", "NVLink data transmitted over all links.")
	nvlinkRxDesc     = gpuDesc("gpuwd_nvlink_receive_bytes_total", "NVLink data received over all links.")
)

// nvlinkErrorFields are NVML's all-lanes error totals, under dcgm-exporter's names.
var nvlinkErrorFields = []struct {
	id   uint32
	desc *prometheus.Desc
}{
	{nvml.FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL, gpuDesc("DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL", "Total number of NVLink flow-control CRC errors.")},
	{nvml.FI_DEV_NVLINK_CRC_DATA_ERROR_COUNT_TOTAL, gpuDesc("DCGM_FI_DEV_NVLINK_CRC_DATA_ERROR_COUNT_TOTAL", "Total number of NVLink data CRC errors.")},
	{nvml.FI_DEV_NVLINK_REPLAY_ERROR_COUNT_TOTAL, gpuDesc("DCGM_FI_DEV_NVLINK_REPLAY_ERROR_COUNT_TOTAL", "Total number of NVLink retries.")},
	{nvml.FI_DEV_NVLINK_RECOVERY_ERROR_COUNT_TOTAL, gpuDesc("DCGM_FI_DEV_NVLINK_RECOVERY_ERROR_COUNT_TOTAL", "Total number of NVLink recovery errors.")},
}

// nvlink reads link state, the error totals and the data counters (summed
// over active links; NVML counts data per link, in KiB). GPUs without NVLink
// are remembered and skipped.
type nvlink struct {
	gpus   []*gpu.GPU
	absent map[int]bool
}

func newNVLink(d Deps) (Collector, error) { return &nvlink{gpus: d.GPUs, absent: map[int]bool{}}, nil }

func (c *nvlink) Update(ch chan<- prometheus.Metric) error {
	return eachGPU(c.gpus, func(g *gpu.GPU) error {
		if c.absent[g.Index] {
			return nil
		}
		r := newReader(g, ch)
		var links []int
		for link := range nvml.NVLINK_MAX_LINKS {
			state, ret := g.Device.GetNvLinkState(link)
			if ret == nvml.ERROR_INVALID_ARGUMENT || (link > 0 && gpu.Absent(ret)) {
				break // past this GPU's last link
			}
			if !r.ok("nvlink state", ret) {
				if link == 0 && gpu.Absent(ret) {
					c.absent[g.Index] = true
				}
				return r.err()
			}
			if state == nvml.FEATURE_ENABLED {
				links = append(links, link)
			}
		}
		r.gauge(nvlinkActiveDesc, float64(len(links)))

		fv := make([]nvml.FieldValue, 0, len(nvlinkErrorFields)+2*len(links))
		for _, f := range nvlinkErrorFields {
			fv = append(fv, nvml.FieldValue{FieldId: f.id})
		}
		for _, l := range links {
			fv = append(fv,
				nvml.FieldValue{FieldId: nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_TX, ScopeId: uint32(l)},
				nvml.FieldValue{FieldId: nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_RX, ScopeId: uint32(l)})
		}
		if ret := g.Device.GetFieldValues(fv); !r.ok("nvlink field values", ret) {
			return r.err()
		}
		for i, f := range nvlinkErrorFields {
			if v, ok := fieldValue(fv[i]); ok {
				r.counter(f.desc, v)
			}
		}
		var txKiB, rxKiB float64
		seen := false
		for _, v := range fv[len(nvlinkErrorFields):] {
			x, ok := fieldValue(v)
			if !ok {
				continue
			}
			seen = true
			if v.FieldId == nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_TX {
				txKiB += x
			} else {
				rxKiB += x
			}
		}
		if seen {
			r.counter(nvlinkTotalDesc, txKiB+rxKiB)
			r.counter(nvlinkTxDesc, txKiB*1024)
			r.counter(nvlinkRxDesc, rxKiB*1024)
		}
		return r.err()
	})
}
