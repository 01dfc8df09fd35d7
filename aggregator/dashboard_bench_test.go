package aggregator

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/benchdata"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/store"
	"github.com/gpu-watchdog/gpu-watchdog/web"
	"github.com/gpu-watchdog/gpu-watchdog/web/pages/overview"
)

// dashboardMetrics are the per-GPU series the dashboard's pages read.
var dashboardMetrics = []string{
	"DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE", "DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_POWER_USAGE",
	"DCGM_FI_DEV_SM_CLOCK", "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "DCGM_FI_DEV_ROW_REMAP_FAILURE", "gpuwd_gpu_up",
	"gpuwd_clock_event_active", "gpuwd_gpu_info",
}

// BenchmarkDashboard renders the overview, the GPU wall and a node page
// through the dashboard's handler over the real store: GPUWD_DASH_BENCH_NODES
// (default 100) simulated 8-GPU nodes with 24 h of 15 s history up to now,
// one of them with 7 days, a Slurm job on half the GPUs, price and up per
// node. Each sub-benchmark reports the p50 and p95 server time of a page,
// its CPU time, its size before compression and the gzipped bytes sent.
//
// The overview shares its numbers between the viewers of one 15 s slot,
// so it is measured three ways: as served (requests back to back, nearly
// all in one slot), as the first view after a start (nothing cached), and
// as one viewer refreshing every 15 s sees it while scrapes come in (every
// request a new slot: every number evaluated again, each trend's new
// minute once).
func BenchmarkDashboard(b *testing.B) {
	nodes := envInt("GPUWD_DASH_BENCH_NODES", 100)
	s, end, scrape := dashboardStore(b, nodes)
	engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 50_000_000, Timeout: 2 * time.Minute, LookbackDelta: 5 * time.Minute})
	q := engineQuery{engine: engine, store: s, timeout: 2 * time.Minute}
	// The pages read at the wall clock's now: the history must reach it.
	if v, err := q.Instant(context.Background(), `count(gpuwd_gpu_info)`, time.Now()); err != nil || len(v) != 1 || v[0].F != float64(8*nodes) {
		b.Fatalf("the fleet is not there now: %v %v", v, err)
	}
	dash := web.New(web.Options{Query: q})
	served := func() http.Handler { return dash }
	for _, page := range []struct{ name, path string }{
		{"overview", "/"},
		{"gpu-wall", "/nodes"},
		{"node-24h", "/nodes/node-000?range=24h"},
		{"node-7d", "/nodes/node-000?range=7d"},
	} {
		b.Run(page.name, func(b *testing.B) { measurePage(b, page.path, served, dash) })
	}
	b.Run("overview-first-view", func(b *testing.B) {
		measurePage(b, "/", func() http.Handler { return web.New(web.Options{Query: q}) }, dash)
	})
	// Last, as it moves the history on past now: the viewer's clock, the
	// scrapes and the store's maintenance advance 15 s before each request.
	// The overview's own handler, as web.New takes no clock.
	b.Run("overview-refresh", func(b *testing.B) {
		clock := end
		e := echo.New()
		(&overview.Page{Query: q, Now: func() time.Time { return clock }}).Register(e)
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil)) // the viewer's first view
		measurePage(b, "/", func() http.Handler {
			clock = clock.Add(15 * time.Second)
			scrape(clock)
			return e
		}, dash)
	})
}

// measurePage requests path b.N times, each from the handler next returns
// (made before the clock starts), and reports the p50 and p95 time, the
// mean CPU time of the process per request (which other work on a shared
// machine does not inflate the way it does wall time), the page's size,
// and the bytes dash sends for it gzipped.
func measurePage(b *testing.B, path string, next func() http.Handler, dash http.Handler) {
	took := make([]time.Duration, 0, b.N)
	var cpu time.Duration
	size := 0
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		h := next()
		rec := httptest.NewRecorder()
		b.StartTimer()
		cpu0 := cpuTime(b)
		start := time.Now()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		took = append(took, time.Since(start))
		cpu += cpuTime(b) - cpu0
		if rec.Code != http.StatusOK {
			b.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
		size = rec.Body.Len()
	}
	b.StopTimer()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	dash.ServeHTTP(rec, req)
	if rec.Header().Get("Content-Encoding") != "gzip" {
		b.Fatalf("GET %s: not gzipped", path)
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*95/100].Microseconds())/1000, "p95-ms")
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms")
	b.ReportMetric(float64(size), "bytes")
	b.ReportMetric(float64(rec.Body.Len()), "gzip-bytes")
}

// dashboardStore fills a store with the fleet's history up to end, the
// wall clock's now (the pages read at now), and compacts it as the running
// store's maintenance does: everything but the open windows is in SQLite
// chunks. scrape adds the next scrape at t (15 s after the last one) and
// runs maintenance as of t.
func dashboardStore(tb testing.TB, nodes int) (s *store.Store, end time.Time, scrape func(t time.Time)) {
	ctx := context.Background()
	const interval = 15 * time.Second
	end = time.Now().Truncate(interval)
	now := end.Add(-7 * 24 * time.Hour)
	s, err := store.Open(ctx, tb.TempDir(), store.Options{Now: func() time.Time { return now }, MaintenanceInterval: time.Hour,
		Retention: 30 * 24 * time.Hour, DownsampleAfter: 30 * 24 * time.Hour})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	ref := func(lset labels.Labels) store.SeriesRef {
		r, err := s.Ref(lset)
		if err != nil {
			tb.Fatal(err)
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
	scrape = func(t time.Time) {
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
			tb.Fatal(err)
		}
		if err := s.Maintain(ctx); err != nil {
			tb.Fatal(err)
		}
	}
	for t := end.Add(-7 * 24 * time.Hour); !t.After(end); t = t.Add(interval) {
		scrape(t)
	}
	return s, end, scrape
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
