package aggregator

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/benchdata"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/store"
	"github.com/gpu-watchdog/gpu-watchdog/web"
)

// dashboardMetrics are the per-GPU series the dashboard's pages read.
var dashboardMetrics = []string{
	"DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE", "DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_POWER_USAGE",
	"DCGM_FI_DEV_SM_CLOCK", "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "DCGM_FI_DEV_ROW_REMAP_FAILURE", "gpuwd_gpu_up",
	"gpuwd_clock_event_active", "gpuwd_gpu_info",
}

// BenchmarkDashboard renders the overview, the GPU wall and a node page
// through the dashboard's handler over the real store: GPUWD_DASH_BENCH_NODES
// (default 100) simulated 8-GPU nodes with 24 h of 15 s history, one of
// them with 7 days, a Slurm job on half the GPUs, price and up per node.
// Each sub-benchmark reports the p50 and p95 server time of a page and its
// size (before compression).
func BenchmarkDashboard(b *testing.B) {
	nodes := envInt("GPUWD_DASH_BENCH_NODES", 100)
	ctx := context.Background()
	end := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	const interval = 15 * time.Second
	now := end.Add(-7 * 24 * time.Hour)
	s, err := store.Open(ctx, b.TempDir(), store.Options{Now: func() time.Time { return now }, MaintenanceInterval: time.Hour,
		Retention: 30 * 24 * time.Hour, DownsampleAfter: 30 * 24 * time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	ref := func(lset labels.Labels) store.SeriesRef {
		r, err := s.Ref(lset)
		if err != nil {
			b.Fatal(err)
		}
		return r
	}
	fleet := benchdata.New(benchdata.Options{Nodes: nodes, Metrics: dashboardMetrics, Interval: interval})
	var refs []store.SeriesRef
	for _, sr := range fleet.Series() {
		refs = append(refs, ref(sr.Labels))
	}
	node0 := fleet.Nodes()[0] // the one with 7 days; its series come first
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
	dayStart := end.Add(-24 * time.Hour)
	var values []float64
	var samples []store.Sample
	for t := end.Add(-7 * 24 * time.Hour); !t.After(end); t = t.Add(interval) {
		now = t
		full := !t.Before(dayStart)
		if full {
			values = fleet.Next(values[:0])
		} else {
			values = node0.Next(values[:0])
		}
		samples = samples[:0]
		for i, v := range values {
			samples = append(samples, store.Sample{Ref: refs[i], T: t.UnixMilli(), V: v})
		}
		if full {
			for i, r := range extra {
				samples = append(samples, store.Sample{Ref: r, T: t.UnixMilli(), V: extraV[i]})
			}
		}
		if err := s.Append(ctx, samples); err != nil {
			b.Fatal(err)
		}
	}
	engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 50_000_000, Timeout: 2 * time.Minute, LookbackDelta: 5 * time.Minute})
	dash := web.New(web.Options{Query: engineQuery{engine: engine, store: s, timeout: 2 * time.Minute}})
	for _, page := range []struct{ name, path string }{
		{"overview", "/"},
		{"gpu-wall", "/nodes"},
		{"node-24h", "/nodes/node-000?range=24h"},
		{"node-7d", "/nodes/node-000?range=7d"},
	} {
		b.Run(page.name, func(b *testing.B) {
			var took []time.Duration
			size := 0
			for b.Loop() {
				rec := httptest.NewRecorder()
				start := time.Now()
				dash.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, page.path, nil))
				took = append(took, time.Since(start))
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s: %d %s", page.path, rec.Code, rec.Body)
				}
				size = rec.Body.Len()
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(took[len(took)*95/100].Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(size), "bytes")
		})
	}
}
