package store

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql"
)

func newEngine() *promql.Engine {
	return promql.NewEngine(promql.EngineOpts{MaxSamples: 5e7, Timeout: time.Minute, LookbackDelta: 5 * time.Minute})
}

func instant(t *testing.T, e *promql.Engine, s *Store, expr string, at time.Time) promql.Vector {
	t.Helper()
	q, err := e.NewInstantQuery(context.Background(), s, nil, expr, at)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	vec, err := q.Exec(context.Background()).Vector()
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return vec
}

// TestPromQLOverHeadAndChunks checks engine results against values worked
// out by hand, with the range straddling compacted chunks and the head.
func TestPromQLOverHeadAndChunks(t *testing.T) {
	c := &clock{t: t0}
	s := openTest(t, t.TempDir(), c)
	var refs []SeriesRef
	for _, gpu := range []string{"0", "1", "2", "3"} {
		refs = append(refs, mustRef(t, s, "__name__", "DCGM_FI_DEV_GPU_TEMP", "gpu", gpu, "Hostname", "node-a"))
	}
	energy := mustRef(t, s, "__name__", "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "gpu", "0", "Hostname", "node-a")
	const n = 240 // 1 h at 15 s
	fill(t, s, c, append(refs, energy), t0, 15*time.Second, n, 20, func(j, i int) float64 {
		if j == 4 {
			return float64(1_000_000 + 4500*i) // 300 W for 15 s = 4500 J... in mJ: 4.5 J per step
		}
		return float64(60 + j) // GPU j at 60+j °C
	})
	if s.compactedThrough.Load() < t0.Add(30*time.Minute).UnixMilli() {
		t.Fatal("first window not compacted; the test would only read the head")
	}
	e := newEngine()
	at := t0.Add(59*time.Minute + 45*time.Second) // the last sample

	if v := instant(t, e, s, `avg(DCGM_FI_DEV_GPU_TEMP)`, at); len(v) != 1 || v[0].F != 61.5 {
		t.Errorf("avg of 60,61,62,63 = %v, want 61.5", v)
	}
	if v := instant(t, e, s, `max by (Hostname) (DCGM_FI_DEV_GPU_TEMP)`, at); len(v) != 1 || v[0].F != 63 || v[0].Metric.Get("Hostname") != "node-a" {
		t.Errorf("max by Hostname = %v", v)
	}
	// 4500 mJ every 15 s is 300 mJ/s; rate() over a range crossing the
	// compacted window boundary at 30 min.
	if v := instant(t, e, s, `rate(DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION[40m])`, at); len(v) != 1 || math.Abs(v[0].F-300) > 1e-9 {
		t.Errorf("rate over 40m = %v, want 300", v)
	}
	if v := instant(t, e, s, `count_over_time(DCGM_FI_DEV_GPU_TEMP{gpu="2"}[1h])`, at); len(v) != 1 || v[0].F != n {
		t.Errorf("count_over_time over the hour = %v, want %d", v, n)
	}
	// Range query: one point per 5 minutes over the hour, each 60+gpu.
	q, err := e.NewRangeQuery(context.Background(), s, nil, `DCGM_FI_DEV_GPU_TEMP{gpu="3"}`, t0, at, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	m, err := q.Exec(context.Background()).Matrix()
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 1 || len(m[0].Floats) != 12 || m[0].Floats[11].F != 63 {
		t.Errorf("range query: %v", m)
	}
	q.Close()
}
