package scrape

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/store"
)

// nopStorage hands out references and forgets samples.
type nopStorage struct{ next store.SeriesRef }

func (s *nopStorage) Ref(labels.Labels) (store.SeriesRef, error) {
	s.next++
	return s.next, nil
}
func (*nopStorage) Append(context.Context, []store.Sample) error { return nil }
func (*nopStorage) SetMetadata(string, store.Metadata)           {}

// BenchmarkScrapeH100x8 is one steady-state scrape of the golden 8×H100
// page (473 samples, 111 KiB): fetch over loopback HTTP (the in-process
// server's work included), parse, cache lookups, staleness, report series
// and one Append to a storage that does nothing. parse-append leaves HTTP
// out.
func BenchmarkScrapeH100x8(b *testing.B) {
	page, err := os.ReadFile(goldenFile)
	if err != nil {
		b.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(page)
	_ = zw.Close()
	om := []byte(toOpenMetrics(b, string(page)))
	samples := float64(strings.Count(string(page), "\n") - 2*strings.Count(string(page), "# TYPE"))

	for _, bc := range []struct {
		name, ctype string
		body        []byte
		gzip        bool
	}{
		{"text", textPlain, page, false},
		{"text-gzip", textPlain, gz.Bytes(), true},
		{"openmetrics", "application/openmetrics-text; version=1.0.0; charset=utf-8", om, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", bc.ctype)
				if bc.gzip {
					w.Header().Set("Content-Encoding", "gzip")
				}
				_, _ = w.Write(bc.body)
			}))
			defer srv.Close()
			l := benchLoop(b, srv.URL)
			ts := time.UnixMilli(1_700_000_000_000)
			l.scrapeOnce(ts) // fill the cache
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				ts = ts.Add(15 * time.Second)
				l.scrapeOnce(ts)
			}
			b.StopTimer()
			if l.health != HealthUp {
				b.Fatalf("scrape failed: %s", l.lastErr)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/samples, "ns/sample")
		})
	}

	// The same without HTTP; "textparse" forgets the page's layout before
	// each scrape, so every line goes through textparse.
	for _, slow := range []bool{false, true} {
		name := "parse-append"
		if slow {
			name += "-textparse"
		}
		b.Run(name, func(b *testing.B) {
			l := benchLoop(b, "http://127.0.0.1:1")
			body := append(make([]byte, 0, len(page)+1), page...) // room for the parser's newline
			t := int64(1_700_000_000_000)
			scrape := func() {
				if slow {
					l.cache.layout.valid = false
				}
				l.cache.begin()
				n, err := l.read(body, textPlain, t)
				if err != nil {
					b.Fatal(err)
				}
				l.write(t, time.Time{}, time.Millisecond, n, nil)
				t += 15_000
			}
			scrape()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				scrape()
			}
			b.StopTimer()
			if l.health != HealthUp {
				b.Fatalf("scrape failed: %s", l.lastErr)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/samples, "ns/sample")
		})
	}
}

func benchLoop(b *testing.B, url string) *loop {
	m := NewManager(&nopStorage{}, Options{})
	cfg := jobConfig("gpu", 15*time.Second, 10*time.Second)
	if err := m.ApplyConfig([]config.ScrapeConfig{cfg}); err != nil {
		b.Fatal(err)
	}
	l := m.newLoop(targetFor(b, "gpu", url), m.jobs["gpu"], nil)
	l.init()
	b.Cleanup(l.cancel)
	return l
}
