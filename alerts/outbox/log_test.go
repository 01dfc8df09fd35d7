package outbox

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// logged is the ids Log returns for f, newest first.
func logged(t testing.TB, o *Outbox, f Filter) []string {
	t.Helper()
	entries, err := o.Log(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, msgID(e.Message))
	}
	return out
}

func TestLogFilters(t *testing.T) {
	c := newChat(t, func(_ int, id string) (int, http.Header, string) {
		if id == "b#2" {
			return http.StatusForbidden, nil, "action_prohibited"
		}
		return 200, nil, "ok"
	})
	opts := fastOptions(t)
	opts.Now = func() time.Time { return t0.Add(time.Hour) }
	o := newOutbox(t, openDB(t, t.TempDir()), opts)
	o.SetReceivers(map[string][]notify.Integration{
		"team": {integration("slack/0", newWebhook(c.srv.URL, nil), true, "h")},
		"ops":  {integration("slack/0", newWebhook(c.srv.URL, nil), true, "h")},
	})
	for i, g := range []string{"a", "a", "b", "b", "c"} {
		n := firing("team", g, i)
		n.CreatedAt = t0.Add(time.Duration(i) * time.Minute)
		enqueue(t, o, n)
	}
	enqueue(t, o, firing("ops", "a", 5))
	start(t, o)
	eventually(t, "all finished", func() bool { return allFinished(t, o) })

	for _, tc := range []struct {
		f    Filter
		want []string
	}{
		{Filter{}, []string{"a#5", "c#4", "b#3", "b#2", "a#1", "a#0"}},
		{Filter{Receiver: "team"}, []string{"c#4", "b#3", "b#2", "a#1", "a#0"}},
		{Filter{Receiver: "team", GroupKey: "a"}, []string{"a#1", "a#0"}},
		{Filter{GroupKey: "a"}, []string{"a#5", "a#1", "a#0"}},
		{Filter{Status: StatusFailed}, []string{"b#2"}},
		{Filter{Receiver: "team", Status: StatusDelivered}, []string{"c#4", "b#3", "a#1", "a#0"}},
		{Filter{Receiver: "team", Since: t0.Add(3 * time.Minute)}, []string{"c#4", "b#3"}},
		{Filter{Limit: 2}, []string{"a#5", "c#4"}},
		{Filter{Status: StatusPending}, nil},
	} {
		if got := logged(t, o, tc.f); !slices.Equal(got, tc.want) {
			t.Errorf("Log(%+v) = %v, want %v", tc.f, got, tc.want)
		}
	}
	if _, err := o.Log(context.Background(), Filter{Status: "sent"}); err == nil {
		t.Error("Log accepted an unknown status")
	}
}

