package chunk

import (
	"math"
	"math/rand/v2"
	"sync"
)

// This file builds DCGM-like test data: the series one GPU node's agent
// exposes, with the shapes of agent/sim (which needs cgo, so it is mimicked
// here, not imported) and the value formats of
// agent/testdata/metrics-h100x8.golden.

// gpu is one simulated H100's moving readings, advanced in 1 s ticks as
// agent/sim's state.step does.
type gpu struct {
	rng       *rand.Rand
	jobTicks  int
	idleTicks int
	jobLoad   float64
	jobMemMiB float64
	util      float64
	prevUtil  float64
	memCopy   float64
	memUsed   float64
	powerW    float64
	tempC     float64
	memTempC  float64
	energyMJ  float64
	smClock   float64
	eccSBE    float64
	nvlinkKiB float64
}

const (
	memoryMiB   = 81559
	reservedMiB = 535
	powerLimitW = 700
	idlePowerW  = 72
)

func (s *gpu) step() {
	rng := s.rng
	s.prevUtil = s.util
	switch {
	case s.jobTicks > 0:
		s.jobTicks--
		target := s.jobLoad + rng.NormFloat64()*6
		if rng.IntN(12) == 0 {
			target = rng.Float64() * 20
		}
		s.util = min(max(0.6*s.util+0.4*target, 0), 100)
		s.memUsed = math.Min(s.jobMemMiB, s.memUsed+s.jobMemMiB/8)
		if s.jobTicks == 0 {
			s.idleTicks = 20 + rng.IntN(240)
		}
	case s.idleTicks > 0:
		s.idleTicks--
		s.util *= 0.3
		s.memUsed = math.Max(0, s.memUsed-memoryMiB/4)
	default:
		s.jobTicks = 60 + rng.IntN(900)
		s.jobLoad = 55 + rng.Float64()*45
		s.jobMemMiB = (memoryMiB - reservedMiB) * (0.3 + rng.Float64()*0.65)
	}
	if s.util < 0.5 {
		s.util = 0
	}
	s.memCopy = min(max(s.util*(0.45+rng.Float64()*0.2), 0), 100)
	load := s.util / 100
	// The simulator's idle draw is flat; real boards wander by a watt or
	// so, which makes idle chunks harder (and more honest) to compress.
	s.powerW = math.Min(powerLimitW, idlePowerW+(powerLimitW-idlePowerW)*load*(0.85+rng.Float64()*0.17)+rng.NormFloat64()*0.4)
	s.energyMJ += s.powerW * 1000
	s.tempC += (31 + 45*(s.powerW/powerLimitW) - s.tempC) * 0.08
	s.memTempC = s.tempC + 4 + 3*load
	s.smClock = 345
	if load > 0 {
		s.smClock = 1980
		if s.powerW >= 0.98*powerLimitW {
			s.smClock *= 0.93
		}
	}
	if rng.IntN(20000) == 0 {
		s.eccSBE++
	}
	s.nvlinkKiB += load * 18 * 1.5e6 * rng.Float64()
}

// seriesKind is one kind of series and how a scrape reads it from a gpu.
type seriesKind struct {
	name string
	// perGPU is how many series of this kind an H100 exposes in
	// metrics-h100x8.golden (57 in all): the weight of the node mix.
	perGPU int
	read   func(s *gpu, index int) float64
}

// ratio is a GPM-style profiling ratio from the load averaged over the last
// two ticks, printed with the given decimals.
func ratio(s *gpu, f float64, decimals int) float64 {
	v := (s.util + s.prevUtil) / 2 * f / 100
	return math.Round(v*pow10[decimals]) / pow10[decimals]
}

