package rules

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/alertdb"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// world is a scripted fleet: the GPUs hotter than 85 °C now, by instance.
type world struct {
	mu  sync.Mutex
	hot map[string]float64
}

func (w *world) set(hot map[string]float64) {
	w.mu.Lock()
	w.hot = hot
	w.mu.Unlock()
}

// query answers the one expression the test rules use.
func (w *world) query(_ context.Context, q string, t time.Time) (promql.Vector, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var v promql.Vector
	for inst, temp := range w.hot {
		v = append(v, promql.Sample{Metric: labels.FromStrings("__name__", "DCGM_FI_DEV_GPU_TEMP", "instance", inst, "gpu", "0"), T: t.UnixMilli(), F: temp})
	}
	return v, nil
}

// sink records what rules write.
type sink struct {
	mu      sync.Mutex
	samples promql.Vector
}

func (s *sink) Write(_ context.Context, v promql.Vector) error {
	s.mu.Lock()
	s.samples = append(s.samples, v...)
	s.mu.Unlock()
	return nil
}

func (s *sink) take() promql.Vector {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.samples
	s.samples = nil
	return v
}

const hotRules = `groups:
- name: gpu
  interval: 1m
  rules:
  - alert: GPUHot
    expr: DCGM_FI_DEV_GPU_TEMP > 85
    for: 3m
    keep_firing_for: 2m
    labels: {severity: critical}
    annotations:
      summary: 'GPU {{ $labels.gpu }} on {{ $labels.instance }} at {{ $value | printf "%.0f" }} °C'
`

type harness struct {
	t      *testing.T
	dir    string
	world  *world
	sink   *sink
	now    time.Time
	m      *Manager
	sent   []Notification
	sentMu sync.Mutex
}

