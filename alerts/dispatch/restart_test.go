package dispatch

import (
	"context"
	"testing"
	"time"
)

// The dispatcher keeps groups in memory; the log keeps what was notified.
// After a restart the rule engine sends the active alerts again: an
// unchanged group must not be notified again before repeat_interval.
func TestRestartDoesNotRenotify(t *testing.T) {
	h := newHarness(t, baseConfig)
	a, b := firing("GPUHot", 0, "instance", "n1"), firing("GPUHot", 0, "instance", "n2")
	h.put(a, b)
	expectOne(t, h.at(30*time.Second), "chat", fps(a, b), fps())

	// Restart at 2m: a new dispatcher, the same log.
	h.now = t0.Add(2 * m)
	h.d = h.start(baseConfig, Options{})
	h.put(refreshedAt(a, 2*m), refreshedAt(b, 2*m))
	// The alerts are older than group_wait: the group flushes at once...
	if next, ok := h.d.Next(); !ok || !next.Equal(h.now) {
		t.Fatalf("next flush %v, want now", next)
	}
	// ...and finds nothing new.
	expectNone(t, h.at(2*m))
	for off := 7 * m; off < 4*time.Hour; off += 5 * m {
		h.putAt(off-time.Second, refreshedAt(a, off), refreshedAt(b, off))
		expectNone(t, h.at(off))
	}
	// repeat_interval since the notification before the restart.
	h.putAt(4*time.Hour+time.Minute, refreshedAt(a, 4*time.Hour+m), refreshedAt(b, 4*time.Hour+m))
	expectOne(t, h.at(4*time.Hour+2*m), "chat", fps(a, b), fps())
}

func TestRestartNotifiesWhatChanged(t *testing.T) {
	h := newHarness(t, baseConfig)
	a, b := firing("GPUHot", 0, "instance", "n1"), firing("GPUHot", 0, "instance", "n2")
	h.put(a, b)
	expectOne(t, h.at(30*time.Second), "chat", fps(a, b), fps())

	// b resolved while gpuwd was down; a third alert started.
	h.now = t0.Add(20 * m)
	h.d = h.start(baseConfig, Options{})
	c := firing("GPUHot", 19*m, "instance", "n3")
	h.put(refreshedAt(a, 20*m), resolvedAt(b, 15*m), c)
	// a is older than group_wait, so the new group flushes at once, with
	// what changed since the notification before the restart.
	expectOne(t, h.at(20*m), "chat", fps(a, c), fps(b))
	expectNone(t, h.at(25*m))
}

func TestHold(t *testing.T) {
	h := &harness{t: t, now: t0, log: &fakeLog{}, sil: &fakeSilences{}}
	h.d = h.start(baseConfig, Options{Hold: 2 * m})
	// After a restart, the target arrives before its inhibiting source.
	hot := firing("GPUHot", -time.Hour, "instance", "n1", "severity", "warning")
	h.put(hot)
	if next, _ := h.d.Next(); !next.Equal(t0.Add(2 * m)) {
		t.Fatalf("next flush %v, want the end of the hold", next)
	}
	expectNone(t, h.at(m))
	h.putAt(90*time.Second, firing("NodeDown", -time.Hour, "instance", "n1"))
	for _, n := range h.at(2 * m) {
		if n.Firing[0] == hot.Fingerprint() {
			t.Fatalf("inhibited alert notified: %+v", n)
		}
	}
}

func TestApplyConfigReroutes(t *testing.T) {
	h := newHarness(t, baseConfig)
	a := firing("GPUHot", 0, "instance", "n1", "team", "gpu")
	b := firing("Other", 0)
	h.put(a, b)
	if ns := h.at(30 * time.Second); len(ns) != 2 {
		t.Fatalf("notifications = %+v", ns)
	}

	// The new configuration sends team=gpu to its own receiver; the rest
	// of the tree is the same.
	cfg := baseConfig[:len(baseConfig)-len("receivers: [{name: chat}, {name: pager}]\ninhibit_rules:\n- source_matchers: [alertname=\"NodeDown\"]\n  target_matchers: [severity=~\"warning|critical\"]\n  equal: [instance]\n- source_matchers: [severity=\"critical\"]\n  target_matchers: [severity=\"critical\"]\n  equal: [cluster]\n")]
	cfg += "  - matchers: [team=gpu]\n    receiver: gpu\nreceivers: [{name: chat}, {name: pager}, {name: gpu}]\n"
	h.now = t0.Add(2 * m)
	c := h.start(cfg, Options{}).Config()
	h.d.ApplyConfig(c)
	// Both groups restart; the alerts are old, so they flush at once. Only
	// the new receiver is told; chat already knows about Other.
	n := expectOne(t, h.at(2*m), "gpu", fps(a), fps())
	if n.GroupKey != `{}/{team="gpu"}:{alertname="GPUHot"}` {
		t.Errorf("group key %s", n.GroupKey)
	}
	if st := h.d.Alerts(); len(st) != 2 || st[0].Receivers[0] == st[1].Receivers[0] {
		t.Errorf("alerts = %+v", st)
	}
}

func TestGroups(t *testing.T) {
	h := newHarness(t, baseConfig)
	h.put(firing("B", 0), firing("A", 0, "x", "1"), firing("A", 0, "x", "2"), firing("A", 0, "severity", "page", "instance", "i"))
	gs := h.d.Groups()
	if len(gs) != 3 {
		t.Fatalf("groups = %+v", gs)
	}
	if gs[0].Labels["alertname"] != "A" || gs[0].Receiver != "chat" || len(gs[0].Alerts) != 2 ||
		gs[1].Receiver != "pager" || gs[1].Labels["instance"] != "i" || gs[2].Labels["alertname"] != "B" {
		t.Errorf("groups = %+v", gs)
	}
}

// Run drives the timers on the wall clock. With group_wait 0s the first
// flush is immediate, so the test waits for no timer.
func TestRun(t *testing.T) {
	h := &harness{t: t, log: &fakeLog{added: make(chan struct{}, 1)}, sil: &fakeSilences{}}
	d := h.start("route: {receiver: r, group_wait: 0s}\nreceivers: [{name: r}]", Options{})
	d.now = time.Now
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	if err := d.Put(Alert{Labels: map[string]string{"alertname": "X"}}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-h.log.added:
	case <-time.After(time.Minute):
		t.Fatal("Run did not flush")
	}
	cancel()
	<-done
}
