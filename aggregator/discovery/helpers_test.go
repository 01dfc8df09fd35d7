package discovery

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
)

// memKV is the in-memory KV the tests use in place of the SQLite store.
type memKV struct {
	mu      sync.Mutex
	data    map[string][]byte
	puts    int
	deletes int
	fail    error // returned by Put and Delete while set
}

func newMemKV() *memKV { return &memKV{data: map[string][]byte{}} }

func (kv *memKV) Put(_ context.Context, key string, value []byte) error {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	if kv.fail != nil {
		return kv.fail
	}
	kv.puts++
	kv.data[key] = bytes.Clone(value)
	return nil
}

func (kv *memKV) Delete(_ context.Context, key string) error {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	if kv.fail != nil {
		return kv.fail
	}
	kv.deletes++
	delete(kv.data, key)
	return nil
}

func (kv *memKV) List(_ context.Context, prefix string) (map[string][]byte, error) {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	out := map[string][]byte{}
	for k, v := range kv.data {
		if strings.HasPrefix(k, prefix) {
			out[k] = bytes.Clone(v)
		}
	}
	return out, nil
}

func (kv *memKV) setFail(err error) {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	kv.fail = err
}

func (kv *memKV) snapshot() (data map[string][]byte, puts, deletes int) {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	return maps.Clone(kv.data), kv.puts, kv.deletes
}

var errStoreDown = errors.New("store is down")

// fakeClock is a settable Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// logBuffer collects a test's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// parseConfig parses a test configuration; relative paths resolve in dir.
func parseConfig(t *testing.T, yml, dir string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(yml), dir)
	if err != nil {
		t.Fatalf("config: %v\n%s", err, yml)
	}
	return cfg
}

// harness is a Manager with its fakes.
type harness struct {
	m     *Manager
	cfg   *config.Config
	kv    *memKV
	clock *fakeClock
	logs  *logBuffer
	reg   *prometheus.Registry
}

// newHarness builds a Manager for yml (see parseConfig); opts may set
// anything but the fakes.
func newHarness(t *testing.T, yml, dir string, opts Options) *harness {
	t.Helper()
	h := &harness{kv: newMemKV(), clock: newFakeClock(), logs: &logBuffer{}, reg: prometheus.NewRegistry()}
	h.start(t, parseConfig(t, yml, dir), opts)
	return h
}

// start (re)creates the Manager on the harness' fakes, as a restart would.
func (h *harness) start(t *testing.T, cfg *config.Config, opts Options) {
	t.Helper()
	h.cfg = cfg
	opts.Logger, opts.KV, opts.Now = h.logs.logger(), h.kv, h.clock.Now
	h.reg = prometheus.NewRegistry()
	opts.Registerer = h.reg
	m, err := New(context.Background(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	h.m = m
}

// metric is the value of a counter or gauge the Manager registered.
func (h *harness) metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if matches(m, labels) {
				return m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return 0
}

func matches(m *dto.Metric, labels []string) bool {
	for i := 0; i+1 < len(labels); i += 2 {
		found := false
		for _, lp := range m.GetLabel() {
			found = found || (lp.GetName() == labels[i] && lp.GetValue() == labels[i+1])
		}
		if !found {
			return false
		}
	}
	return true
}

// eventually polls cond until it holds, failing the test after a generous
// deadline (it never asserts how long anything took).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
