package collector

import (
	"errors"
	"math"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpu-watchdog/gpu-watchdog/agent/gpu"
)

func init() { register("gpm", true, newGPM) }

// gpmMetrics maps NVML GPU Performance Monitoring metrics (Hopper and newer)
// to dcgm-exporter's profiling names. NVML gives percentages and MiB/s;
// dcgm-exporter's are ratios (0-1) and bytes/s: value/divisor*multiplier.
var gpmMetrics = []struct {
	id    nvml.GpmMetricId
	desc  *prometheus.Desc
	scale gpmScale
}{
	{nvml.GPM_METRIC_GRAPHICS_UTIL, gpuDesc("DCGM_FI_PROF_GR_ENGINE_ACTIVE", "Ratio of time the graphics engine is active."), percent},
	{nvml.GPM_METRIC_SM_UTIL, gpuDesc("DCGM_FI_PROF_SM_ACTIVE", "Ratio of cycles an SM has at least one warp assigned."), percent},
	{nvml.GPM_METRIC_SM_OCCUPANCY, gpuDesc("DCGM_FI_PROF_SM_OCCUPANCY", "Ratio of warps resident on an SM to the maximum."), percent},
	{nvml.GPM_METRIC_ANY_TENSOR_UTIL, gpuDesc("DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", "Ratio of cycles any tensor pipe is active."), percent},
	{nvml.GPM_METRIC_DRAM_BW_UTIL, gpuDesc("DCGM_FI_PROF_DRAM_ACTIVE", "Ratio of cycles the device memory interface is active."), percent},
	{nvml.GPM_METRIC_FP64_UTIL, gpuDesc("DCGM_FI_PROF_PIPE_FP64_ACTIVE", "Ratio of cycles the FP64 pipe is active."), percent},
	{nvml.GPM_METRIC_FP32_UTIL, gpuDesc("DCGM_FI_PROF_PIPE_FP32_ACTIVE", "Ratio of cycles the FP32 pipe is active."), percent},
	{nvml.GPM_METRIC_FP16_UTIL, gpuDesc("DCGM_FI_PROF_PIPE_FP16_ACTIVE", "Ratio of cycles the FP16 pipe is active."), percent},
	{nvml.GPM_METRIC_PCIE_TX_PER_SEC, gpuDesc("DCGM_FI_PROF_PCIE_TX_BYTES", "PCIe bytes transmitted per second."), mibPerSecond},
	{nvml.GPM_METRIC_PCIE_RX_PER_SEC, gpuDesc("DCGM_FI_PROF_PCIE_RX_BYTES", "PCIe bytes received per second."), mibPerSecond},
	{nvml.GPM_METRIC_NVLINK_TOTAL_TX_PER_SEC, gpuDesc("DCGM_FI_PROF_NVLINK_TX_BYTES", "NVLink bytes transmitted per second."), mibPerSecond},
	{nvml.GPM_METRIC_NVLINK_TOTAL_RX_PER_SEC, gpuDesc("DCGM_FI_PROF_NVLINK_RX_BYTES", "NVLink bytes received per second."), mibPerSecond},
}

// gpm computes DCGM-class profiling ratios from two NVML GPM samples taken a
// sampling interval apart: no DCGM, no SYS_ADMIN. GPUs without GPM (before
// Hopper) are remembered and skipped; the first cycle only takes a sample.
type gpm struct {
	lib       nvml.Interface
	gpus      []*gpu.GPU
	state     map[int]*gpmState
	available bool // the driver has GPM (R520 and newer)
}

type gpmState struct {
	supported bool
	prev, cur nvml.GpmSample
	havePrev  bool
}

type gpmScale int

const (
	percent gpmScale = iota
	mibPerSecond
)

// apply converts NVML's percent to a ratio rounded to 4 decimals, and MiB/s
// to whole bytes/s: NVML's extra digits are noise, and short decimals are
// what the aggregator's chunk encoding compresses best.
func (s gpmScale) apply(v float64) float64 {
	if s == percent {
		return math.Round(v*100) / 1e4
	}
	return math.Round(v * mib)
}

func newGPM(d Deps) (Collector, error) {
	return &gpm{lib: d.Lib, gpus: d.GPUs, state: map[int]*gpmState{}, available: d.Lib.Has("nvmlGpmSampleGet")}, nil
}

func (c *gpm) Update(ch chan<- prometheus.Metric) error {
	if !c.available {
		return nil
	}
	return eachGPU(c.gpus, func(g *gpu.GPU) error {
		st := c.state[g.Index]
		if st == nil {
			var err error
			if st, err = c.start(g); err != nil || !g.Up() {
				return err // ask again next cycle
			}
			c.state[g.Index] = st
		}
		if !st.supported {
			return nil
		}
		r := newReader(g, ch)
		if !r.ok("gpm sample", c.lib.GpmSampleGet(g.Device, st.cur)) {
			st.havePrev = false
			return r.err()
		}
		if st.havePrev {
			q := nvml.GpmMetricsGetType{NumMetrics: uint32(len(gpmMetrics)), Sample1: st.prev, Sample2: st.cur}
			for i, m := range gpmMetrics {
				q.Metrics[i].MetricId = uint32(m.id)
			}
			if r.ok("gpm metrics", c.lib.GpmMetricsGet(&q)) {
				for i, m := range gpmMetrics {
					if nvml.Return(q.Metrics[i].NvmlReturn) == nvml.SUCCESS {
						r.gauge(m.desc, m.scale.apply(q.Metrics[i].Value))
					}
				}
			}
		}
		st.prev, st.cur = st.cur, st.prev
		st.havePrev = true
		return r.err()
	})
}

func (c *gpm) start(g *gpu.GPU) (*gpmState, error) {
	st := &gpmState{}
	sup, ret := g.Device.GpmQueryDeviceSupport()
	if ok, err := g.Check("gpm support", ret); !ok || sup.IsSupportedDevice == 0 {
		return st, err
	}
	var ret1, ret2 nvml.Return
	st.prev, ret1 = c.lib.GpmSampleAlloc()
	st.cur, ret2 = c.lib.GpmSampleAlloc()
	if ret1 != nvml.SUCCESS || ret2 != nvml.SUCCESS {
		freeSamples(st)
		return &gpmState{}, errors.New("gpm: allocating samples failed")
	}
	st.supported = true
	return st, nil
}

// Close frees the GPM samples.
func (c *gpm) Close() error {
	for _, st := range c.state {
		freeSamples(st)
	}
	return nil
}

func freeSamples(st *gpmState) {
	for _, s := range []nvml.GpmSample{st.prev, st.cur} {
		if s != nil {
			s.Free()
		}
	}
}