// kinds are the series kinds of the size report, in the agent's formats.
var kinds = []seriesKind{
	{"power_w (3 decimals)", 1, func(s *gpu, _ int) float64 { return float64(uint32(s.powerW*1000)) / 1000 }},
	{"energy_mj (counter)", 1, func(s *gpu, _ int) float64 { return float64(uint64(s.energyMJ)) }},
	{"gpu_temp_c", 1, func(s *gpu, _ int) float64 { return math.Round(s.tempC) }},
	{"mem_temp_c", 1, func(s *gpu, _ int) float64 { return math.Round(s.memTempC) }},
	{"gpu_util_pct", 1, func(s *gpu, _ int) float64 { return math.Round(s.util) }},
	{"mem_copy_util_pct", 1, func(s *gpu, _ int) float64 { return math.Round(s.memCopy) }},
	{"sm_clock_mhz", 1, func(s *gpu, _ int) float64 { return float64(uint32(s.smClock)) }},
	{"fb_used_mib", 2, func(s *gpu, _ int) float64 { return float64(uint64(s.memUsed)) }},
	{"gpm_ratio (3-4 decimals)", 8, func(s *gpu, i int) float64 {
		if i%2 == 0 {
			return ratio(s, 0.82, 4) // SM_ACTIVE
		}
		return ratio(s, 0.9, 3) // DRAM_ACTIVE
	}},
	{"gpm_rate_bps (integer)", 4, func(s *gpu, i int) float64 {
		mibps := [2]float64{310, 1800}[i%2] // PCIE_RX_BYTES, NVLINK_TX_BYTES
		return math.Round((s.util + s.prevUtil) / 2 / 100 * mibps * (1 << 20))
	}},
	{"nvlink_bytes (counter)", 3, func(s *gpu, _ int) float64 { return float64(uint64(s.nvlinkKiB) * 1024) }},
	{"ecc_sbe (rare counter)", 13, func(s *gpu, _ int) float64 { return s.eccSBE }},
	{"idle_flag (0/1)", 3, func(s *gpu, _ int) float64 {
		if s.util == 0 {
			return 1
		}
		return 0
	}},
	{"constant (limits, clocks)", 17, func(_ *gpu, i int) float64 { return [3]float64{700, 2619, 81559}[i%3] }},
}

// series is one series' samples.
type series struct {
	kind int
	ts   []int64
	vs   []float64
}

// dcgmData simulates gpus GPUs for the given seconds, scraped every scrape
// seconds on an aligned schedule, and returns one series per GPU and kind.
// About one scrape in 2000 is missed, and one GPU's agent restarts once a
// day: stale markers, then a minute without samples.
func dcgmData(gpus, seconds, scrape int) []series {
	const start = 1735689600000 // 2025-01-01T00:00:00Z
	out := make([]series, 0, gpus*len(kinds))
	for g := range gpus {
		s := &gpu{rng: rand.New(rand.NewPCG(uint64(g), 42)), energyMJ: 1e9 + float64(g)*1e6}
		warm := s.rng.IntN(3600) // GPUs are at different points of their jobs
		for range warm {
			s.step()
		}
		ser := make([]series, len(kinds))
		for k := range ser {
			ser[k].kind = k
		}
		restart := -1
		if g == 3 {
			restart = seconds / 2 / scrape * scrape
		}
		for sec := 0; sec < seconds; sec++ {
			s.step()
			if sec%scrape != 0 {
				continue
			}
			t := start + int64(sec)*1000
			switch {
			case sec == restart:
				for k := range ser {
					ser[k].ts, ser[k].vs = append(ser[k].ts, t), append(ser[k].vs, staleNaN)
				}
				continue
			case restart >= 0 && sec > restart && sec < restart+60:
				continue
			case s.rng.IntN(2000) == 0:
				continue
			}
			for k, kind := range kinds {
				ser[k].ts, ser[k].vs = append(ser[k].ts, t), append(ser[k].vs, kind.read(s, g))
			}
		}
		out = append(out, ser...)
	}
	return out
}

// chunks cuts a series into windows of window ms (aligned to the epoch) or,
// when window is 0, into chunks of perChunk samples as Prometheus does.
func (s series) chunks(window int64, perChunk int) (out [][2]int) {
	for i := 0; i < len(s.ts); {
		j := i + 1
		for j < len(s.ts) && (window == 0 && j-i < perChunk || window > 0 && s.ts[j]/window == s.ts[i]/window) {
			j++
		}
		out = append(out, [2]int{i, j})
		i = j
	}
	return out
}

var dayData = sync.OnceValue(func() []series { return dcgmData(24, 86400, 15) })
