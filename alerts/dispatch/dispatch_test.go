package dispatch

import (
	"strings"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
)

const m = time.Minute

func TestGroupWaitThenGroupInterval(t *testing.T) {
	h := newHarness(t, baseConfig)
	a := firing("GPUHot", 0, "instance", "n1")
	h.put(a)
	if next, ok := h.d.Next(); !ok || !next.Equal(t0.Add(30*time.Second)) {
		t.Fatalf("first flush at %v, want group_wait after the first alert", next)
	}
	expectNone(t, h.at(29*time.Second))
	n := expectOne(t, h.at(30*time.Second), "chat", fps(a), fps())

	msg := n.Message
	if n.GroupKey != `{}:{alertname="GPUHot"}` || msg.GroupKey != n.GroupKey || msg.Status != "firing" || msg.Receiver != "chat" ||
		msg.ExternalURL != "http://gpuwd.example:9090" || msg.GroupLabels["alertname"] != "GPUHot" || len(msg.Alerts) != 1 {
		t.Fatalf("message = %+v", msg)
	}
	if al := msg.Alerts[0]; al.Status != "firing" || !al.EndsAt.IsZero() || !al.StartsAt.Equal(t0) || al.Fingerprint != a.Fingerprint() || al.Annotations["summary"] != "GPUHot fired" {
		t.Fatalf("alert = %+v", al)
	}
	if !n.CreatedAt.Equal(t0.Add(30 * time.Second)) {
		t.Errorf("CreatedAt = %v", n.CreatedAt)
	}

	// A second alert in the group waits for the group_interval.
	b := firing("GPUHot", m, "instance", "n2")
	h.putAt(m, b, refreshedAt(a, m))
	expectNone(t, h.at(5*m))
	expectOne(t, h.at(5*m+30*time.Second), "chat", fps(a, b), fps())
	// Nothing new: nothing sent.
	h.putAt(9*m, refreshedAt(a, 9*m), refreshedAt(b, 9*m))
	expectNone(t, h.at(10*m+30*time.Second))
}

func TestGroupWaitZeroFlushesAtOnce(t *testing.T) {
	h := newHarness(t, baseConfig)
	a := firing("NodeDown", 0, "severity", "page", "instance", "n1")
	h.put(a)
	if next, _ := h.d.Next(); !next.Equal(t0) {
		t.Fatalf("next flush %v, want now", next)
	}
	n := expectOne(t, h.at(0), "pager", fps(a), fps())
	if n.GroupKey != `{}/{severity="page"}:{alertname="NodeDown", instance="n1"}` {
		t.Errorf("group key %s", n.GroupKey)
	}
}

func TestRepeatInterval(t *testing.T) {
	h := newHarness(t, baseConfig)
	a := firing("GPUHot", 0)
	h.put(a)
	expectOne(t, h.at(30*time.Second), "chat", fps(a), fps())
	for off := 5*m + 30*time.Second; off < 4*time.Hour; off += 5 * m {
		h.putAt(off-time.Second, refreshedAt(a, off-time.Second))
		expectNone(t, h.at(off))
	}
	// The first flush at or after 4h since the last notification repeats it.
	h.putAt(4*time.Hour+29*time.Second, refreshedAt(a, 4*time.Hour+29*time.Second))
	expectOne(t, h.at(4*time.Hour+30*time.Second), "chat", fps(a), fps())
}

func TestResolvedWithinGroupWaitSendsNothing(t *testing.T) {
	h := newHarness(t, baseConfig)
	a := firing("GPUHot", 0)
	h.put(a)
	h.putAt(10*time.Second, resolvedAt(a, 10*time.Second))
	expectNone(t, h.at(30*time.Second))
	if _, ok := h.d.Next(); ok {
		t.Error("the group is still there")
	}
	if al := h.d.Alerts(); len(al) != 0 {
		t.Errorf("alerts = %+v", al)
	}
}

func TestResolvedIsNotifiedThenForgotten(t *testing.T) {
	h := newHarness(t, baseConfig)
	a, b := firing("GPUHot", 0, "instance", "n1"), firing("GPUHot", 0, "instance", "n2")
	h.put(a, b)
	expectOne(t, h.at(30*time.Second), "chat", fps(a, b), fps())

	// b resolves: the next flush tells, with b resolved.
	h.putAt(2*m, refreshedAt(a, 2*m), resolvedAt(b, 2*m))
	n := expectOne(t, h.at(5*m+30*time.Second), "chat", fps(a), fps(b))
	if len(n.Message.Resolved()) != 1 || !n.Message.Resolved()[0].EndsAt.Equal(t0.Add(2*m)) {
		t.Errorf("resolved alerts = %+v", n.Message.Resolved())
	}
	// b is forgotten; the rule engine sending it again changes nothing.
	h.putAt(6*m, refreshedAt(a, 6*m), resolvedAt(b, 2*m))
	expectNone(t, h.at(10*m+30*time.Second))

	// a resolves: a resolved notification, then the group goes away.
	h.putAt(11*m, resolvedAt(a, 11*m))
	n = expectOne(t, h.at(15*m+30*time.Second), "chat", fps(), fps(a))
	if n.Message.Status != "resolved" {
		t.Errorf("status %s", n.Message.Status)
	}
	if _, ok := h.d.Next(); ok {
		t.Error("the group is still there")
	}
	h.putAt(16*m, resolvedAt(a, 11*m))
	expectNone(t, h.at(20*m+30*time.Second))
	if _, ok := h.d.Next(); ok {
		t.Error("a resolved alert sent again made a group")
	}
}

