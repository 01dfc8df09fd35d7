package outbox

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
)

func TestEnqueueBeforeSetReceiversFails(t *testing.T) {
	o := newOutbox(t, openDB(t, t.TempDir()), fastOptions(t))
	if _, err := o.Enqueue(context.Background(), firing("team", "g", 0)); err == nil || !strings.Contains(err.Error(), "SetReceivers") {
		t.Fatalf("Enqueue before SetReceivers: %v", err)
	}
	o.SetReceivers(nil)
	for _, n := range []Notification{{GroupKey: "g", Message: &notify.Message{}}, {Receiver: "r", Message: &notify.Message{}}, {Receiver: "r", GroupKey: "g"}} {
		if _, err := o.Enqueue(context.Background(), n); err == nil {
			t.Errorf("Enqueue(%+v) succeeded", n)
		}
	}
}

// Last answers from alerts.db, after a restart too; a receiver without
// integrations (or unknown) keeps its notifications for Last, sending none.
func TestLastSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir)
	o := newOutbox(t, db, fastOptions(t))
	o.SetReceivers(map[string][]notify.Integration{"blackhole": nil})
	if _, found, err := o.Last(context.Background(), "blackhole", "g"); err != nil || found {
		t.Fatalf("Last of nothing = %v, %v", found, err)
	}
	enqueue(t, o, firing("blackhole", "g", 0))
	want := notification("blackhole", "g", 1, []string{"Hot"}, []string{"Cold"})
	want.ID = enqueue(t, o, want)
	enqueue(t, o, firing("blackhole", "other", 2))
	enqueue(t, o, firing("unknown", "g", 3))
	db.Close()

	o = newOutbox(t, openDB(t, dir), fastOptions(t))
	got, found, err := o.Last(context.Background(), "blackhole", "g")
	if err != nil || !found {
		t.Fatalf("Last = %v, %v", found, err)
	}
	if got.ID != want.ID || !slices.Equal(got.Firing, want.Firing) || !slices.Equal(got.Resolved, want.Resolved) ||
		got.CreatedAt.IsZero() || !reflect.DeepEqual(msgJSON(t, got.Message), msgJSON(t, want.Message)) {
		t.Errorf("Last =\n%+v\nwant\n%+v", got, want)
	}
	if e, _ := o.Log(context.Background(), Filter{Receiver: "unknown"}); len(e) != 1 || len(e[0].Deliveries) != 0 {
		t.Errorf("unknown receiver's log: %+v", e)
	}
}

// Removing an integration or a receiver drops its pending deliveries,
// visibly; an integration or receiver added later gets no old notification.
func TestRemovedIntegrationsDropPending(t *testing.T) {
	up, down, later := newChat(t, ok), newChat(t, fail(http.StatusBadGateway, "down")), newChat(t, ok)
	upInt := integration("slack/0", newWebhook(up.srv.URL, nil), true, "h")
	downInt := integration("slack/1", newWebhook(down.srv.URL, nil), true, "h")
	laterInt := integration("webhook/0", newWebhook(later.srv.URL, nil), true, "h")
	o := newOutbox(t, openDB(t, t.TempDir()), fastOptions(t))
	o.SetReceivers(map[string][]notify.Integration{"team": {upInt, downInt}, "ops": {downInt}})
	start(t, o)
	for i := range 3 {
		enqueue(t, o, firing("team", "g", i))
	}
	enqueue(t, o, firing("ops", "o", 0))
	eventually(t, "up delivered all", func() bool { return len(up.Accepted()) == 3 })

	// slack/1 leaves team, ops goes, new receiver "new" and team's webhook/0 arrive.
	o.SetReceivers(map[string][]notify.Integration{"team": {upInt, laterInt}, "new": {laterInt}})
	eventually(t, "all finished", func() bool { return allFinished(t, o) })
	entries, err := o.Log(context.Background(), Filter{Status: StatusDropped})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 4 {
		t.Fatalf("%d entries with dropped deliveries, want 4", len(entries))
	}
	for _, e := range entries {
		for _, d := range e.Deliveries {
			switch {
			case d.Integration == "slack/0" && d.Status == StatusDelivered:
			case e.Receiver == "team" && d.Status == StatusDropped && strings.Contains(d.LastError, "slack/1 is no longer configured for receiver team"):
			case e.Receiver == "ops" && d.Status == StatusDropped && d.LastError == "receiver ops is no longer configured":
			default:
				t.Errorf("notification %s of %s: %+v", msgID(e.Message), e.Receiver, d)
			}
		}
	}
	enqueue(t, o, firing("team", "g", 3))
	eventually(t, "new one delivered", func() bool { return allFinished(t, o) })
	if got := later.Accepted(); !slices.Equal(got, ids("g", 3)) {
		t.Errorf("integration added later got %v, want only the new notification", got)
	}
}

func TestSetReceiversLeavesOutBadIntegrations(t *testing.T) {
	c := newChat(t, ok)
	wh := newWebhook(c.srv.URL, nil)
	o := newOutbox(t, openDB(t, t.TempDir()), fastOptions(t))
	o.SetReceivers(team(integration("slack/0", wh, true, "a"), integration("slack/0", wh, true, "b"), integration("", wh, true, "c"),
		notify.Integration{Name: "slack/1"}))
	hs, err := o.Integrations(context.Background())
	if err != nil || len(hs) != 1 || hs[0].Name != "slack/0" {
		t.Fatalf("integrations = %+v, %v", hs, err)
	}
	start(t, o)
	enqueue(t, o, firing("team", "g", 0))
	eventually(t, "delivered", func() bool { return allFinished(t, o) })
	if got := c.Accepted(); len(got) != 1 {
		t.Errorf("accepted %v", got)
	}
}

func TestRunTwiceFails(t *testing.T) {
	o := newOutbox(t, openDB(t, t.TempDir()), fastOptions(t))
	start(t, o)
	eventually(t, "running", o.running.Load)
	if err := o.Run(context.Background()); err == nil {
		t.Fatal("second Run succeeded")
	}
}

func msgJSON(t testing.TB, m *notify.Message) map[string]any {
	t.Helper()
	var out map[string]any
	b, _ := json.Marshal(m)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
