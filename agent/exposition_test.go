package agent

import (
	"testing"
)

func TestAcceptsGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"":                       false,
		"gzip":                   true,
		"deflate, gzip;q=1.0, *": true,
		"gzip;q=0":               false,
		"GZIP ; q=0.5":           true,
		"identity":               false,
		"x-gzip":                 false,
		"br, zstd, gzip;q=0.000": false,
	} {
		if got := acceptsGzip(header); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", header, got, want)
		}
	}
}

func TestFormatsScrapersUseArePreRendered(t *testing.T) {
	a := serve(t, Options{Simulate: "h100x2"})
	om := "application/openmetrics-text; version=1.0.0"
	if r, _ := get(t, a.url+"/metrics", "Accept", om, "Accept-Encoding", "gzip"); r.StatusCode != 200 {
		t.Fatal(r.Status)
	}
	a.sampler.sample() // a new snapshot, made after the scrape
	snap := a.sampler.snapshot()
	snap.mu.Lock()
	n := len(snap.rendered)
	var gz bool
	for k := range snap.rendered {
		gz = k.gzip
	}
	snap.mu.Unlock()
	if n != 1 || !gz {
		t.Fatalf("the new snapshot has %d renderings (gzip %v), want the one format just scraped", n, gz)
	}
}

func TestTextScrapeContentType(t *testing.T) {
	a := serve(t, Options{Simulate: "h100x1"})
	resp, body := get(t, a.url+"/metrics", "Accept-Encoding", "identity")
	if ct := resp.Header.Get("Content-Type"); ct[:len("text/plain; version=0.0.4")] != "text/plain; version=0.0.4" {
		t.Errorf("Content-Type = %q", ct)
	}
	if resp.Header.Get("Content-Length") == "" || len(body) == 0 {
		t.Error("no Content-Length")
	}
}
