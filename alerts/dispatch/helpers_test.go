package dispatch

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/matcher"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/route"
)

// fakeLog is the outbox in memory. Its notifications survive the
// dispatchers that use it, as the outbox's survive restarts.
type fakeLog struct {
	mu      sync.Mutex
	all     []Notification
	read    int   // notifications taken by newSince
	failErr error // Enqueue and Last fail with it when set
	added   chan struct{}
}

func (l *fakeLog) Enqueue(_ context.Context, n Notification) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failErr != nil {
		return 0, l.failErr
	}
	l.all = append(l.all, n)
	if l.added != nil {
		l.added <- struct{}{}
	}
	return int64(len(l.all)), nil
}

func (l *fakeLog) Last(_ context.Context, receiver, groupKey string) (Notification, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failErr != nil {
		return Notification{}, false, l.failErr
	}
	for i := len(l.all) - 1; i >= 0; i-- {
		if n := l.all[i]; n.Receiver == receiver && n.GroupKey == groupKey {
			return n, true, nil
		}
	}
	return Notification{}, false, nil
}

func (l *fakeLog) newSince() []Notification {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := slices.Clone(l.all[l.read:])
	l.read = len(l.all)
	return out
}

func (l *fakeLog) fail(err error) {
	l.mu.Lock()
	l.failErr = err
	l.mu.Unlock()
}

// fakeSilences mutes with fixed matchers, by ID.
type fakeSilences struct {
	mu  sync.Mutex
	ids map[string]matcher.Matchers
}

func (s *fakeSilences) Mutes(labels map[string]string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for id, ms := range s.ids {
		if ms.Matches(labels) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func (s *fakeSilences) set(id, ms string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ids == nil {
		s.ids = map[string]matcher.Matchers{}
	}
	if ms == "" {
		delete(s.ids, id)
		return
	}
	m, err := matcher.Parse(ms)
	if err != nil {
		panic(err)
	}
	s.ids[id] = m
}

const baseConfig = `
route:
  receiver: chat
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
  - matchers: [severity="page"]
    receiver: pager
    group_wait: 0s
    group_by: [alertname, instance]
receivers: [{name: chat}, {name: pager}]
inhibit_rules:
- source_matchers: [alertname="NodeDown"]
  target_matchers: [severity=~"warning|critical"]
  equal: [instance]
- source_matchers: [severity="critical"]
  target_matchers: [severity="critical"]
  equal: [cluster]
`

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// harness drives a dispatcher on a fake clock.
type harness struct {
	t   *testing.T
	now time.Time
	log *fakeLog
	sil *fakeSilences
	d   *Dispatcher
}

func newHarness(t *testing.T, cfg string) *harness {
	t.Helper()
	h := &harness{t: t, now: t0, log: &fakeLog{}, sil: &fakeSilences{}}
	h.d = h.start(cfg, Options{})
	return h
}

// start builds a dispatcher on the harness' clock, log and silences.
func (h *harness) start(cfg string, o Options) *Dispatcher {
	h.t.Helper()
	c, err := route.Parse([]byte(cfg))
	if err != nil {
		h.t.Fatal(err)
	}
	o.Log, o.Silences, o.ExternalURL = h.log, h.sil, "http://gpuwd.example:9090"
	o.Now = func() time.Time { return h.now }
	d, err := New(c, o)
	if err != nil {
		h.t.Fatal(err)
	}
	return d
}

func (h *harness) put(alerts ...Alert) {
	h.t.Helper()
	if err := h.d.Put(alerts...); err != nil {
		h.t.Fatal(err)
	}
}

// putAt moves the clock to t0+offset and puts the alerts there.
func (h *harness) putAt(offset time.Duration, alerts ...Alert) {
	h.t.Helper()
	h.now = t0.Add(offset)
	h.put(alerts...)
}

// at moves the clock to t0+offset and ticks there.
func (h *harness) at(offset time.Duration) []Notification {
	h.t.Helper()
	h.now = t0.Add(offset)
	h.d.Tick(context.Background(), h.now)
	return h.log.newSince()
}

// firing is an alert that started at t0+start and holds for 10 minutes, as
// the rule engine sends it.
func firing(name string, start time.Duration, labels ...string) Alert {
	ls := map[string]string{"alertname": name}
	for i := 0; i+1 < len(labels); i += 2 {
		ls[labels[i]] = labels[i+1]
	}
	return Alert{Labels: ls, Annotations: map[string]string{"summary": name + " fired"}, StartsAt: t0.Add(start), EndsAt: t0.Add(start + 10*time.Minute)}
}

// resolvedAt is a copy of a resolved at t0+end.
func resolvedAt(a Alert, end time.Duration) Alert {
	a.EndsAt = t0.Add(end)
	return a
}

// refreshedAt is a copy of a sent again at t0+at, valid 10 more minutes.
func refreshedAt(a Alert, at time.Duration) Alert {
	a.EndsAt = t0.Add(at + 10*time.Minute)
	return a
}

func fps(alerts ...Alert) []string {
	var out []string
	for _, a := range alerts {
		out = append(out, a.Fingerprint())
	}
	slices.Sort(out)
	if out == nil {
		out = []string{}
	}
	return out
}

// expectOne checks that exactly one notification was sent, with these
// fingerprints.
func expectOne(t *testing.T, ns []Notification, receiver string, fire, res []string) Notification {
	t.Helper()
	if len(ns) != 1 {
		t.Fatalf("got %d notifications, want 1: %+v", len(ns), ns)
	}
	n := ns[0]
	if n.Receiver != receiver || !slices.Equal(n.Firing, fire) || !slices.Equal(n.Resolved, res) {
		t.Fatalf("notification to %s firing %v resolved %v; want to %s firing %v resolved %v", n.Receiver, n.Firing, n.Resolved, receiver, fire, res)
	}
	return n
}

func expectNone(t *testing.T, ns []Notification) {
	t.Helper()
	if len(ns) != 0 {
		t.Fatalf("got %d notifications, want none: %+v", len(ns), ns)
	}
}

var errBoom = errors.New("disk on fire")
