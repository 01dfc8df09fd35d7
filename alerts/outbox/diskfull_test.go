package outbox

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
)

// When alerts.db cannot grow (SQLite's max_page_count gives the same
// SQLITE_FULL as a full disk), Enqueue says so and stores nothing; what was
// queued before is kept and delivered, and enqueueing works again once
// there is room.
func TestEnqueueDiskFull(t *testing.T) {
	c := newChat(t, ok)
	db := openDB(t, t.TempDir())
	o := newOutbox(t, db, fastOptions(t))
	o.SetReceivers(team(integration("slack/0", newWebhook(c.srv.URL, nil), true, "h")))
	for i := range 3 {
		enqueue(t, o, firing("team", "g", i))
	}
	var pages int
	if err := db.QueryRow("PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(fmt.Sprintf("PRAGMA max_page_count = %d", pages)); err != nil {
		t.Fatal(err)
	}
	big := firing("team", "g", 3)
	big.Message.CommonAnnotations["description"] = strings.Repeat("x", 64<<10)
	_, err := o.Enqueue(context.Background(), big)
	if !errors.Is(err, ErrDiskFull) || !strings.Contains(err.Error(), "alerts.db's disk is full") {
		t.Fatalf("Enqueue on a full disk: %v", err)
	}
	if _, err := db.Exec("PRAGMA max_page_count = 1073741823"); err != nil {
		t.Fatal(err)
	}
	enqueue(t, o, firing("team", "g", 4))
	start(t, o)
	eventually(t, "all delivered", func() bool { return allFinished(t, o) })
	if got, want := c.Accepted(), ids("g", 0, 1, 2, 4); !slices.Equal(got, want) {
		t.Fatalf("accepted %v, want %v", got, want)
	}
}

// gated blocks its first Notify until released, so the test can break
// alerts.db between the send and the record of its success.
type gated struct {
	notify.Notifier
	entered, release chan struct{}
	calls            int
}

func (g *gated) Notify(ctx context.Context, m *notify.Message) error {
	g.calls++ // one worker calls it
	if g.calls == 1 {
		close(g.entered)
		<-g.release
	}
	return g.Notifier.Notify(ctx, m)
}

// A delivery whose success cannot be written (alerts.db read-only here, as
// on a full disk) is written again until it is: the queue neither moves on
// with its state unsaved nor sends the message again.
func TestStateSaveRetried(t *testing.T) {
	c := newChat(t, ok)
	db := openDB(t, t.TempDir())
	o := newOutbox(t, db, fastOptions(t))
	g := &gated{Notifier: newWebhook(c.srv.URL, nil), entered: make(chan struct{}), release: make(chan struct{})}
	o.SetReceivers(team(integration("slack/0", g, true, "h")))
	enqueue(t, o, firing("team", "g", 0))
	enqueue(t, o, firing("team", "g", 1))
	start(t, o)
	<-g.entered
	if _, err := db.Exec("PRAGMA query_only = 1"); err != nil { // alertdb has one connection: the outbox's too
		t.Fatal(err)
	}
	close(g.release)
	eventually(t, "failed saves", func() bool { return counterValue(o.m.saveErrors) >= 3 })
	if got := c.Accepted(); !slices.Equal(got, ids("g", 0)) {
		t.Fatalf("accepted %v while the state could not be saved", got)
	}
	if _, err := db.Exec("PRAGMA query_only = 0"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "all delivered", func() bool { return allFinished(t, o) })
	if got := c.Accepted(); !slices.Equal(got, ids("g", 0, 1)) {
		t.Fatalf("accepted %v, want each once", got)
	}
	entries, _ := o.Log(context.Background(), Filter{})
	if d := entries[1].Deliveries[0]; d.Attempts != 1 || d.Status != StatusDelivered {
		t.Errorf("first delivery = %+v", d)
	}
}

// While alerts.db's disk is full, a notification that cannot be recorded is
// still sent, from memory and once: the dispatcher's retries of the same
// content send nothing more. Once there is room again, that content is
// recorded as delivered instead of being sent a second time.
func TestDiskFullSendsUnrecorded(t *testing.T) {
	c := newChat(t, ok)
	db := openDB(t, t.TempDir())
	o := newOutbox(t, db, fastOptions(t))
	o.SetReceivers(team(integration("slack/0", newWebhook(c.srv.URL, nil), true, "h")))
	start(t, o)
	enqueue(t, o, firing("team", "g", 0))
	eventually(t, "g#0 delivered", func() bool { return allFinished(t, o) && len(c.Accepted()) == 1 })

	setMaxPages := func(n string) {
		t.Helper()
		if n == "" {
			if err := db.QueryRow("PRAGMA page_count").Scan(&n); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.Exec("PRAGMA max_page_count = " + n); err != nil {
			t.Fatal(err)
		}
	}
	big := func(n Notification) Notification {
		n.Message.CommonAnnotations["description"] = strings.Repeat("x", 64<<10)
		return n
	}
	setMaxPages("")
	for _, n := range []Notification{firing("team", "g", 1), firing("team", "g", 2), firing("team", "h", 0)} {
		if _, err := o.Enqueue(context.Background(), big(n)); !errors.Is(err, ErrDiskFull) {
			t.Fatalf("Enqueue on a full disk: %v", err)
		}
	}
	// g#2 repeats g#1's alerts: not sent. The queue is in order, so h#0
	// arriving means g#2 never will.
	eventually(t, "h#0 sent", func() bool { return len(c.Accepted()) == 3 })
	if got, want := c.Accepted(), []string{"g#0", "g#1", "h#0"}; !slices.Equal(got, want) {
		t.Fatalf("accepted %v while alerts.db was full, want %v", got, want)
	}
	if got := counterValue(o.m.unrecorded.WithLabelValues("team")); got != 2 {
		t.Errorf("gpuwd_notifications_unrecorded_total = %v, want 2", got)
	}
	// The dispatcher's log knows the group was notified (so that its
	// resolution is sent, and the same content is not).
	if last, ok, err := o.Last(context.Background(), "team", "h"); err != nil || !ok || len(last.Firing) != 1 {
		t.Errorf("Last(h) = %+v, %v, %v; want the firing notification sent unrecorded", last, ok, err)
	}

	setMaxPages("1073741823")
	id := enqueue(t, o, firing("team", "g", 3)) // the dispatcher's retry, now recorded
	enqueue(t, o, notification("team", "g", 4, []string{"GPUHot", "XID"}, nil))
	eventually(t, "all delivered", func() bool { return allFinished(t, o) && len(c.Accepted()) == 4 })
	if got, want := c.Accepted(), []string{"g#0", "g#1", "h#0", "g#4"}; !slices.Equal(got, want) {
		t.Fatalf("accepted %v, want %v (g#3 was sent as g#1)", got, want)
	}
	entries, err := o.Log(context.Background(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.ID == id {
			if d := e.Deliveries[0]; d.Status != StatusDelivered || !strings.Contains(d.LastError, "disk was full") {
				t.Errorf("g#3's delivery = %+v, want recorded as delivered while the disk was full", d)
			}
		}
	}
}
