package aggregator

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/benchdata"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/store"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/rules"
)

// rulePackMetrics are the per-GPU series the default rule pack reads.
var rulePackMetrics = []string{
	"DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_MEMORY_TEMP", "DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE",
	"DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "DCGM_FI_DEV_ROW_REMAP_FAILURE", "gpuwd_row_remap_pending", "gpuwd_gpu_up",
	"gpuwd_clock_event_active", "gpuwd_gpu_info",
}

// BenchmarkRulePack evaluates the default rule pack (packaging/rules) over
// GPUWD_RULE_BENCH_NODES (default 1000) simulated 8-GPU nodes with an hour
// of 15 s history in the real store: every GPU's series the pack reads, a
// Slurm job on half the GPUs, up, NVML and price per node. One op is one
// evaluation of every group, alerts and ALERTS series included.
func BenchmarkRulePack(b *testing.B) {
	nodes := envInt("GPUWD_RULE_BENCH_NODES", 1000)
	ctx := context.Background()
	end := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	const interval, history = 15 * time.Second, time.Hour
	now := end.Add(-history)
	s, err := store.Open(ctx, b.TempDir(), store.Options{Now: func() time.Time { return now }, MaintenanceInterval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })

	fleet := benchdata.New(benchdata.Options{Nodes: nodes, Metrics: rulePackMetrics, Interval: interval})
	var refs []store.SeriesRef
	ref := func(lset labels.Labels) store.SeriesRef {
		r, err := s.Ref(lset)
		if err != nil {
			b.Fatal(err)
		}
		return r
	}
	for _, sr := range fleet.Series() {
		refs = append(refs, ref(sr.Labels))
	}
	// Per node: up, NVML, the price; per busy GPU: its Slurm job.
	var extra []store.SeriesRef
	var extraV []float64
	for n, node := range fleet.Nodes() {
		inst := node.Hostname + ":9400"
		for _, kv := range []struct {
			name string
			v    float64
		}{{"up", 1}, {"gpuwd_nvml_up", 1}, {"gpuwd_node_cost_per_hour_dollars", 21.52}} {
			extra = append(extra, ref(labels.FromStrings("__name__", kv.name, "instance", inst, "job", "gpuwd-agent")))
			extraV = append(extraV, kv.v)
		}
		for g := 0; g < 8; g += 2 {
			extra = append(extra, ref(labels.FromStrings("__name__", "gpuwd_gpu_job_info", "instance", inst, "job", "gpuwd-agent",
				"gpu", fmt.Sprint(g), "hostname", node.Hostname, "job_id", fmt.Sprint(1000+n*8+g), "user", fmt.Sprintf("user%d", n%40), "partition", "gpu")))
			extraV = append(extraV, 1)
		}
	}
	samples := make([]store.Sample, 0, len(refs)+len(extra))
	var values []float64
	for t := end.Add(-history); !t.After(end); t = t.Add(interval) {
		now = t
		values = fleet.Next(values[:0])
		samples = samples[:0]
		for i, r := range refs {
			samples = append(samples, store.Sample{Ref: r, T: t.UnixMilli(), V: values[i]})
		}
		for i, r := range extra {
			samples = append(samples, store.Sample{Ref: r, T: t.UnixMilli(), V: extraV[i]})
		}
		if err := s.Append(ctx, samples); err != nil {
			b.Fatal(err)
		}
	}
	engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 50_000_000, Timeout: 2 * time.Minute, LookbackDelta: 5 * time.Minute})
	m, err := rules.NewManager(rules.Options{
		Query: rules.EngineQueryFunc(engine, s),
		Sink:  storeSink{s},
		Now:   func() time.Time { return end },
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := m.Update(ctx, []string{filepath.Join("..", "packaging", "rules", "*.yml")}); err != nil {
		b.Fatal(err)
	}
	nRules := 0
	for _, g := range m.Groups() {
		nRules += len(g.Rules())
	}
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m.EvalAt(ctx, end)
	}
	b.StopTimer()
	for _, g := range m.Groups() {
		for _, r := range g.Rules() {
			if _, _, err := rules.Health(r); err != nil {
				b.Fatalf("%s: %v", r.Name(), err)
			}
		}
	}
	b.ReportMetric(float64(len(refs)+len(extra)), "series")
	b.ReportMetric(float64(nRules), "rules")
}

func envInt(name string, def int) int {
	var v int
	if _, err := fmt.Sscan(os.Getenv(name), &v); err != nil || v <= 0 {
		return def
	}
	return v
}
