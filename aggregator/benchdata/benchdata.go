// Package benchdata generates DCGM-like GPU metrics for the aggregator's
// benchmarks: the series a fleet of gpuwd-agent --simulate h100x8 nodes
// exposes, with values that move the way agent/sim makes them move, in the
// agent's value formats. It is test support; no program imports it.
//
// Each simulated H100 follows agent/sim's dynamics tick by tick (1 s), with
// the same random sequence for the same seed: jobs start and end,
// utilisation comes in bursts, memory fills with a job, temperature and power
// follow load, energy adds up in mJ. (agent/sim needs cgo, through go-nvml,
// so it is mirrored here; TestMatchesAgentSim holds the mirror to it.) One
// thing is added: real boards' power wanders by a fraction of a watt even at
// idle, where the simulator's draw is flat, so the 3-decimal power reading
// gets Gaussian noise (Options.PowerNoiseW, 0.4 W by default).
//
// Values are what the agent exposes: power in W with 3 decimals (NVML's mW /
// 1000), integer temperatures, utilisations, MiB and MHz, the energy counter
// in integer mJ, NVLink byte counters in whole KiB × 1024, GPM profiling
// ratios rounded to 4 decimals and GPM byte rates to whole bytes/s (as the
// agent's gpm collector rounds NVML's values).
package benchdata

