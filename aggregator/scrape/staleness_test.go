package scrape

import (
	"testing"
	"time"
)

func TestStaleDisappearingSeries(t *testing.T) {
	a := newAgent(t, "a 1\nb 2\n", textPlain)
	h := newHarness(t, jobConfig("j", time.Minute, 10*time.Second), targetFor(t, "j", a.srv.URL))
	h.scrape()
	a.set("a 1\n", 200)
	ts := h.scrape()
	if p := h.st.at(ts, "__name__", "b"); len(p) != 1 || !only(p).stale() {
		t.Fatalf("b after disappearing: %v, want one stale marker", p)
	}
	for name, p := range h.st.at(ts) {
		if p.stale() && p.lset.Get("__name__") != "b" {
			t.Errorf("%s marked stale", name)
		}
	}
	ts = h.scrape()
	if p := h.st.at(ts, "__name__", "b"); len(p) != 0 {
		t.Errorf("b marked stale twice: %v", p)
	}
	a.set("a 1\nb 3\n", 200)
	ts = h.scrape()
	if v := h.st.value(t, ts, "__name__", "b"); v != 3 {
		t.Errorf("b came back as %v", v)
	}
}

func TestEmptyPage(t *testing.T) {
	for _, ctype := range []string{textPlain, omType} {
		a := newAgent(t, "a 1\n", textPlain)
		h := newHarness(t, jobConfig("j", time.Minute, 10*time.Second), targetFor(t, "j", a.srv.URL))
		h.scrape()
		a.mu.Lock()
		a.page, a.ctype = "", ctype
		a.mu.Unlock()
		ts := h.scrape()
		if v := h.st.value(t, ts, "__name__", "up"); v != 1 {
			t.Errorf("%s: up = %v after an empty page", ctype, v)
		}
		if p := h.st.at(ts, "__name__", "a"); len(p) != 1 || !only(p).stale() {
			t.Errorf("%s: a after an empty page: %v, want a stale marker", ctype, p)
		}
		if len(h.l.cache.raw) != 1 {
			t.Errorf("%s: an empty page emptied the cache", ctype)
		}
	}
}

func TestStaleOnFailedScrape(t *testing.T) {
	a := newAgent(t, "a 1\nb 2\n", textPlain)
	h := newHarness(t, jobConfig("j", time.Minute, 10*time.Second), targetFor(t, "j", a.srv.URL))
	h.scrape()
	a.set("boom", 500)
	ts := h.scrape()
	for _, name := range []string{"a", "b"} {
		if p := h.st.at(ts, "__name__", name); len(p) != 1 || !only(p).stale() {
			t.Errorf("%s after a failed scrape: %v, want a stale marker", name, p)
		}
	}
	if v := h.st.value(t, ts, "__name__", "up"); v != 0 {
		t.Errorf("up = %v after a failed scrape", v)
	}
	for _, name := range []string{"scrape_duration_seconds", "scrape_samples_scraped", "scrape_series_added"} {
		if p := h.st.at(ts, "__name__", name); len(p) != 1 || only(p).stale() {
			t.Errorf("%s after a failed scrape: %v, want a value", name, p)
		}
	}
	st := h.status()
	if st.Health != HealthDown || st.LastError != "server returned HTTP status 500 Internal Server Error" {
		t.Errorf("status %s %q", st.Health, st.LastError)
	}
	// A second failure has nothing left to mark stale.
	ts = h.scrape()
	if got := len(h.st.at(ts)); got != 5 {
		t.Errorf("second failure stored %d samples, want the 5 report series", got)
	}
	a.set("a 1\nb 2\n", 200)
	ts = h.scrape()
	if v := h.st.value(t, ts, "__name__", "up"); v != 1 {
		t.Errorf("up = %v after recovery", v)
	}
	if st := h.status(); st.Health != HealthUp || st.LastError != "" {
		t.Errorf("status after recovery %s %q", st.Health, st.LastError)
	}
}

func TestStaleOnRemovedTarget(t *testing.T) {
	a := newAgent(t, "a 1\nb 2 1000\n", textPlain)
	h := newHarness(t, jobConfig("j", time.Minute, 10*time.Second), targetFor(t, "j", a.srv.URL))
	ts := h.scrape()
	h.l.finish()
	stale := map[string]bool{}
	for _, p := range h.st.points() {
		if p.t > ts && p.stale() {
			stale[p.lset.Get("__name__")] = true
		}
	}
	for _, name := range []string{"a", "up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling", "scrape_series_added"} {
		if !stale[name] {
			t.Errorf("%s not marked stale when the target went away", name)
		}
	}
	if stale["b"] {
		t.Error("b has its own timestamps and must not be marked stale")
	}
}

func TestSampleLimit(t *testing.T) {
	a := newAgent(t, "a 1\nb 2\n", textPlain)
	cfg := jobConfig("j", time.Minute, 10*time.Second)
	cfg.SampleLimit = 3
	h := newHarness(t, cfg, targetFor(t, "j", a.srv.URL))
	h.scrape()
	refs := h.st.refCount()
	a.set("a 1\nb 2\nc 3\nd 4\ne 5\n", 200)
	ts := h.scrape()
	st := h.status()
	if st.Health != HealthDown || st.LastError != "sample limit exceeded (5 samples, limit 3)" {
		t.Fatalf("status %s %q", st.Health, st.LastError)
	}
	for _, name := range []string{"a", "b"} {
		if p := h.st.at(ts, "__name__", name); len(p) != 1 || !only(p).stale() {
			t.Errorf("%s: %v, want only a stale marker", name, p)
		}
	}
	for _, name := range []string{"c", "d", "e"} {
		if p := h.st.points("__name__", name); len(p) != 0 {
			t.Errorf("%s stored from a scrape over the limit: %v", name, p)
		}
	}
	if got := h.st.refCount(); got != refs {
		t.Errorf("a scrape over the limit created %d series", got-refs)
	}
	if v := h.st.value(t, ts, "__name__", "up"); v != 0 {
		t.Errorf("up = %v", v)
	}
	if v := h.st.value(t, ts, "__name__", "scrape_samples_scraped"); v != 5 {
		t.Errorf("scrape_samples_scraped = %v", v)
	}
}

func only(m map[string]point) point {
	for _, p := range m {
		return p
	}
	return point{}
}
