package scrape

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/store"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/target"
)

// fakeStorage keeps everything in memory.
type fakeStorage struct {
	mu       sync.Mutex
	refs     map[string]store.SeriesRef
	lsets    map[store.SeriesRef]labels.Labels
	refCalls int
	samples  []store.Sample
	meta     map[string]store.Metadata
	metaSets int
	// appendErr, when set, decides whether an Append fails.
	appendErr func(ctx context.Context, samples []store.Sample) error
}

func newFakeStorage() *fakeStorage {
	return &fakeStorage{refs: map[string]store.SeriesRef{}, lsets: map[store.SeriesRef]labels.Labels{}, meta: map[string]store.Metadata{}}
}

func (f *fakeStorage) Ref(lset labels.Labels) (store.SeriesRef, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refCalls++
	k := lset.String()
	if r, ok := f.refs[k]; ok {
		return r, nil
	}
	r := store.SeriesRef(len(f.refs) + 1)
	f.refs[k] = r
	f.lsets[r] = lset
	return r, nil
}

func (f *fakeStorage) Append(ctx context.Context, samples []store.Sample) error {
	f.mu.Lock()
	fail := f.appendErr
	f.mu.Unlock()
	if fail != nil {
		if err := fail(ctx, samples); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.samples = append(f.samples, samples...)
	return nil
}

func (f *fakeStorage) SetMetadata(metric string, m store.Metadata) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.meta[metric] = m
	f.metaSets++
}

func (f *fakeStorage) setAppendErr(fn func(context.Context, []store.Sample) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.appendErr = fn
}

func (f *fakeStorage) refCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refCalls
}

// point is a stored sample with its labels.
type point struct {
	lset labels.Labels
	t    int64
	v    float64
}

func (p point) stale() bool { return value.IsStaleNaN(p.v) }

// points returns the stored samples whose series match every given label
// (name=value pairs), in order.
func (f *fakeStorage) points(match ...string) []point {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []point
	for _, s := range f.samples {
		lset := f.lsets[s.Ref]
		ok := true
		for i := 0; i+1 < len(match); i += 2 {
			if lset.Get(match[i]) != match[i+1] {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, point{lset, s.T, s.V})
		}
	}
	return out
}

// at returns the samples stored with timestamp t, by series.
func (f *fakeStorage) at(t int64, match ...string) map[string]point {
	out := map[string]point{}
	for _, p := range f.points(match...) {
		if p.t == t {
			out[p.lset.String()] = p
		}
	}
	return out
}

// value returns the value stored at t for the one series with those labels.
func (f *fakeStorage) value(t *testing.T, ts int64, match ...string) float64 {
	t.Helper()
	got := f.at(ts, match...)
	if len(got) != 1 {
		t.Fatalf("%d series match %v at %d, want 1: %v", len(got), match, ts, got)
	}
	for _, p := range got {
		return p.v
	}
	return math.NaN()
}

// agent is a fake gpuwd-agent: it serves whatever page it is given.
type agent struct {
	srv *httptest.Server

	mu      sync.Mutex
	page    string
	ctype   string
	status  int
	headers http.Header // of the last request
}

func newAgent(t *testing.T, page, contentType string) *agent {
	a := &agent{page: page, ctype: contentType, status: http.StatusOK}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.headers = r.Header.Clone()
		page, ctype, status := a.page, a.ctype, a.status
		a.mu.Unlock()
		if ctype != "" {
			w.Header().Set("Content-Type", ctype)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(page))
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *agent) set(page string, status int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.page, a.status = page, status
}

func (a *agent) lastHeaders() http.Header {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.headers
}

const textPlain = "text/plain; version=0.0.4; charset=utf-8"

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(string(b[:len(b)-1]))
	return len(b), nil
}

// jobConfig is a complete scrape config, as config.Load would give.
func jobConfig(name string, interval, timeout time.Duration) config.ScrapeConfig {
	return config.ScrapeConfig{
		JobName:        name,
		ScrapeInterval: model.Duration(interval),
		ScrapeTimeout:  model.Duration(timeout),
		MetricsPath:    "/metrics",
		Scheme:         "http",
		SampleLimit:    config.DefaultSampleLimit,
		BodySizeLimit:  config.DefaultBodySizeLimit,
	}
}

func targetFor(t testing.TB, job, rawURL string) target.Target {
	t.Helper()
	tg, err := target.FromURL(job, rawURL+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// harness scrapes one target by hand: no goroutine, no timers.
type harness struct {
	t  *testing.T
	st *fakeStorage
	m  *Manager
	l  *loop
	ts time.Time
}

func newHarness(t *testing.T, cfg config.ScrapeConfig, tg target.Target) *harness {
	t.Helper()
	st := newFakeStorage()
	m := NewManager(st, Options{Logger: testLogger(t), Version: "test"})
	if err := m.ApplyConfig([]config.ScrapeConfig{cfg}); err != nil {
		t.Fatal(err)
	}
	l := m.newLoop(tg, m.jobs[cfg.JobName], nil)
	l.init()
	t.Cleanup(l.cancel)
	return &harness{t: t, st: st, m: m, l: l, ts: time.UnixMilli(1_700_000_000_000)}
}

// scrape scrapes once, one interval after the previous scrape, and returns
// the scrape's timestamp.
func (h *harness) scrape() int64 {
	h.t.Helper()
	h.ts = h.ts.Add(15 * time.Second)
	if !h.l.scrapeOnce(h.ts) {
		h.t.Fatal("scrape abandoned")
	}
	return h.ts.UnixMilli()
}

func (h *harness) status() Status {
	h.t.Helper()
	h.m.mu.Lock()
	h.m.loops[h.l.key] = h.l // Targets lists registered loops
	h.m.mu.Unlock()
	for _, s := range h.m.Targets() {
		return s
	}
	h.t.Fatal("no target")
	return Status{}
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
