package agent

import (
	"strings"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/gpu-watchdog/gpu-watchdog/agent/gpu"
)

// snapshot is what one sampling cycle saw. It is never changed after it is
// published, so any number of scrapes may read it at once.
type snapshot struct {
	at          time.Time
	families    []*dto.MetricFamily // for the Prometheus text format
	openMetrics []*dto.MetricFamily // the same, retyped for OpenMetrics (see forOpenMetrics)
	gpus        []gpuStatus

	mu       sync.Mutex
	rendered map[renderKey]*rendering
}

// gpuStatus is a GPU's inventory entry as of the snapshot.
type gpuStatus struct {
	Index            int    `json:"index"`
	UUID             string `json:"uuid"`
	Name             string `json:"name"`
	PCIBusID         string `json:"pci_bus_id"`
	Device           string `json:"device"`
	Architecture     string `json:"architecture,omitempty"`
	MemoryTotalBytes uint64 `json:"memory_total_bytes"`
	Up               bool   `json:"up"`
	DownReason       string `json:"down_reason,omitempty"`
}

func statusOf(gpus []*gpu.GPU) []gpuStatus {
	out := make([]gpuStatus, len(gpus))
	for i, g := range gpus {
		out[i] = gpuStatus{Index: g.Index, UUID: g.UUID, Name: g.Name, PCIBusID: g.PCIBusID, Device: g.DeviceFile,
			Architecture: g.Architecture, MemoryTotalBytes: g.MemoryTotalBytes, Up: g.Up(), DownReason: g.DownReason()}
	}
	return out
}

// forOpenMetrics retypes counters whose names lack "_total" as unknown.
//
// dcgm-exporter's counters (DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION, the ECC
// totals, …) have no "_total" suffix, and the OpenMetrics encoder appends one
// to every counter sample. A Prometheus that negotiates OpenMetrics (the
// default since 3.0) would then store DCGM_FI_DEV_…_total and every existing
// dashboard query would find nothing. As "unknown" they keep their names in
// both formats; only the type hint is lost, and rate() works the same.
func forOpenMetrics(fams []*dto.MetricFamily) []*dto.MetricFamily {
	out := make([]*dto.MetricFamily, len(fams))
	for i, f := range fams {
		if f.GetType() != dto.MetricType_COUNTER || strings.HasSuffix(f.GetName(), "_total") {
			out[i] = f
			continue
		}
		untyped := dto.MetricType_UNTYPED
		nf := &dto.MetricFamily{Name: f.Name, Help: f.Help, Type: &untyped, Unit: f.Unit, Metric: make([]*dto.Metric, len(f.Metric))}
		for j, m := range f.Metric {
			nf.Metric[j] = &dto.Metric{Label: m.Label, TimestampMs: m.TimestampMs,
				Untyped: &dto.Untyped{Value: m.GetCounter().Value}}
		}
		out[i] = nf
	}
	return out
}