func TestResolveTimeout(t *testing.T) {
	h := newHarness(t, baseConfig) // resolve_timeout 5m
	a := Alert{Labels: map[string]string{"alertname": "GPUHot"}}
	h.put(a)
	expectOne(t, h.at(30*time.Second), "chat", fps(a), fps())
	h.now = t0.Add(4 * m)
	h.put(a) // refreshed: holds until 9m
	expectNone(t, h.at(5*m+30*time.Second))
	// Not refreshed since 4m: resolved at 9m.
	n := expectOne(t, h.at(10*m+30*time.Second), "chat", fps(), fps(a))
	if got := n.Message.Alerts[0].EndsAt; !got.Equal(t0.Add(9 * m)) {
		t.Errorf("EndsAt = %v, want resolve_timeout after the last refresh", got)
	}
}

func TestExpiredEndsAtResolves(t *testing.T) {
	h := newHarness(t, baseConfig)
	a := firing("GPUHot", 0) // holds until 10m unless refreshed
	h.put(a)
	expectOne(t, h.at(30*time.Second), "chat", fps(a), fps())
	expectNone(t, h.at(5*m+30*time.Second))
	expectOne(t, h.at(10*m+30*time.Second), "chat", fps(), fps(a))
}

func TestRefiringAfterResolution(t *testing.T) {
	h := newHarness(t, baseConfig)
	a := firing("GPUHot", 0)
	h.put(a)
	expectOne(t, h.at(30*time.Second), "chat", fps(a), fps())
	h.putAt(m, resolvedAt(a, m))
	expectOne(t, h.at(5*m+30*time.Second), "chat", fps(), fps(a))
	again := firing("GPUHot", 7*m)
	h.putAt(7*m, again)
	// A new group: group_wait again, and a first notification.
	expectNone(t, h.at(7*m+29*time.Second))
	expectOne(t, h.at(7*m+30*time.Second), "chat", fps(a), fps())
}

func TestContinueNotifiesEachReceiver(t *testing.T) {
	h := newHarness(t, `
route:
  receiver: chat
  group_wait: 0s
  routes:
  - {matchers: [team=gpu], receiver: chat, continue: true}
  - {matchers: [team=gpu], receiver: pager}
receivers: [{name: chat}, {name: pager}]
`)
	a := firing("GPUHot", 0, "team", "gpu")
	h.put(a)
	ns := h.at(0)
	if len(ns) != 2 || ns[0].Receiver != "chat" || ns[1].Receiver != "pager" ||
		ns[0].GroupKey != `{}/{team="gpu"}:{}` || ns[1].GroupKey != `{}/{team="gpu"}:{}` {
		t.Fatalf("notifications = %+v", ns)
	}
	if st := h.d.Alerts(); len(st) != 1 || strings.Join(st[0].Receivers, ",") != "chat,pager" {
		t.Errorf("alerts = %+v", st)
	}
}

func TestGroupByAll(t *testing.T) {
	h := newHarness(t, "route: {receiver: r, group_by: ['...'], group_wait: 0s}\nreceivers: [{name: r}]")
	a, b := firing("A", 0, "x", "1"), firing("A", 0, "x", "2")
	h.put(a, b)
	ns := h.at(0)
	if len(ns) != 2 || ns[0].GroupKey != `{}:{alertname="A", x="1"}` || ns[1].GroupKey != `{}:{alertname="A", x="2"}` {
		t.Fatalf("notifications = %+v", ns)
	}
}

func TestInvalidAlerts(t *testing.T) {
	h := newHarness(t, baseConfig)
	err := h.d.Put(
		Alert{Labels: map[string]string{"alertname": "Ok", "empty": ""}},
		Alert{Labels: map[string]string{"": "x"}},
		Alert{Labels: map[string]string{}},
		Alert{Labels: map[string]string{"a": "b"}, StartsAt: t0, EndsAt: t0.Add(-time.Second)},
	)
	if err == nil || !strings.Contains(err.Error(), "invalid label name") || !strings.Contains(err.Error(), "at least one label pair required") ||
		!strings.Contains(err.Error(), "start time must be before end time") {
		t.Errorf("err = %v", err)
	}
	st := h.d.Alerts()
	if len(st) != 1 || len(st[0].Labels) != 1 || st[0].Labels["alertname"] != "Ok" {
		t.Errorf("alerts = %+v", st)
	}
}

func TestEnqueueFailureIsRetried(t *testing.T) {
	h := newHarness(t, baseConfig)
	a := firing("GPUHot", 0)
	h.put(a)
	h.log.fail(errBoom)
	expectNone(t, h.at(30*time.Second))
	h.putAt(m, resolvedAt(a, m))
	expectNone(t, h.at(5*m+30*time.Second))
	h.log.fail(nil)
	// Nothing was ever notified and the alert has resolved: nothing to say.
	expectNone(t, h.at(10*m+30*time.Second))
	if _, ok := h.d.Next(); ok {
		t.Error("group kept after a successful flush")
	}

	b := firing("GPUHot", 11*m)
	h.putAt(11*m, b)
	h.log.fail(errBoom)
	expectNone(t, h.at(11*m+30*time.Second))
	h.log.fail(nil)
	expectOne(t, h.at(16*m+30*time.Second), "chat", fps(b), fps())
}

func TestMessageOrderAndStatus(t *testing.T) {
	h := newHarness(t, baseConfig)
	a, b := firing("GPUHot", 0, "instance", "n1"), firing("GPUHot", 0, "instance", "n2")
	h.put(a, b)
	h.at(30 * time.Second)
	h.putAt(m, resolvedAt(a, m), refreshedAt(b, m))
	n := expectOne(t, h.at(5*m+30*time.Second), "chat", fps(b), fps(a))
	if n.Message.Status != notify.StatusFiring || n.Message.Alerts[0].Status != notify.StatusFiring || n.Message.Alerts[1].Status != notify.StatusResolved {
		t.Errorf("message = %+v", n.Message)
	}
}