import (
	"crypto/sha256"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// Kind groups series by how their values behave, for per-kind size reports.
type Kind int

const (
	Power       Kind = iota // DCGM_FI_DEV_POWER_USAGE: noisy, 3 decimals
	Temperature             // integer °C drifting with load
	Utilisation             // integer gauges in busy/idle phases: %, MiB, MHz
	GPM                     // profiling ratios (4 decimals) and byte rates (whole bytes/s)
	Counter                 // monotonic counters that move: energy (mJ), NVLink bytes, rare error counts
	Constant                // limits, totals, fixed clocks, zero error counters
	Self                    // the agent's own node-level series (Go runtime, process, collectors)
	numKinds
)

// Kinds lists every kind, in order.
func Kinds() []Kind {
	out := make([]Kind, numKinds)
	for i := range out {
		out[i] = Kind(i)
	}
	return out
}

func (k Kind) String() string {
	return [...]string{"power", "temperature", "utilisation", "gpm", "counter", "constant", "self"}[k]
}

// Metric is one per-GPU metric family as the agent exposes it.
type Metric struct {
	Name string
	Type string // gauge or counter
	Help string
	Kind Kind
	// Extra labels beyond the GPU's own (gpuwd_clock_event_active's reason,
	// gpuwd_gpu_info's facts).
	Extra []string
	read  func(g *gpu) float64
}

// Core are the 25 per-GPU metrics of the comparisons with Prometheus: every
// kind, in roughly the proportions of a real node.
var Core = []string{
	"DCGM_FI_DEV_POWER_USAGE",
	"DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_MEMORY_TEMP",
	"DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_MEM_COPY_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE", "DCGM_FI_DEV_SM_CLOCK",
	"DCGM_FI_PROF_GR_ENGINE_ACTIVE", "DCGM_FI_PROF_SM_ACTIVE", "DCGM_FI_PROF_SM_OCCUPANCY", "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", "DCGM_FI_PROF_DRAM_ACTIVE",
	"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "gpuwd_nvlink_transmit_bytes_total", "DCGM_FI_DEV_PCIE_REPLAY_COUNTER", "DCGM_FI_DEV_ECC_SBE_VOL_TOTAL",
	"DCGM_FI_DEV_FB_TOTAL", "DCGM_FI_DEV_FB_RESERVED", "DCGM_FI_DEV_MEM_CLOCK", "gpuwd_power_limit_watts",
	"DCGM_FI_DEV_ENC_UTIL", "DCGM_FI_DEV_DEC_UTIL", "DCGM_FI_DEV_XID_ERRORS", "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL",
}

// H100 facts, as agent/sim's model "h100".
const (
	memoryMiB   = 81559
	reservedMiB = 535
	powerLimitW = 700
	idlePowerW  = 72
	maxSMClock  = 1980
	idleSMClock = 345
	memClock    = 2619
	nvLinks     = 18
	mib         = 1 << 20
	modelName   = "NVIDIA H100 80GB HBM3"
	driver      = "550.90.07"
)

func c(v float64) func(*gpu) float64 { return func(*gpu) float64 { return v } }

// gpmRatio is a GPM ratio as the agent computes it: agent/sim's value (the
// load averaged over the two samples a sampling interval, 1 s, apart, times
// the metric's share, in percent), converted by the agent's gpm collector to
// a fraction rounded to 4 decimals.
func gpmRatio(f float64) func(*gpu) float64 {
	return func(g *gpu) float64 { return percentToRatio((g.st.util + g.prev.util) / 2 * f) }
}

// gpmBytes is a GPM rate: agent/sim's MiB/s, converted to whole bytes/s.
func gpmBytes(mibps float64) func(*gpu) float64 {
	return func(g *gpu) float64 { return math.Round((g.st.util + g.prev.util) / 2 * mibps * mib) }
}

func percentToRatio(v float64) float64 { return math.Round(v*100) / 1e4 }

func clockEvent(reason string, on func(g *gpu) bool) Metric {
	return Metric{Name: "gpuwd_clock_event_active", Type: "gauge", Kind: Utilisation, Extra: []string{"reason", reason},
		Help: "Whether the clocks are held down for this reason now (1) or not (0).",
		read: func(g *gpu) float64 {
			if on(g) {
				return 1
			}
			return 0
		}}
}

func nvlinkKiB(g *gpu) float64 { return float64(uint64(g.st.nvlinkKiB/nvLinks) * nvLinks) }

// Metrics are the 57 per-GPU series of gpuwd-agent --simulate h100x8 (see
// agent/testdata/metrics-h100x8.golden), in its order.
var Metrics = []Metric{
	{Name: "DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS", Type: "counter", Kind: Counter, Help: "Number of remapped rows for correctable errors.", read: func(g *gpu) float64 { return float64(g.st.eccSBE) }},
	{Name: "DCGM_FI_DEV_DEC_UTIL", Type: "gauge", Kind: Constant, Help: "Decoder utilization (in %).", read: c(0)},
	{Name: "DCGM_FI_DEV_ECC_DBE_AGG_TOTAL", Type: "counter", Kind: Constant, Help: "Total number of double-bit persistent ECC errors.", read: c(0)},
	{Name: "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", Type: "counter", Kind: Constant, Help: "Total number of double-bit volatile ECC errors.", read: c(0)},
	{Name: "DCGM_FI_DEV_ECC_SBE_AGG_TOTAL", Type: "counter", Kind: Counter, Help: "Total number of single-bit persistent ECC errors.", read: func(g *gpu) float64 { return float64(g.st.eccSBE) }},
	{Name: "DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", Type: "counter", Kind: Counter, Help: "Total number of single-bit volatile ECC errors.", read: func(g *gpu) float64 { return float64(g.st.eccSBE) }},
	{Name: "DCGM_FI_DEV_ENC_UTIL", Type: "gauge", Kind: Constant, Help: "Encoder utilization (in %).", read: c(0)},
	{Name: "DCGM_FI_DEV_FB_FREE", Type: "gauge", Kind: Utilisation, Help: "Framebuffer memory free (in MiB).", read: func(g *gpu) float64 { return float64(memoryMiB - reservedMiB - uint64(g.st.memUsed)) }},
	{Name: "DCGM_FI_DEV_FB_RESERVED", Type: "gauge", Kind: Constant, Help: "Framebuffer memory reserved (in MiB).", read: c(reservedMiB)},
	{Name: "DCGM_FI_DEV_FB_TOTAL", Type: "gauge", Kind: Constant, Help: "Framebuffer memory total (in MiB).", read: c(memoryMiB)},
	{Name: "DCGM_FI_DEV_FB_USED", Type: "gauge", Kind: Utilisation, Help: "Framebuffer memory used (in MiB).", read: func(g *gpu) float64 { return float64(uint64(g.st.memUsed)) }},
	{Name: "DCGM_FI_DEV_GPU_TEMP", Type: "gauge", Kind: Temperature, Help: "GPU temperature (in C).", read: func(g *gpu) float64 { return math.Round(g.st.tempC) }},
	{Name: "DCGM_FI_DEV_GPU_UTIL", Type: "gauge", Kind: Utilisation, Help: "GPU utilization (in %).", read: func(g *gpu) float64 { return math.Round(g.st.util) }},
	{Name: "DCGM_FI_DEV_MEMORY_TEMP", Type: "gauge", Kind: Temperature, Help: "Memory temperature (in C).", read: func(g *gpu) float64 { return math.Round(g.st.memTempC) }},
	{Name: "DCGM_FI_DEV_MEM_CLOCK", Type: "gauge", Kind: Constant, Help: "Memory clock frequency (in MHz).", read: c(memClock)},
	{Name: "DCGM_FI_DEV_MEM_COPY_UTIL", Type: "gauge", Kind: Utilisation, Help: "Memory utilization (in %).", read: func(g *gpu) float64 { return math.Round(g.st.memCopy) }},
	{Name: "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL", Type: "counter", Kind: Counter, Help: "Total NVLink data transferred over all links, both directions (in KiB).", read: func(g *gpu) float64 { return 2 * nvlinkKiB(g) }},
	{Name: "DCGM_FI_DEV_NVLINK_CRC_DATA_ERROR_COUNT_TOTAL", Type: "counter", Kind: Constant, Help: "Total number of NVLink data CRC errors.", read: c(18)},
	{Name: "DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL", Type: "counter", Kind: Constant, Help: "Total number of NVLink flow-control CRC errors.", read: c(18)},
	{Name: "DCGM_FI_DEV_NVLINK_RECOVERY_ERROR_COUNT_TOTAL", Type: "counter", Kind: Constant, Help: "Total number of NVLink recovery errors.", read: c(18)},
	{Name: "DCGM_FI_DEV_NVLINK_REPLAY_ERROR_COUNT_TOTAL", Type: "counter", Kind: Constant, Help: "Total number of NVLink retries.", read: c(18)},
	{Name: "DCGM_FI_DEV_PCIE_REPLAY_COUNTER", Type: "counter", Kind: Counter, Help: "Total number of PCIe retries.", read: func(g *gpu) float64 { return float64(g.st.pcieReplay) }},
	{Name: "DCGM_FI_DEV_POWER_USAGE", Type: "gauge", Kind: Power, Help: "Power draw (in W).", read: func(g *gpu) float64 {
		mw := math.Max(0, math.Min(powerLimitW, g.st.powerW+g.noiseW)) * 1000
		return float64(uint32(mw)) / 1000
	}},
	{Name: "DCGM_FI_DEV_ROW_REMAP_FAILURE", Type: "gauge", Kind: Constant, Help: "Whether remapping of rows has failed.", read: c(0)},
	{Name: "DCGM_FI_DEV_SM_CLOCK", Type: "gauge", Kind: Utilisation, Help: "SM clock frequency (in MHz).", read: func(g *gpu) float64 { return float64(uint32(g.st.smClock)) }},
	{Name: "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", Type: "counter", Kind: Counter, Help: "Total energy consumption since boot (in mJ).", read: func(g *gpu) float64 { return float64(uint64(g.st.energyMJ)) }},
	{Name: "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", Type: "counter", Kind: Constant, Help: "Number of remapped rows for uncorrectable errors.", read: c(0)},
	{Name: "DCGM_FI_DEV_XID_ERRORS", Type: "gauge", Kind: Constant, Help: "Value of the last XID error encountered.", read: c(0)},
	{Name: "DCGM_FI_PROF_DRAM_ACTIVE", Type: "gauge", Kind: GPM, Help: "Ratio of cycles the device memory interface is active.", read: func(g *gpu) float64 { return percentToRatio((g.st.memCopy + g.prev.memCopy) / 2 * 0.9) }},
	{Name: "DCGM_FI_PROF_GR_ENGINE_ACTIVE", Type: "gauge", Kind: GPM, Help: "Ratio of time the graphics engine is active.", read: gpmRatio(0.97)},
	{Name: "DCGM_FI_PROF_NVLINK_RX_BYTES", Type: "gauge", Kind: GPM, Help: "NVLink bytes received per second.", read: gpmBytes(1800)},
	{Name: "DCGM_FI_PROF_NVLINK_TX_BYTES", Type: "gauge", Kind: GPM, Help: "NVLink bytes transmitted per second.", read: gpmBytes(1800)},
	{Name: "DCGM_FI_PROF_PCIE_RX_BYTES", Type: "gauge", Kind: GPM, Help: "PCIe bytes received per second.", read: gpmBytes(310)},
	{Name: "DCGM_FI_PROF_PCIE_TX_BYTES", Type: "gauge", Kind: GPM, Help: "PCIe bytes transmitted per second.", read: gpmBytes(42)},
	{Name: "DCGM_FI_PROF_PIPE_FP16_ACTIVE", Type: "gauge", Kind: GPM, Help: "Ratio of cycles the FP16 pipe is active.", read: gpmRatio(0.35)},
	{Name: "DCGM_FI_PROF_PIPE_FP32_ACTIVE", Type: "gauge", Kind: GPM, Help: "Ratio of cycles the FP32 pipe is active.", read: gpmRatio(0.12)},
	{Name: "DCGM_FI_PROF_PIPE_FP64_ACTIVE", Type: "gauge", Kind: GPM, Help: "Ratio of cycles the FP64 pipe is active.", read: gpmRatio(0.01)},
	{Name: "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", Type: "gauge", Kind: GPM, Help: "Ratio of cycles any tensor pipe is active.", read: gpmRatio(0.58)},
	{Name: "DCGM_FI_PROF_SM_ACTIVE", Type: "gauge", Kind: GPM, Help: "Ratio of cycles an SM has at least one warp assigned.", read: gpmRatio(0.82)},
	{Name: "DCGM_FI_PROF_SM_OCCUPANCY", Type: "gauge", Kind: GPM, Help: "Ratio of warps resident on an SM to the maximum.", read: gpmRatio(0.41)},
	clockEvent("applications_clocks_setting", func(*gpu) bool { return false }),
	clockEvent("gpu_idle", func(g *gpu) bool { return g.st.util == 0 }),
	clockEvent("hw_power_brake_slowdown", func(*gpu) bool { return false }),
	clockEvent("hw_slowdown", func(*gpu) bool { return false }),
	clockEvent("hw_thermal_slowdown", func(*gpu) bool { return false }),
	clockEvent("sw_power_cap", func(g *gpu) bool { return g.st.powerW >= 0.98*powerLimitW }),
	clockEvent("sw_thermal_slowdown", func(g *gpu) bool { return g.st.tempC >= 87 }),
	clockEvent("sync_boost", func(*gpu) bool { return false }),
	{Name: "gpuwd_gpu_info", Type: "gauge", Kind: Constant, Help: "GPU facts.", read: c(1),
		Extra: []string{"architecture", "hopper", "cuda_version", "12.4", "serial", "", "vbios_version", "96.00.99.00.01"}},
	{Name: "gpuwd_gpu_up", Type: "gauge", Kind: Constant, Help: "Whether the GPU answers NVML.", read: c(1)},
	{Name: "gpuwd_mig_mode_enabled", Type: "gauge", Kind: Constant, Help: "Whether MIG mode is on.", read: c(0)},
	{Name: "gpuwd_nvlink_links_active", Type: "gauge", Kind: Constant, Help: "Number of NVLink links that are up.", read: c(nvLinks)},
	{Name: "gpuwd_nvlink_receive_bytes_total", Type: "counter", Kind: Counter, Help: "NVLink data received over all links.", read: func(g *gpu) float64 { return nvlinkKiB(g) * 1024 }},
	{Name: "gpuwd_nvlink_transmit_bytes_total", Type: "counter", Kind: Counter, Help: "NVLink data transmitted over all links.", read: func(g *gpu) float64 { return nvlinkKiB(g) * 1024 }},
	{Name: "gpuwd_power_limit_watts", Type: "gauge", Kind: Constant, Help: "Enforced power limit (W).", read: c(powerLimitW)},
	{Name: "gpuwd_pstate", Type: "gauge", Kind: Utilisation, Help: "Performance state (0 fastest, 15 slowest).", read: func(g *gpu) float64 {
		if g.st.util > 0 {
			return 0
		}
		return 8
	}},
	{Name: "gpuwd_row_remap_pending", Type: "gauge", Kind: Constant, Help: "Whether a row remap awaits a GPU reset.", read: c(0)},
}

// state is one GPU's moving readings: agent/sim's state, same fields.
type state struct {
	jobTicks, idleTicks int
	jobLoad, jobMemMiB  float64
	util, memCopy       float64
	memUsed             float64
	powerW              float64
	tempC, memTempC     float64
	energyMJ            float64
	smClock             float64
	pcieReplay, eccSBE  uint64
	nvlinkKiB           float64
}

// gpu is one simulated H100.
type gpu struct {
	rng    *rand.Rand // the simulator's sequence
	noise  *rand.Rand // power noise, apart so the sequence stays the simulator's
	noiseS float64
	st     state
	prev   state // one tick earlier, for GPM
	noiseW float64
	uuid   string
	bus    uint32
}

// step is agent/sim's state.step for an H100, one tick.
func (g *gpu) step() {
	s, rng := &g.st, g.rng
	g.prev = *s
	switch {
	case s.jobTicks > 0:
		s.jobTicks--
		target := s.jobLoad + rng.NormFloat64()*6
		if rng.IntN(12) == 0 {
			target = rng.Float64() * 20
		}
		s.util = clamp(0.6*s.util+0.4*target, 0, 100)
		s.memUsed = math.Min(s.jobMemMiB, s.memUsed+s.jobMemMiB/8)
		if s.jobTicks == 0 {
			s.idleTicks = 20 + rng.IntN(240)
		}
	case s.idleTicks > 0:
		s.idleTicks--
		s.util *= 0.3
		s.memUsed = math.Max(0, s.memUsed-memoryMiB/4.0)
	default:
		s.jobTicks = 60 + rng.IntN(900)
		s.jobLoad = 55 + rng.Float64()*45
		s.jobMemMiB = (memoryMiB - reservedMiB) * (0.3 + rng.Float64()*0.65)
	}
	if s.util < 0.5 {
		s.util = 0
	}
	s.memCopy = clamp(s.util*(0.45+rng.Float64()*0.2), 0, 100)
	load := s.util / 100
	s.powerW = math.Min(powerLimitW, idlePowerW+(powerLimitW-idlePowerW)*load*(0.85+rng.Float64()*0.17))
	s.energyMJ += s.powerW * 1000
	s.tempC += (31 + 45*(s.powerW/powerLimitW) - s.tempC) * 0.08
	s.memTempC = s.tempC + 4 + 3*load
	s.smClock = idleSMClock
	if load > 0 {
		s.smClock = maxSMClock
		if s.powerW >= 0.98*powerLimitW {
			s.smClock *= 0.93
		}
	}
	if rng.IntN(7200) == 0 {
		s.pcieReplay++
	}
	if rng.IntN(20000) == 0 {
		s.eccSBE++
	}
	s.nvlinkKiB += load * nvLinks * 1.5e6 * rng.Float64()
	if g.noise != nil {
		g.noiseW = g.noise.NormFloat64() * g.noiseS
	}
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

// newGPU is agent/sim's device i of a machine with this seed.
func newGPU(seed uint64, i int, noiseW float64) *gpu {
	g := &gpu{rng: rand.New(rand.NewPCG(seed, uint64(i)))}
	g.st = state{tempC: 33, memTempC: 37, smClock: idleSMClock, energyMJ: 5e8, idleTicks: g.rng.IntN(30)}
	g.prev = g.st
	if noiseW > 0 {
		g.noise, g.noiseS = rand.New(rand.NewPCG(seed^0x6e6f697365, uint64(i))), noiseW
	}
	h := sha256.Sum256(fmt.Appendf(nil, "gpuwd-sim/%d/%d", seed, i))
	g.uuid = fmt.Sprintf("GPU-%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
	g.bus = []uint32{0x18, 0x2a, 0x3a, 0x5d, 0x9a, 0xab, 0xba, 0xdb}[i%8] + uint32(i/8)
	return g
}

// Options describe a fleet.
type Options struct {
	Nodes int // default 1
	GPUs  int // per node, default 8
	// Metrics are the per-GPU metric names (default Core); AllMetrics for
	// everything the agent exposes per GPU.
	Metrics []string
	// Self adds the agent's 80 node-level series (Go runtime, process,
	// collectors), so a node's series are a whole scrape of the agent.
	Self     bool
	Interval time.Duration // default 15s
	Seed     uint64        // node n is agent/sim's machine with seed Seed+n
	// PowerNoiseW is the standard deviation of the power reading's noise
	// (default 0.4 W; negative: none, the simulator's exact readings).
	PowerNoiseW float64
	// WarmUp runs each GPU for a random 0..WarmUp before the first scrape,
	// so GPUs are at different points of their jobs (default 1h; negative:
	// none).
	WarmUp time.Duration
}

// AllMetrics names every per-GPU metric the agent exposes.
func AllMetrics() []string {
	out := make([]string, 0, len(Metrics))
	seen := map[string]bool{}
	for _, m := range Metrics {
		if !seen[m.Name] {
			seen[m.Name] = true
			out = append(out, m.Name)
		}
	}
	return out
}

// Series is one generated series.
type Series struct {
	Labels labels.Labels // with job and instance, as a scrape stores them
	Kind   Kind
	Type   string
	Node   int
}

// Fleet is a set of simulated nodes.
type Fleet struct {
	opts  Options
	nodes []*Node
}

// Node is one simulated gpuwd-agent: its GPUs and its own series. A node is
// not safe for concurrent use; distinct nodes are.
type Node struct {
	Hostname string
	gpus     []*gpu
	metrics  []int // indexes into Metrics
	self     *selfState
	ticks    int
	series   []Series
}

// New builds a fleet.
func New(o Options) *Fleet {
	if o.Nodes == 0 {
		o.Nodes = 1
	}
	if o.GPUs == 0 {
		o.GPUs = 8
	}
	if o.Metrics == nil {
		o.Metrics = Core
	}
	if o.Interval == 0 {
		o.Interval = 15 * time.Second
	}
	if o.PowerNoiseW == 0 {
		o.PowerNoiseW = 0.4
	}
	if o.WarmUp == 0 {
		o.WarmUp = time.Hour
	}
	var idx []int
	for _, name := range o.Metrics {
		found := false
		for i, m := range Metrics {
			if m.Name == name {
				idx, found = append(idx, i), true
			}
		}
		if !found {
			panic("benchdata: unknown metric " + name)
		}
	}
	f := &Fleet{opts: o}
	for n := range o.Nodes {
		seed := o.Seed + uint64(n)
		nd := &Node{Hostname: fmt.Sprintf("node-%03d", n), metrics: idx, ticks: int(o.Interval / time.Second)}
		warm := rand.New(rand.NewPCG(seed, 0x7761726d))
		for i := range o.GPUs {
			g := newGPU(seed, i, o.PowerNoiseW)
			if o.WarmUp > 0 {
				for range warm.IntN(int(o.WarmUp/time.Second) + 1) {
					g.step()
				}
			}
			nd.gpus = append(nd.gpus, g)
		}
		if o.Self {
			nd.self = newSelf(seed)
		}
		nd.series = nd.makeSeries(n)
		f.nodes = append(f.nodes, nd)
	}
	return f
}

// Nodes returns the fleet's nodes.
func (f *Fleet) Nodes() []*Node { return f.nodes }

// Series returns every series, node by node, in the order of Next's values.
func (f *Fleet) Series() []Series {
	var out []Series
	for _, n := range f.nodes {
		out = append(out, n.series...)
	}
	return out
}

// Next advances every node by one scrape interval and appends their values
// to dst, in Series order.
func (f *Fleet) Next(dst []float64) []float64 {
	for _, n := range f.nodes {
		dst = n.Next(dst)
	}
	return dst
}

// Series returns the node's series in the order of Next's values.
func (n *Node) Series() []Series { return n.series }

func (n *Node) makeSeries(node int) []Series {
	var out []Series
	target := []string{"instance", n.Hostname + ":9400", "job", "gpuwd-agent"}
	for i, g := range n.gpus {
		base := []string{"DCGM_FI_DRIVER_VERSION", driver, "UUID", g.uuid, "device", "nvidia" + strconv.Itoa(i), "gpu", strconv.Itoa(i),
			"hostname", n.Hostname, "modelName", modelName, "pci_bus_id", fmt.Sprintf("00000000:%02X:00.0", g.bus)}
		for _, mi := range n.metrics {
			m := Metrics[mi]
			kv := append(append(append([]string{"__name__", m.Name}, base...), target...), m.Extra...)
			if m.Name == "gpuwd_gpu_info" {
				kv[len(kv)-3] = fmt.Sprintf("16549220%05d", i) // serial
			}
			out = append(out, Series{Labels: labels.FromStrings(kv...), Kind: m.Kind, Type: m.Type, Node: node})
		}
	}
	if n.self != nil {
		for _, s := range selfSeries {
			kv := append(append([]string{"__name__", s.name}, target...), s.labels...)
			out = append(out, Series{Labels: labels.FromStrings(kv...), Kind: Self, Type: s.typ, Node: node})
		}
	}
	return out
}

// Next advances the node by one scrape interval and appends its values to
// dst, in Series order.
func (n *Node) Next(dst []float64) []float64 {
	for _, g := range n.gpus {
		for range n.ticks {
			g.step()
		}
		for _, mi := range n.metrics {
			dst = append(dst, Metrics[mi].read(g))
		}
	}
	if n.self != nil {
		dst = n.self.next(dst, n.ticks)
	}
	return dst
}