func newHarness(t *testing.T, dir string, w *world, now time.Time) *harness {
	t.Helper()
	h := &harness{t: t, dir: dir, world: w, sink: &sink{}, now: now}
	db, err := alertdb.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	state, err := NewSQLState(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	h.m, err = NewManager(Options{
		Query:       w.query,
		Sink:        h.sink,
		State:       state,
		ExternalURL: "http://gpuwd.example:8080",
		Now:         func() time.Time { return h.now },
		Notify: func(_ context.Context, alerts []Notification) {
			h.sentMu.Lock()
			h.sent = append(h.sent, alerts...)
			h.sentMu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "gpu.yml")
	if _, err := os.Stat(file); err != nil {
		if err := os.WriteFile(file, []byte(hotRules), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.m.Update(context.Background(), []string{filepath.Join(dir, "*.yml")}); err != nil {
		t.Fatal(err)
	}
	return h
}

// at evaluates at t0 + minutes and returns the one rule's alerts.
func (h *harness) at(minutes float64) []Alert {
	h.now = t0.Add(time.Duration(minutes * float64(time.Minute)))
	h.m.EvalAt(context.Background(), h.now)
	g := h.m.Groups()[0]
	if _, _, err := Health(g.Rules()[0]); err != nil {
		h.t.Fatalf("evaluation failed: %v", err)
	}
	return g.Rules()[0].(*AlertingRule).ActiveAlerts()
}

func (h *harness) takeSent() []Notification {
	h.sentMu.Lock()
	defer h.sentMu.Unlock()
	s := h.sent
	h.sent = nil
	return s
}

func state(t *testing.T, alerts []Alert) string {
	t.Helper()
	if len(alerts) == 0 {
		return "none"
	}
	if len(alerts) > 1 {
		t.Fatalf("want one alert, got %d", len(alerts))
	}
	return alerts[0].State.String()
}

func TestPendingFiringKeepFiringResolved(t *testing.T) {
	w := &world{}
	h := newHarness(t, t.TempDir(), w, t0)
	w.set(map[string]float64{"node-1:9400": 91})
	steps := []struct {
		min  float64
		hot  bool
		want string
	}{
		{0, true, "pending"},
		{1, true, "pending"},
		{2, true, "pending"},
		{3, true, "firing"},  // held for 3m
		{4, false, "firing"}, // keep_firing_for 2m
		{5, false, "firing"},
		{6, false, "none"},   // resolved (kept for re-sending, not active)
		{7, true, "pending"}, // a new alert starts over
	}
	for _, s := range steps {
		if s.hot {
			w.set(map[string]float64{"node-1:9400": 91})
		} else {
			w.set(nil)
		}
		alerts := h.at(s.min)
		if got := state(t, alerts); got != s.want {
			t.Fatalf("at %vm: state %s, want %s", s.min, got, s.want)
		}
	}
}

func TestAnnotationsAndNotifications(t *testing.T) {
	w := &world{}
	h := newHarness(t, t.TempDir(), w, t0)
	w.set(map[string]float64{"node-1:9400": 91.4})
	for m := 0; m <= 3; m++ {
		h.at(float64(m))
	}
	sent := h.takeSent()
	if len(sent) != 1 {
		t.Fatalf("sent %d notifications, want 1 (firing at 3m)", len(sent))
	}
	n := sent[0]
	if got := n.Annotations.Get("summary"); got != "GPU 0 on node-1:9400 at 91 °C" {
		t.Errorf("summary = %q", got)
	}
	if n.Labels.Get("alertname") != "GPUHot" || n.Labels.Get("severity") != "critical" || n.Labels.Has("__name__") {
		t.Errorf("labels = %s", n.Labels)
	}
	if !n.StartsAt.Equal(t0.Add(3*time.Minute)) || !n.EndsAt.Equal(t0.Add(3*time.Minute+4*time.Minute)) {
		t.Errorf("startsAt %s endsAt %s: want fired at 3m, valid 4 resend delays", n.StartsAt, n.EndsAt)
	}
	if !strings.HasPrefix(n.GeneratorURL, "http://gpuwd.example:8080/alerts?rule=GPUHot") {
		t.Errorf("generatorURL = %q", n.GeneratorURL)
	}
	// Not re-sent before the resend delay; re-sent after it.
	h.at(3.5)
	if s := h.takeSent(); len(s) != 0 {
		t.Errorf("re-sent within the resend delay: %d", len(s))
	}
	h.at(4.5)
	if s := h.takeSent(); len(s) != 1 {
		t.Errorf("not re-sent after the resend delay: %d", len(s))
	}
	// Resolved: sent once with EndsAt = resolution time.
	w.set(nil)
	for _, m := range []float64{5, 6, 7, 7.5} {
		h.at(m)
	}
	sent = h.takeSent()
	if len(sent) == 0 || !sent[len(sent)-1].EndsAt.Equal(t0.Add(7*time.Minute)) {
		t.Fatalf("resolution not sent with EndsAt at 7m: %+v", sent)
	}
}

func TestALERTSSeriesAndStaleness(t *testing.T) {
	w := &world{}
	h := newHarness(t, t.TempDir(), w, t0)
	w.set(map[string]float64{"node-1:9400": 91})
	h.at(0)
	got := map[string]float64{}
	for _, s := range h.sink.take() {
		got[s.Metric.Get("__name__")+"/"+s.Metric.Get("alertstate")] = s.F
	}
	if got["ALERTS/pending"] != 1 || got["ALERTS_FOR_STATE/"] != float64(t0.Unix()) {
		t.Fatalf("first evaluation wrote %v", got)
	}
	for m := 1; m <= 3; m++ {
		h.at(float64(m))
	}
	var pendingStale, firing bool
	for _, s := range h.sink.take() {
		if s.Metric.Get("alertstate") == "pending" && value.IsStaleNaN(s.F) {
			pendingStale = true
		}
		if s.Metric.Get("alertstate") == "firing" && s.F == 1 {
			firing = true
		}
	}
	if !pendingStale || !firing {
		t.Fatalf("after firing: pending series marked stale %v, firing written %v", pendingStale, firing)
	}
}

func TestRestartKeepsFiringAlertsAndShiftsPending(t *testing.T) {
	dir := t.TempDir()
	w := &world{}
	w.set(map[string]float64{"node-1:9400": 91})
	h := newHarness(t, dir, w, t0)
	for m := 0; m <= 4; m++ {
		h.at(float64(m))
	}
	fired := h.m.Groups()[0].Rules()[0].(*AlertingRule).ActiveAlerts()[0].FiredAt
	h.takeSent()
	// A second GPU turns hot just before the restart: pending.
	w.set(map[string]float64{"node-1:9400": 91, "node-2:9400": 88})
	h.at(5)

	// Restart 10 minutes later.
	h2 := newHarness(t, dir, w, t0.Add(15*time.Minute))
	alerts := h2.at(15)
	byInst := map[string]Alert{}
	for _, a := range alerts {
		byInst[a.Labels.Get("instance")] = a
	}
	a1, a2 := byInst["node-1:9400"], byInst["node-2:9400"]
	if a1.State != StateFiring || !a1.FiredAt.Equal(fired) {
		t.Errorf("firing alert after restart: %s fired %s, want firing since %s", a1.State, a1.FiredAt, fired)
	}
	if a2.State != StatePending {
		t.Errorf("pending alert after restart: %s", a2.State)
	}
	// for is 3m, shorter than the 10m grace period: Prometheus does not
	// restore it, so it waits its whole `for` from the first evaluation.
	if !a2.ActiveAt.Equal(t0.Add(15 * time.Minute)) {
		t.Errorf("pending alert active since %s, want the restart's first evaluation", a2.ActiveAt)
	}
}

func TestStateOlderThanOutageToleranceIsNotRestored(t *testing.T) {
	dir := t.TempDir()
	w := &world{}
	w.set(map[string]float64{"node-1:9400": 91})
	h := newHarness(t, dir, w, t0)
	for m := 0; m <= 4; m++ {
		h.at(float64(m))
	}
	h2 := newHarness(t, dir, w, t0.Add(3*time.Hour))
	if got := state(t, h2.at(180)); got != "pending" {
		t.Fatalf("after a 3h outage the alert is %s, want pending again", got)
	}
}

func TestReloadKeepsStateAndBadFileChangesNothing(t *testing.T) {
	dir := t.TempDir()
	w := &world{}
	w.set(map[string]float64{"node-1:9400": 91})
	h := newHarness(t, dir, w, t0)
	for m := 0; m <= 3; m++ {
		h.at(float64(m))
	}
	file := filepath.Join(dir, "gpu.yml")
	// Same rule, changed annotation, plus a new rule: the alert keeps firing.
	changed := strings.Replace(hotRules, "°C'", "°C (reloaded)'", 1) + `  - alert: Other
    expr: vector(1)
`
	if err := os.WriteFile(file, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := h.m.Update(context.Background(), []string{filepath.Join(dir, "*.yml")}); err != nil {
		t.Fatal(err)
	}
	alerts := h.at(4)
	if state(t, alerts) != "firing" || !strings.HasSuffix(alerts[0].Annotations.Get("summary"), "(reloaded)") {
		t.Fatalf("after reload: %+v", alerts)
	}
	// A broken file: Update fails, names the problem, the old rules stay.
	if err := os.WriteFile(file, []byte("groups:\n- name: gpu\n  rules:\n  - alert: X\n    expr: rate(\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := h.m.Update(context.Background(), []string{filepath.Join(dir, "*.yml")})
	if err == nil || !strings.Contains(err.Error(), "gpu.yml") || !strings.Contains(err.Error(), "could not parse expression") {
		t.Fatalf("bad file: %v", err)
	}
	if len(h.m.Groups()[0].Rules()) != 2 || state(t, h.at(5)) != "firing" {
		t.Fatal("a bad reload changed the rules or lost the alert")
	}
}

func TestLimitAndDuplicateLabelSets(t *testing.T) {
	dir := t.TempDir()
	rules := `groups:
- name: limited
  limit: 1
  rules:
  - alert: Hot
    expr: DCGM_FI_DEV_GPU_TEMP > 85
`
	if err := os.WriteFile(filepath.Join(dir, "gpu.yml"), []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	w := &world{}
	h := newHarness(t, dir, w, t0)
	w.set(map[string]float64{"a": 90, "b": 90})
	h.m.EvalAt(context.Background(), t0)
	_, _, err := Health(h.m.Groups()[0].Rules()[0])
	if err == nil || !strings.Contains(err.Error(), "exceeded limit of 1") {
		t.Fatalf("limit: %v", err)
	}
}

func TestCheckReportsWhereAndWhat(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yml")
	os.WriteFile(bad, []byte(`groups:
- name: g
  rules:
  - alert: A
    expr: up == 0
    labels: {value: "{{ $value }}"}
  - alert: A
    expr: up == 0
    labels: {value: "{{ $value }}"}
  - record: "job:up{x}"
    expr: sum(up
`), 0o644)
	res := Check(bad)
	if len(res.Errors) == 0 {
		t.Fatal("no errors for a bad file")
	}
	text := ""
	for _, e := range res.Errors {
		text += e.Error() + "\n"
	}
	for _, want := range []string{"bad.yml", `group "g"`, "could not parse expression", "braces present"} {
		if !strings.Contains(text, want) {
			t.Errorf("errors do not say %q:\n%s", want, text)
		}
	}
	good := filepath.Join(dir, "good.yml")
	os.WriteFile(good, []byte(`groups:
- name: g
  rules:
  - alert: A
    expr: up == 0
    labels: {value: "{{ $value }}"}
  - alert: A
    expr: up == 0
    labels: {value: "{{ $value }}"}
`), 0o644)
	res = Check(good)
	if len(res.Errors) != 0 || res.Rules != 2 || len(res.Warnings) != 3 {
		t.Fatalf("good file: %d rules, errors %v, warnings %q", res.Rules, res.Errors, res.Warnings)
	}
}

func TestStaleNaNIsWrittenForRemovedGroups(t *testing.T) {
	dir := t.TempDir()
	w := &world{}
	w.set(map[string]float64{"node-1:9400": 91})
	h := newHarness(t, dir, w, t0)
	h.at(0)
	h.sink.take()
	os.WriteFile(filepath.Join(dir, "gpu.yml"), []byte("groups: []\n"), 0o644)
	if err := h.m.Update(context.Background(), []string{filepath.Join(dir, "*.yml")}); err != nil {
		t.Fatal(err)
	}
	stale := 0
	for _, s := range h.sink.take() {
		if math.IsNaN(s.F) && value.IsStaleNaN(s.F) {
			stale++
		}
	}
	if stale != 2 { // ALERTS and ALERTS_FOR_STATE
		t.Fatalf("%d stale markers for the removed group, want 2", stale)
	}
}
