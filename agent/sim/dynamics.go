package sim

import (
	"math"
	"math/rand/v2"
	"time"
)

// tick is the simulator's time step: readings are advanced in whole ticks, so
// the same seed gives the same fleet however often it is read.
const tick = time.Second

// maxCatchUp bounds the work of catching up after a long pause.
const maxCatchUp = 3600

// state is one GPU's moving readings.
type state struct {
	jobTicks  int     // ticks left in the current job (0: idle)
	idleTicks int     // ticks left idle before the next job
	jobLoad   float64 // the job's typical utilisation, 0-100
	jobMemMiB float64
	jobID     uint32

	util      float64 // 0-100
	memCopy   float64
	memUsed   float64 // MiB, applications' memory
	powerW    float64
	tempC     float64
	memTempC  float64
	energyMJ  float64
	smClock   float64
	pcieReply uint64
	eccSBE    uint64
	nvlinkKiB float64
}

// step advances the state by one tick, with the simulator's own jobs.
func (s *state) step(m *Model, rng *rand.Rand) {
	s.ownJobs(m, rng)
	s.physics(m, rng)
}

// follow advances the state by one tick doing what a Schedule says.
func (s *state) follow(w Work, m *Model, rng *rand.Rand) {
	s.scheduledJob(w, m, rng)
	s.physics(m, rng)
}

// ownJobs runs the simulator's jobs: one after another, with idle spells
// between them.
func (s *state) ownJobs(m *Model, rng *rand.Rand) {
	switch {
	case s.jobTicks > 0:
		s.jobTicks--
		// Bursty: mostly near the job's load, with dips for data loading
		// and checkpoints.
		target := s.jobLoad + rng.NormFloat64()*6
		if rng.IntN(12) == 0 {
			target = rng.Float64() * 20
		}
		s.util = clamp(0.6*s.util+0.4*target, 0, 100)
		// Memory fills over the first ticks of a job.
		s.memUsed = math.Min(s.jobMemMiB, s.memUsed+s.jobMemMiB/8)
		if s.jobTicks == 0 {
			s.idleTicks = 20 + rng.IntN(240)
		}
	case s.idleTicks > 0:
		s.idleTicks--
		s.util = s.util * 0.3
		s.memUsed = math.Max(0, s.memUsed-float64(m.MemoryMiB)/4)
	default:
		s.jobID++
		s.jobTicks = 60 + rng.IntN(900)
		s.jobLoad = 55 + rng.Float64()*45
		s.jobMemMiB = float64(m.MemoryMiB-m.ReservedMiB) * (0.3 + rng.Float64()*0.65)
	}
}

// scheduledJob runs the job w says the GPU has, or none. A job that does
// nothing (Load 0) keeps its memory and lets utilisation fall to 0.
func (s *state) scheduledJob(w Work, m *Model, rng *rand.Rand) {
	if w.Job == 0 {
		s.jobTicks = 0
		s.util *= 0.3
		s.memUsed = math.Max(0, s.memUsed-float64(m.MemoryMiB)/4)
		return
	}
	if s.jobTicks == 0 || s.jobID != w.Job {
		s.jobID, s.jobTicks = w.Job, 1 // a new job: its memory fills from nothing
		s.memUsed = 0
	}
	s.jobLoad = clamp(w.Load, 0, 100)
	s.jobMemMiB = float64(m.MemoryMiB-m.ReservedMiB) * clamp(w.MemFrac, 0, 1)
	target := 0.0
	if s.jobLoad > 0 {
		target = s.jobLoad + rng.NormFloat64()*6
		if rng.IntN(12) == 0 {
			target = rng.Float64() * 20
		}
	}
	s.util = clamp(0.6*s.util+0.4*target, 0, 100)
	s.memUsed = math.Min(s.jobMemMiB, s.memUsed+s.jobMemMiB/8)
}

// physics derives the readings that follow from load: copy engine,
// power, energy, temperature, clocks, and the rare error counts.
func (s *state) physics(m *Model, rng *rand.Rand) {
	if s.util < 0.5 {
		s.util = 0
	}
	s.memCopy = clamp(s.util*(0.45+rng.Float64()*0.2), 0, 100)
	load := s.util / 100
	s.powerW = math.Min(m.PowerLimitW, m.IdlePowerW+(m.PowerLimitW-m.IdlePowerW)*load*(0.85+rng.Float64()*0.17))
	s.energyMJ += s.powerW * 1000 * tick.Seconds()
	// Temperature follows power with a lag.
	targetTemp := 31 + 45*(s.powerW/m.PowerLimitW)
	s.tempC += (targetTemp - s.tempC) * 0.08
	s.memTempC = s.tempC + 4 + 3*load
	if load > 0 {
		s.smClock = float64(m.MaxSMClock)
		if s.powerW >= 0.98*m.PowerLimitW {
			s.smClock *= 0.93 // power capped
		}
	} else {
		s.smClock = float64(m.IdleSMClock)
	}
	if rng.IntN(7200) == 0 {
		s.pcieReply++
	}
	if m.ECC && rng.IntN(20000) == 0 {
		s.eccSBE++
	}
	if m.NVLinks > 0 {
		s.nvlinkKiB += load * float64(m.NVLinks) * 1.5e6 * rng.Float64()
	}
}

// stableState is the fixed reading of GPU i in stable mode (golden tests).
func stableState(m *Model, i int) state {
	load := float64((i*37)%101) / 100
	s := state{
		jobID:     uint32(i + 1),
		util:      load * 100,
		memCopy:   load * 55,
		memUsed:   float64(m.MemoryMiB-m.ReservedMiB) * load * 0.8,
		powerW:    m.IdlePowerW + (m.PowerLimitW-m.IdlePowerW)*load,
		energyMJ:  1e9 + float64(i)*1e6,
		pcieReply: uint64(i % 3),
		eccSBE:    uint64(i % 2),
		nvlinkKiB: float64(i) * 1024,
	}
	if load > 0 {
		s.jobTicks = 1
		s.smClock = float64(m.MaxSMClock)
	} else {
		s.smClock = float64(m.IdleSMClock)
	}
	s.tempC = math.Round(31 + 45*(s.powerW/m.PowerLimitW))
	s.memTempC = s.tempC + 4
	return s
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }
