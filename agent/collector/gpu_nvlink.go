package collector

import (
	"math"

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

// nvlinkErrorFields are NVML's per-link error counters (all lanes of a
// link), under dcgm-exporter's names for their sum over links.
var nvlinkErrorFields = []struct {
	id   uint32
	desc *prometheus.Desc
}{
	{nvml.FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL, gpuDesc("DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL", "Total number of NVLink flow-control CRC errors.")},
	{nvml.FI_DEV_NVLINK_CRC_DATA_ERROR_COUNT_TOTAL, gpuDesc("DCGM_FI_DEV_NVLINK_CRC_DATA_ERROR_COUNT_TOTAL", "Total number of NVLink data CRC errors.")},
	{nvml.FI_DEV_NVLINK_REPLAY_ERROR_COUNT_TOTAL, gpuDesc("DCGM_FI_DEV_NVLINK_REPLAY_ERROR_COUNT_TOTAL", "Total number of NVLink retries.")},
	{nvml.FI_DEV_NVLINK_RECOVERY_ERROR_COUNT_TOTAL, gpuDesc("DCGM_FI_DEV_NVLINK_RECOVERY_ERROR_COUNT_TOTAL", "Total number of NVLink recovery errors.")},
}

// allLinks is the field-value scope NVML reads as "summed over every link".
const allLinks = math.MaxUint32

// nvlink reads link state, the error counters (NVML keeps them per link:
// they are summed over every link the GPU has, up or not, so the totals never
// fall when a link drops) and the data counters (NVML's all-links aggregate,
// in KiB). GPUs without NVLink are remembered and skipped.
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
		links, active := 0, 0
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
			links++
			if state == nvml.FEATURE_ENABLED {
				active++
			}
		}
		r.gauge(nvlinkActiveDesc, float64(active))

		fv := []nvml.FieldValue{
			{FieldId: nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_TX, ScopeId: allLinks},
			{FieldId: nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_RX, ScopeId: allLinks},
		}
		for link := range links {
			for _, f := range nvlinkErrorFields {
				fv = append(fv, nvml.FieldValue{FieldId: f.id, ScopeId: uint32(link)})
			}
		}
		if ret := g.Device.GetFieldValues(fv); !r.ok("nvlink field values", ret) {
			return r.err()
		}
		tx, txOK := fieldValue(fv[0])
		rx, rxOK := fieldValue(fv[1])
		if txOK && rxOK {
			r.counter(nvlinkTotalDesc, tx+rx)
			r.counter(nvlinkTxDesc, tx*1024)
			r.counter(nvlinkRxDesc, rx*1024)
		}
		for i, f := range nvlinkErrorFields {
			var sum float64
			seen := false
			for link := range links {
				if v, ok := fieldValue(fv[2+link*len(nvlinkErrorFields)+i]); ok {
					sum, seen = sum+v, true
				}
			}
			if seen {
				r.counter(f.desc, sum)
			}
		}
		return r.err()
	})
}
