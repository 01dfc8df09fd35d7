//go:build cgo

package benchdata

import (
	"math"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/gpu-watchdog/gpu-watchdog/agent/sim"
)

// TestMatchesAgentSim holds the mirror to agent/sim: without the power
// noise and the warm-up, every GPU reads exactly what the simulator's NVML
// answers at the same tick, converted as the agent's collectors convert it
// (agent/collector: mW/1000, GPM percent to a 4-decimal ratio, MiB/s to
// whole bytes/s).
func TestMatchesAgentSim(t *testing.T) {
	const seed = 7
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	now := start
	lib, err := sim.New(sim.Options{Spec: "h100x8", Seed: seed, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	f := New(Options{Seed: seed, Metrics: AllMetrics(), Interval: time.Second, PowerNoiseW: -1, WarmUp: -1})
	series := f.Series()
	value := func(name string, gpu int, vals []float64) float64 {
		per := len(series) / 8
		for j := gpu * per; j < (gpu+1)*per; j++ {
			if series[j].Labels.Get("__name__") == name {
				return vals[j]
			}
		}
		t.Fatalf("no series %s", name)
		return 0
	}
	for i, d := range lib.Devices() {
		if uuid, _ := d.GetUUID(); uuid != f.nodes[0].gpus[i].uuid {
			t.Fatalf("GPU %d: UUID %s, simulator %s", i, f.nodes[0].gpus[i].uuid, uuid)
		}
	}
	prevSamples := make([]nvml.GpmSample, 8)
	var vals []float64
	for tick := 1; tick <= 3000; tick++ {
		for i, d := range lib.Devices() { // GPM's first sample, a tick before
			s, _ := lib.GpmSampleAlloc()
			lib.GpmSampleGet(d, s)
			prevSamples[i] = s
		}
		now = start.Add(time.Duration(tick) * time.Second)
		vals = f.Next(vals[:0])
		for i, d := range lib.Devices() {
			u, _ := d.GetUtilizationRates()
			p, _ := d.GetPowerUsage()
			e, _ := d.GetTotalEnergyConsumption()
			temp, _ := d.GetTemperature(nvml.TEMPERATURE_GPU)
			sm, _ := d.GetClockInfo(nvml.CLOCK_SM)
			mem, _ := d.GetMemoryInfo_v2()
			replay, _ := d.GetPcieReplayCounter()
			ecc, _ := d.GetTotalEccErrors(nvml.MEMORY_ERROR_TYPE_CORRECTED, nvml.VOLATILE_ECC)
			fv := []nvml.FieldValue{{FieldId: nvml.FI_DEV_MEMORY_TEMP}, {FieldId: nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_TX, ScopeId: math.MaxUint32}}
			d.GetFieldValues(fv)
			cur, _ := lib.GpmSampleAlloc()
			lib.GpmSampleGet(d, cur)
			q := nvml.GpmMetricsGetType{NumMetrics: 3, Sample1: prevSamples[i], Sample2: cur}
			q.Metrics[0].MetricId = uint32(nvml.GPM_METRIC_SM_UTIL)
			q.Metrics[1].MetricId = uint32(nvml.GPM_METRIC_DRAM_BW_UTIL)
			q.Metrics[2].MetricId = uint32(nvml.GPM_METRIC_PCIE_RX_PER_SEC)
			lib.GpmMetricsGet(&q)
			for _, c := range []struct {
				name      string
				sim, ours float64
			}{
				{"DCGM_FI_DEV_GPU_UTIL", float64(u.Gpu), value("DCGM_FI_DEV_GPU_UTIL", i, vals)},
				{"DCGM_FI_DEV_MEM_COPY_UTIL", float64(u.Memory), value("DCGM_FI_DEV_MEM_COPY_UTIL", i, vals)},
				{"DCGM_FI_DEV_POWER_USAGE", float64(p) / 1000, value("DCGM_FI_DEV_POWER_USAGE", i, vals)},
				{"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", float64(e), value("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", i, vals)},
				{"DCGM_FI_DEV_GPU_TEMP", float64(temp), value("DCGM_FI_DEV_GPU_TEMP", i, vals)},
				{"DCGM_FI_DEV_MEMORY_TEMP", float64(uint64FV(fv[0])), value("DCGM_FI_DEV_MEMORY_TEMP", i, vals)},
				{"DCGM_FI_DEV_SM_CLOCK", float64(sm), value("DCGM_FI_DEV_SM_CLOCK", i, vals)},
				{"DCGM_FI_DEV_FB_USED", float64(mem.Used >> 20), value("DCGM_FI_DEV_FB_USED", i, vals)},
				{"DCGM_FI_DEV_FB_FREE", float64(mem.Free >> 20), value("DCGM_FI_DEV_FB_FREE", i, vals)},
				{"DCGM_FI_DEV_PCIE_REPLAY_COUNTER", float64(replay), value("DCGM_FI_DEV_PCIE_REPLAY_COUNTER", i, vals)},
				{"DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", float64(ecc), value("DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", i, vals)},
				{"gpuwd_nvlink_transmit_bytes_total", float64(uint64FV(fv[1])) * 1024, value("gpuwd_nvlink_transmit_bytes_total", i, vals)},
				{"DCGM_FI_PROF_SM_ACTIVE", math.Round(q.Metrics[0].Value*100) / 1e4, value("DCGM_FI_PROF_SM_ACTIVE", i, vals)},
				{"DCGM_FI_PROF_DRAM_ACTIVE", math.Round(q.Metrics[1].Value*100) / 1e4, value("DCGM_FI_PROF_DRAM_ACTIVE", i, vals)},
				{"DCGM_FI_PROF_PCIE_RX_BYTES", math.Round(q.Metrics[2].Value * (1 << 20)), value("DCGM_FI_PROF_PCIE_RX_BYTES", i, vals)},
			} {
				if c.sim != c.ours {
					t.Fatalf("tick %d, GPU %d, %s: simulator %v, benchdata %v", tick, i, c.name, c.sim, c.ours)
				}
			}
		}
	}
}

func uint64FV(v nvml.FieldValue) uint64 {
	var x uint64
	for i := 7; i >= 0; i-- {
		x = x<<8 | uint64(v.Value[i])
	}
	return x
}
