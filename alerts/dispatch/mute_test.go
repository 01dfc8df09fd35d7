package dispatch

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestSilencedAlertsAreLeftOut(t *testing.T) {
	h := newHarness(t, baseConfig)
	a, b := firing("GPUHot", 0, "instance", "n1"), firing("GPUHot", 0, "instance", "n2")
	h.sil.set("s1", `instance="n2"`)
	h.put(a, b)
	n := expectOne(t, h.at(30*time.Second), "chat", fps(a), fps())
	if len(n.Message.Alerts) != 1 || n.Message.Alerts[0].Labels["instance"] != "n1" {
		t.Fatalf("message alerts = %+v", n.Message.Alerts)
	}
	st := h.d.Alerts()
	if len(st) != 2 || st[0].State != StateActive && st[1].State != StateActive {
		t.Fatalf("alerts = %+v", st)
	}
	for _, s := range st {
		want, ids := StateActive, []string{}
		if s.Labels["instance"] == "n2" {
			want, ids = StateSuppressed, []string{"s1"}
		}
		if s.State != want || !slices.Equal(s.SilencedBy, ids) || len(s.InhibitedBy) != 0 {
			t.Errorf("%v: state %s silenced by %v", s.Labels, s.State, s.SilencedBy)
		}
	}

	// The silence ends: b is news.
	h.sil.set("s1", "")
	expectOne(t, h.at(5*m+30*time.Second), "chat", fps(a, b), fps())

	// Everything silenced: nothing is sent, not even the repeat.
	h.sil.set("s2", `alertname="GPUHot"`)
	h.putAt(4*time.Hour, refreshedAt(a, 4*time.Hour), refreshedAt(b, 4*time.Hour))
	expectNone(t, h.at(4*time.Hour+10*m+30*time.Second))
}

func TestInhibition(t *testing.T) {
	h := newHarness(t, baseConfig)
	// Rule 1: NodeDown inhibits warning and critical alerts of the same
	// instance.
	down := firing("NodeDown", 0, "instance", "n1", "severity", "page")
	hot1 := firing("GPUHot", 0, "instance", "n1", "severity", "warning")
	hot2 := firing("GPUHot", 0, "instance", "n2", "severity", "warning")
	noInst := firing("GPUHot", 0, "severity", "critical", "cluster", "x")
	h.put(down, hot1, hot2, noInst)
	ns := h.at(30 * time.Second)
	var got []string
	for _, n := range ns {
		got = append(got, n.Receiver+strings.Join(n.Firing, ","))
	}
	want := []string{"pager" + down.Fingerprint(), "chat" + strings.Join(fps(hot2, noInst), ",")}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("notified %v, want %v", got, want)
	}
	for _, s := range h.d.Alerts() {
		inhibited := s.Labels["instance"] == "n1" && s.Labels["alertname"] == "GPUHot"
		if inhibited != (s.State == StateSuppressed) || inhibited != slices.Equal(s.InhibitedBy, []string{down.Fingerprint()}) {
			t.Errorf("%v: state %s inhibited by %v", s.Labels, s.State, s.InhibitedBy)
		}
	}

	// The source resolves: the target is notified.
	h.putAt(m, resolvedAt(down, m))
	h.at(m) // the pager route flushes every 5m; nothing due yet
	ns = h.at(5*m + 30*time.Second)
	found := false
	for _, n := range ns {
		if n.Receiver == "chat" && slices.Contains(n.Firing, hot1.Fingerprint()) {
			found = true
		}
	}
	if !found {
		t.Fatalf("hot1 not notified after NodeDown resolved: %+v", ns)
	}
}

func TestInhibitionMissingLabelEqualsEmpty(t *testing.T) {
	h := newHarness(t, baseConfig)
	// Neither has an instance label: equal on instance holds.
	down := firing("NodeDown", 0)
	hot := firing("GPUHot", 0, "severity", "warning")
	h.put(down, hot)
	for _, s := range h.d.Alerts() {
		if s.Labels["alertname"] == "GPUHot" && s.State != StateSuppressed {
			t.Errorf("GPUHot without instance not inhibited by NodeDown without instance")
		}
	}
}

func TestInhibitionTwoSided(t *testing.T) {
	h := newHarness(t, baseConfig)
	// Rule 2 has severity="critical" on both sides: critical alerts of a
	// cluster do not inhibit one another, nor themselves.
	a := firing("A", 0, "severity", "critical", "cluster", "c1")
	b := firing("B", 0, "severity", "critical", "cluster", "c1")
	h.put(a, b)
	for _, s := range h.d.Alerts() {
		if s.State != StateActive {
			t.Errorf("%v inhibited by %v", s.Labels, s.InhibitedBy)
		}
	}
}

func TestMetrics(t *testing.T) {
	h := &harness{t: t, now: t0, log: &fakeLog{}, sil: &fakeSilences{}}
	reg := prometheus.NewPedanticRegistry()
	h.d = h.start(baseConfig, Options{Registerer: reg})
	h.sil.set("s", `instance="n2"`)
	h.put(firing("GPUHot", 0, "instance", "n1"), firing("GPUHot", 0, "instance", "n2"), firing("NodeDown", 0, "severity", "page", "instance", "n1"))
	h.at(30 * time.Second)
	want := `
# HELP gpuwd_alert_groups Aggregation groups.
# TYPE gpuwd_alert_groups gauge
gpuwd_alert_groups 2
# HELP gpuwd_alerts Alerts the dispatcher holds that have not resolved, by state: active (notified) or suppressed (silenced or inhibited).
# TYPE gpuwd_alerts gauge
gpuwd_alerts{state="active"} 2
gpuwd_alerts{state="suppressed"} 1
# HELP gpuwd_notifications_requested_total Notifications the dispatcher enqueued, by receiver.
# TYPE gpuwd_notifications_requested_total counter
gpuwd_notifications_requested_total{receiver="chat"} 1
gpuwd_notifications_requested_total{receiver="pager"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "gpuwd_alert_groups", "gpuwd_alerts", "gpuwd_notifications_requested_total"); err != nil {
		t.Error(err)
	}
}
