package benchdata

import (
	"math"
	"math/rand/v2"
)

// The agent's node-level series (80 of them, as gpuwd-agent --simulate
// h100x8 serves them): its collectors' health and timing, the Go runtime
// and the process. Their values move the way such series do: durations are
// noisy nanoseconds in seconds, counters grow by varying amounts, memory
// figures wander in pages, the rest hardly ever changes.

type selfGen int

const (
	genConst    selfGen = iota
	genDuration         // a fresh duration every scrape: integer ns / 1e9
	genCounter          // grows by a random multiple of quantum
	genGauge            // base ± a random multiple of quantum
	genRare             // like genDuration, but changes about once a minute (GC quantiles)
	genClock            // a Unix time in seconds with milliseconds, moving with the scrapes
)

type selfSpec struct {
	name   string
	labels []string
	typ    string
	gen    selfGen
	base   float64 // value, mean duration (ns), mean increase or centre
	q      float64 // quantum
}

var selfSeries = func() []selfSpec {
	var out []selfSpec
	add := func(name, typ string, gen selfGen, base, q float64, labels ...string) {
		out = append(out, selfSpec{name: name, labels: labels, typ: typ, gen: gen, base: base, q: q})
	}
	add("gpuwd_build_info", "gauge", genConst, 1, 0, "goversion", "go1.26.8", "revision", "unknown", "version", "dev")
	collectors := []string{"clock_events", "clocks", "ecc", "fan", "gpm", "info", "memory", "mig", "nvlink", "pcie", "power", "pstate", "remapped_rows", "temperature", "utilization", "xid"}
	for i, c := range collectors {
		add("gpuwd_collector_duration_seconds", "gauge", genDuration, 5000+float64(i*7919%100000), 1, "collector", c)
	}
	for _, c := range collectors {
		add("gpuwd_collector_success", "gauge", genConst, 1, 0, "collector", c)
	}
	add("gpuwd_nvml_up", "gauge", genConst, 1, 0)
	add("gpuwd_sample_duration_seconds", "gauge", genDuration, 1.9e6, 1)
	add("gpuwd_sample_timestamp_seconds", "gauge", genClock, 0, 0)
	add("process_cpu_seconds_total", "counter", genCounter, 0.04, 0.01)
	add("process_max_fds", "gauge", genConst, 20000, 0)
	add("process_network_receive_bytes_total", "counter", genCounter, 3e5, 1)
	add("process_network_transmit_bytes_total", "counter", genCounter, 3e6, 1)
	add("process_open_fds", "gauge", genGauge, 10, 1)
	add("process_resident_memory_bytes", "gauge", genGauge, 22e6, 4096)
	add("process_start_time_seconds", "gauge", genConst, 1.79540849222e+09, 0)
	add("process_virtual_memory_bytes", "gauge", genGauge, 1.756291072e+09, 1<<20)
	add("process_virtual_memory_max_bytes", "gauge", genConst, 1.8446744073709552e+19, 0)
	for _, q := range []string{"0", "0.25", "0.5", "0.75", "1"} {
		add("go_gc_duration_seconds", "summary", genRare, 4e5, 1, "quantile", q)
	}
	add("go_gc_duration_seconds_sum", "summary", genCounter, 2e-4, 1e-9)
	add("go_gc_duration_seconds_count", "summary", genCounter, 0.25, 1)
	add("go_gc_gogc_percent", "gauge", genConst, 100, 0)
	add("go_gc_gomemlimit_bytes", "gauge", genConst, 9.223372036854776e+18, 0)
	add("go_goroutines", "gauge", genGauge, 9, 1)
	add("go_info", "gauge", genConst, 1, 0, "version", "go1.26.8")
	for _, m := range []struct {
		name string
		gen  selfGen
		base float64
		q    float64
	}{
		{"alloc_bytes", genGauge, 2.6e6, 8}, {"alloc_bytes_total", genCounter, 4e5, 8}, {"buck_hash_sys_bytes", genConst, 1.444236e+06, 0},
		{"frees_total", genCounter, 2000, 1}, {"gc_sys_bytes", genGauge, 2.369264e+06, 4096}, {"heap_alloc_bytes", genGauge, 2.6e6, 8},
		{"heap_idle_bytes", genGauge, 3.8e6, 8192}, {"heap_inuse_bytes", genGauge, 4.1e6, 8192}, {"heap_objects", genGauge, 44000, 1},
		{"heap_released_bytes", genGauge, 2.85e6, 8192}, {"heap_sys_bytes", genGauge, 7.96e6, 8192}, {"last_gc_time_seconds", genRare, 0, 0},
		{"mallocs_total", genCounter, 2100, 1}, {"mcache_inuse_bytes", genConst, 4592, 0}, {"mcache_sys_bytes", genConst, 16072, 0},
		{"mspan_inuse_bytes", genGauge, 84960, 160}, {"mspan_sys_bytes", genGauge, 97920, 16320}, {"next_gc_bytes", genGauge, 4.194304e+06, 4096},
		{"other_sys_bytes", genGauge, 568132, 4}, {"stack_inuse_bytes", genGauge, 425984, 32768}, {"stack_sys_bytes", genGauge, 425984, 32768},
		{"sys_bytes", genGauge, 1.2884232e+07, 65536},
	} {
		add("go_memstats_"+m.name, "gauge", m.gen, m.base, m.q)
	}
	add("go_sched_gomaxprocs_threads", "gauge", genConst, 2, 0)
	add("go_threads", "gauge", genGauge, 8, 1)
	return out
}()

type selfState struct {
	rng  *rand.Rand
	vals []float64
	now  float64 // seconds
}

func newSelf(seed uint64) *selfState {
	s := &selfState{rng: rand.New(rand.NewPCG(seed, 0x73656c66)), now: 1.7954e9, vals: make([]float64, len(selfSeries))}
	for i, sp := range selfSeries {
		switch sp.gen {
		case genConst, genGauge:
			s.vals[i] = sp.base
		case genCounter:
			s.vals[i] = sp.q * math.Round(sp.base*1000/sp.q)
		case genRare:
			s.vals[i] = s.duration(sp.base)
		}
	}
	return s
}

// duration is a noisy duration around meanNs nanoseconds, in seconds.
func (s *selfState) duration(meanNs float64) float64 {
	return float64(int64(meanNs*math.Exp(s.rng.NormFloat64()*0.3))) / 1e9
}

func (s *selfState) next(dst []float64, seconds int) []float64 {
	s.now += float64(seconds)
	for i, sp := range selfSeries {
		v := &s.vals[i]
		switch sp.gen {
		case genDuration:
			*v = s.duration(sp.base)
		case genCounter:
			*v += sp.q * math.Round(sp.base*float64(seconds)*s.rng.ExpFloat64()/sp.q)
		case genGauge:
			*v = sp.base + sp.q*math.Round(s.rng.NormFloat64()*math.Max(1, sp.base*0.02/sp.q))
		case genRare:
			if s.rng.IntN(60) < seconds {
				if sp.base == 0 { // last_gc_time_seconds
					*v = math.Round((s.now-s.rng.Float64()*float64(seconds))*1e9) / 1e9
				} else {
					*v = s.duration(sp.base)
				}
			}
		case genClock:
			*v = math.Round((s.now-s.rng.Float64())*1000) / 1000
		}
		dst = append(dst, *v)
	}
	return dst
}
