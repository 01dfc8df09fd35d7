package scrape

import (
	"strings"
	"testing"
	"time"
)

func TestCacheSteadyState(t *testing.T) {
	page := readFile(t, goldenFile)
	a := newAgent(t, page, textPlain)
	h := newHarness(t, jobConfig("gpu", 15*time.Second, 10*time.Second), targetFor(t, "gpu", a.srv.URL))
	n := goldenSeries(t)
	h.scrape()
	refs := h.st.refCount()
	if refs != n+5 {
		t.Errorf("first scrape made %d Ref calls, want %d (page + report series)", refs, n+5)
	}
	for range 3 {
		h.scrape()
	}
	if got := h.st.refCount(); got != refs {
		t.Errorf("steady state made %d more Ref calls, want none", got-refs)
	}

	// Drop GPU 7 from the page: its series leave the cache after a couple
	// of scrapes.
	var kept []string
	for line := range strings.SplitSeq(page, "\n") {
		if !strings.Contains(line, `gpu="7"`) {
			kept = append(kept, line)
		}
	}
	a.set(strings.Join(kept, "\n"), 200)
	gone := strings.Count(page, `gpu="7"`)
	for range 3 {
		h.scrape()
	}
	c := h.l.cache
	if len(c.raw) != n-gone || len(c.byRef) != n-gone {
		t.Errorf("cache holds %d spellings and %d series, want %d", len(c.raw), len(c.byRef), n-gone)
	}
	if got := h.st.refCount(); got != refs {
		t.Errorf("a shrinking page made %d Ref calls", got-refs)
	}
	// GPU 7 comes back: its series are looked up again, and are the same.
	a.set(page, 200)
	ts := h.scrape()
	if got := h.st.refCount(); got != refs+gone {
		t.Errorf("returning series made %d Ref calls, want %d", got-refs, gone)
	}
	if v := h.st.value(t, ts, "__name__", "scrape_series_added"); v != float64(gone) {
		t.Errorf("scrape_series_added = %v, want %d", v, gone)
	}
	if len(h.st.refs) != n+5 {
		t.Errorf("storage holds %d series, want %d", len(h.st.refs), n+5)
	}
}

func TestMetadataForgotten(t *testing.T) {
	a := newAgent(t, "# TYPE a gauge\na 1\n# TYPE b counter\nb 2\n", textPlain)
	h := newHarness(t, jobConfig("j", time.Minute, 10*time.Second), targetFor(t, "j", a.srv.URL))
	h.scrape()
	h.status()
	if md := h.m.Metadata(); len(md) != 2 || md["b"][0].Type != "counter" {
		t.Fatalf("Metadata() = %v", md)
	}
	a.set("# TYPE a gauge\na 1\n", 200)
	for range metadataKeep + 1 {
		h.scrape()
	}
	if md := h.m.Metadata(); len(md) != 1 || md["a"] == nil {
		t.Errorf("Metadata() after b went away = %v", md)
	}
	// A change is handed to storage.
	a.set("# TYPE a gauge\n# HELP a New help.\na 1\n", 200)
	h.scrape()
	if md := h.st.meta["a"]; md.Help != "New help." {
		t.Errorf("storage has %+v", md)
	}
}