// Prune deletes old finished notifications but keeps the newest of each
// group (for Last) and anything still pending; Run prunes by Retention.
func TestPrune(t *testing.T) {
	c := newChat(t, ok)
	gone := newChat(t, fail(http.StatusNotFound, "Unknown Webhook")) // disables: its deliveries stay pending
	opts := fastOptions(t)
	opts.Now = func() time.Time { return t0.Add(3 * time.Hour) }
	opts.Retention = -1
	o := newOutbox(t, openDB(t, t.TempDir()), opts)
	o.SetReceivers(map[string][]notify.Integration{
		"team": {integration("slack/0", newWebhook(c.srv.URL, nil), true, "h")},
		"held": {integration("discord/0", newWebhook(gone.srv.URL, nil), true, "h")},
	})
	at := func(n Notification, h time.Duration) Notification { n.CreatedAt = t0.Add(h * time.Hour); return n }
	enqueue(t, o, at(firing("team", "a", 0), 0))
	enqueue(t, o, at(firing("team", "a", 1), 1))
	enqueue(t, o, at(firing("team", "b", 2), 1))
	enqueue(t, o, at(firing("team", "a", 3), 2))
	enqueue(t, o, at(firing("held", "h", 4), 0))
	enqueue(t, o, at(firing("held", "h", 5), 1))
	stop := start(t, o)
	eventually(t, "team delivered, held held", func() bool {
		st := statuses(t, o, Filter{})
		return len(c.Accepted()) == 4 && st["h#4 discord/0"] == StatusDisabledHeld && st["h#5 discord/0"] == StatusDisabledHeld
	})
	stop()

	if n, err := o.Prune(context.Background(), t0); err != nil || n != 0 {
		t.Fatalf("Prune(t0) = %d, %v; want nothing older", n, err)
	}
	n, err := o.Prune(context.Background(), t0.Add(3*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("Prune = %d, %v; want 2 (a#0, a#1)", n, err)
	}
	if got, want := logged(t, o, Filter{}), []string{"h#5", "h#4", "a#3", "b#2"}; !slices.Equal(got, want) {
		t.Errorf("after Prune: %v, want %v", got, want)
	}
	if last, found, err := o.Last(context.Background(), "team", "a"); err != nil || !found || msgID(last.Message) != "a#3" {
		t.Errorf("Last(a) = %v %v %v", last.ID, found, err)
	}

	// Run prunes on its own, by Retention from now.
	opts.Retention, opts.PruneInterval = time.Hour, 10*time.Millisecond
	o2 := newOutbox(t, o.db, opts)
	o2.SetReceivers(map[string][]notify.Integration{"team": {integration("slack/0", newWebhook(c.srv.URL, nil), true, "h")}})
	enqueue(t, o2, at(firing("team", "b", 6), 3)) // b#2 is no longer the newest of b
	start(t, o2)
	eventually(t, "b#2 pruned", func() bool { return !slices.Contains(logged(t, o2, Filter{}), "b#2") })
}

func TestIntegrationsAndMetrics(t *testing.T) {
	c := newChat(t, func(_ int, id string) (int, http.Header, string) {
		if id == "g#1" {
			return http.StatusBadRequest, nil, "invalid_payload"
		}
		return 200, nil, "ok"
	})
	gone := newChat(t, fail(http.StatusNotFound, "Unknown Webhook"))
	reg := prometheus.NewRegistry()
	opts := fastOptions(t)
	opts.Registerer = reg
	o := newOutbox(t, openDB(t, t.TempDir()), opts)
	o.SetReceivers(team(
		integration("slack/0", newWebhook(c.srv.URL, nil), false, "h"),
		integration("discord/1", newWebhook(gone.srv.URL, nil), true, "h"),
	))
	start(t, o)
	enqueue(t, o, firing("team", "g", 0))
	enqueue(t, o, firing("team", "g", 1))
	enqueue(t, o, notification("team", "g", 2, nil, []string{"Hot"}))
	eventually(t, "slack done, discord disabled", func() bool {
		st := statuses(t, o, Filter{})
		return st["g#2 slack/0"] == StatusSkipped && st["g#0 discord/1"] == StatusDisabledHeld
	})

	hs, err := o.Integrations(context.Background())
	if err != nil || len(hs) != 2 {
		t.Fatalf("Integrations = %+v, %v", hs, err)
	}
	d, s := hs[0], hs[1] // by name: discord/1, slack/0
	if !d.Disabled || d.Pending != 3 || d.OldestPending.IsZero() || !strings.Contains(d.DisabledReason, "404") {
		t.Errorf("discord health = %+v", d)
	}
	if s.Disabled || s.Pending != 0 || s.SendResolved || s.LastSuccess.IsZero() || s.LastError != "400 Bad Request: invalid_payload" {
		t.Errorf("slack health = %+v", s)
	}

	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"gpuwd_notifications_enqueued_total", map[string]string{"receiver": "team"}, 3},
		{"gpuwd_notification_deliveries_total", map[string]string{"integration": "slack/0", "result": "delivered"}, 1},
		{"gpuwd_notification_deliveries_total", map[string]string{"integration": "slack/0", "result": "failed"}, 1},
		{"gpuwd_notification_deliveries_total", map[string]string{"integration": "slack/0", "result": "skipped"}, 1},
		{"gpuwd_notification_deliveries_total", map[string]string{"integration": "discord/1", "result": "retried"}, 1},
		{"gpuwd_notification_queue_length", map[string]string{"integration": "discord/1"}, 3},
		{"gpuwd_notification_queue_length", map[string]string{"integration": "slack/0"}, 0},
		{"gpuwd_notification_integration_disabled", map[string]string{"integration": "discord/1"}, 1},
		{"gpuwd_notification_integration_disabled", map[string]string{"integration": "slack/0"}, 0},
		{"gpuwd_notification_delivery_duration_seconds", map[string]string{"integration": "slack/0"}, 2}, // sample count
	} {
		if got, found := metricValue(mfs, tc.name, tc.labels); !found || got != tc.want {
			t.Errorf("%s%v = %v (found %v), want %v", tc.name, tc.labels, got, found, tc.want)
		}
	}
	if age, found := metricValue(mfs, "gpuwd_notification_oldest_pending_age_seconds", map[string]string{"integration": "discord/1"}); !found || age < 0 {
		t.Errorf("oldest pending age = %v (found %v)", age, found)
	}
	if _, err := New(context.Background(), o.db, opts); err == nil {
		t.Error("a second outbox registered the same metrics")
	}
}

// metricValue finds a gauge's or counter's value, or a histogram's count.
func metricValue(mfs []*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue(), true
			case m.Gauge != nil:
				return m.Gauge.GetValue(), true
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount()), true
			}
		}
	}
	return 0, false
}
