package agent

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
)

func benchAgent(b *testing.B, spec string) *Agent {
	b.Helper()
	a, err := New(Options{Simulate: spec, SampleInterval: time.Second, Hostname: "bench", NVMLLibrary: DefaultNVMLLibrary},
		slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(a.Close)
	a.sampler.sample() // with GPM ratios
	return a
}

// BenchmarkScrape is one /metrics request for 8 simulated H100s: it renders
// the snapshot, it never reads a GPU.
func BenchmarkScrape(b *testing.B) {
	for _, c := range []struct{ name, accept, encoding string }{
		{"text", "", ""},
		{"text-gzip", "", "gzip"},
		{"openmetrics", "application/openmetrics-text; version=1.0.0", ""},
	} {
		b.Run(c.name, func(b *testing.B) {
			a := benchAgent(b, "h100x8")
			h := a.Handler()
			req := httptest.NewRequest("GET", "/metrics", nil)
			if c.accept != "" {
				req.Header.Set("Accept", c.accept)
			}
			if c.encoding != "" {
				req.Header.Set("Accept-Encoding", c.encoding)
			}
			var size int64
			b.ReportAllocs()
			for b.Loop() {
				w := &countingWriter{header: http.Header{}}
				h.ServeHTTP(w, req)
				size = w.n
			}
			b.ReportMetric(float64(size), "bytes/scrape")
		})
	}
}

// BenchmarkSampleCycle is one sampling cycle over 8 simulated H100s: every
// default collector, the registry's checks, and publishing the snapshot.
// The simulator answers in nanoseconds; on real GPUs NVML's own time adds
// to this (see BENCHMARKS.md).
func BenchmarkSampleCycle(b *testing.B) {
	a := benchAgent(b, "h100x8")
	b.ReportAllocs()
	for b.Loop() {
		a.sampler.sample()
	}
}

type countingWriter struct {
	header http.Header
	n      int64
}

func (w *countingWriter) Header() http.Header { return w.header }
func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}
func (w *countingWriter) WriteHeader(int) {}

var _ io.Writer = (*countingWriter)(nil)

// BenchmarkRender is what the sampler spends per cycle on each format that
// scrapers use: encoding the snapshot (and compressing it).
func BenchmarkRender(b *testing.B) {
	a := benchAgent(b, "h100x8")
	snap := a.sampler.snapshot()
	for _, c := range []struct {
		name string
		key  renderKey
	}{
		{"text", renderKey{format: expfmt.NewFormat(expfmt.TypeTextPlain)}},
		{"text-gzip", renderKey{format: expfmt.NewFormat(expfmt.TypeTextPlain), gzip: true}},
		{"openmetrics-gzip", renderKey{format: expfmt.NewFormat(expfmt.TypeOpenMetrics), gzip: true}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := render(snap.familiesFor(c.key.format), c.key); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
