package outbox

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
	"github.com/gpu-watchdog/gpu-watchdog/internal/steady"
	"golang.org/x/time/rate"
)

func team(ints ...notify.Integration) map[string][]notify.Integration {
	return map[string][]notify.Integration{"team": ints}
}

// Two of three requests fail with 503: every message still arrives once,
// and in enqueue order across groups.
func TestFIFOPerIntegrationUnderRetries(t *testing.T) {
	c := newChat(t, func(n int, _ string) (int, http.Header, string) {
		if n%3 != 0 {
			return http.StatusServiceUnavailable, nil, "busy"
		}
		return 200, nil, "ok"
	})
	o := newOutbox(t, openDB(t, t.TempDir()), fastOptions(t))
	o.SetReceivers(team(integration("webhook/0", newWebhook(c.srv.URL, nil), true, "h")))
	start(t, o)
	var want []string
	for i := range 30 {
		g := []string{"a", "b", "c"}[i%3]
		enqueue(t, o, firing("team", g, i))
		want = append(want, ids(g, i)...)
	}
	eventually(t, "all delivered", func() bool { return allFinished(t, o) })
	if got := c.Accepted(); !slices.Equal(got, want) {
		t.Fatalf("accepted\n%v\nwant\n%v", got, want)
	}
	for id, st := range statuses(t, o, Filter{}) {
		if st != StatusDelivered {
			t.Errorf("%s: %s", id, st)
		}
	}
}

// A 429 with Retry-After holds the queue at least that long (on the
// injected clock), longer than the backoff would have.
func TestRetryAfterHonoured(t *testing.T) {
	clk := newClock()
	c := newChat(t, func(n int, _ string) (int, http.Header, string) {
		if n <= 2 {
			return http.StatusTooManyRequests, http.Header{"Retry-After": {"30"}}, "rate_limited"
		}
		return 200, nil, "ok"
	})
	wh := newWebhook(c.srv.URL, clk.Now)
	o := newOutbox(t, openDB(t, t.TempDir()), Options{Now: clk.Now, After: clk.After, RateLimit: rate.Inf, Logger: testLogger(t)})
	o.SetReceivers(team(integration("slack/0", wh, true, "h")))
	enqueue(t, o, firing("team", "g", 0))
	enqueue(t, o, firing("team", "g", 1))
	start(t, o)
	eventually(t, "both delivered", func() bool { return allFinished(t, o) })

	if got, want := c.Seen(), ids("g", 0, 0, 0, 1); !slices.Equal(got, want) {
		t.Fatalf("requests %v, want %v (head of line waits)", got, want)
	}
	times := wh.Times()
	for i := 1; i < 3; i++ {
		if gap := times[i].Sub(times[i-1]); gap < 30*time.Second {
			t.Errorf("attempt %d came %s after the one answered Retry-After: 30", i+1, gap)
		}
	}
	entries, err := o.Log(context.Background(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	d := entries[1].Deliveries[0] // newest first
	if d.Attempts != 3 || d.Status != StatusDelivered || !strings.Contains(d.LastError, "429") || d.DeliveredAt.IsZero() {
		t.Errorf("first delivery = %+v", d)
	}
}

// A retry saved before the wall clock stepped back two days is due at
// once, not two days later; and a Retry-After of a day is honoured for an
// hour at most.
func TestClockStepBackDoesNotHoldRetries(t *testing.T) {
	clk := newClock()
	c := newChat(t, func(n int, _ string) (int, http.Header, string) {
		switch n {
		case 1:
			return http.StatusServiceUnavailable, http.Header{"Retry-After": {"60"}}, "down"
		case 2:
			return http.StatusTooManyRequests, http.Header{"Retry-After": {"86400"}}, "slow down"
		}
		return 200, nil, "ok"
	})
	wh := newWebhook(c.srv.URL, clk.Now)
	var stepped atomic.Bool
	after := func(d time.Duration) <-chan time.Time {
		// The wait for the first retry: the clock steps back instead.
		if d > 0 && d <= 2*time.Minute && stepped.CompareAndSwap(false, true) {
			clk.Advance(-48 * time.Hour)
			ch := make(chan time.Time, 1)
			ch <- clk.Now()
			return ch
		}
		return clk.After(d)
	}
	o := newOutbox(t, openDB(t, t.TempDir()), Options{Now: clk.Now, After: after, RateLimit: rate.Inf, Logger: testLogger(t)})
	o.SetReceivers(team(integration("slack/0", wh, true, "h")))
	enqueue(t, o, firing("team", "g", 0))
	start(t, o)
	eventually(t, "delivered", func() bool { return allFinished(t, o) })

	times := wh.Times()
	if len(times) != 3 {
		t.Fatalf("%d attempts, want 3", len(times))
	}
	if gap := times[1].Sub(times[0]); gap > -47*time.Hour {
		t.Errorf("the retry after the step came %s after the first attempt by the stepped clock; want at once (about -48h)", gap)
	}
	if gap := times[2].Sub(times[1]); gap < time.Hour || gap > time.Hour+time.Minute {
		t.Errorf("Retry-After: 86400 was waited %s, want the one-hour cap", gap)
	}
}

// A 400 fails that delivery for good, once, and the queue goes on.
func TestPermanentErrorFailsAndMovesOn(t *testing.T) {
	c := newChat(t, func(_ int, id string) (int, http.Header, string) {
		if id == "g#1" {
			return http.StatusBadRequest, nil, "invalid_payload"
		}
		return 200, nil, "ok"
	})
	o := newOutbox(t, openDB(t, t.TempDir()), fastOptions(t))
	o.SetReceivers(team(integration("slack/0", newWebhook(c.srv.URL, nil), true, "h")))
	start(t, o)
	for i := range 4 {
		enqueue(t, o, firing("team", "g", i))
	}
	eventually(t, "all finished", func() bool { return allFinished(t, o) })
	if got, want := c.Seen(), ids("g", 0, 1, 2, 3); !slices.Equal(got, want) {
		t.Fatalf("requests %v, want %v", got, want)
	}
	entries, err := o.Log(context.Background(), Filter{Status: StatusFailed})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || msgID(entries[0].Message) != "g#1" {
		t.Fatalf("failed entries: %+v", entries)
	}
	if d := entries[0].Deliveries[0]; d.Attempts != 1 || d.LastError != "400 Bad Request: invalid_payload" {
		t.Errorf("failed delivery = %+v", d)
	}
	hs, _ := o.Integrations(context.Background())
	if len(hs) != 1 || hs[0].LastFailure.IsZero() || hs[0].LastSuccess.IsZero() || hs[0].LastError == "" || hs[0].Pending != 0 {
		t.Errorf("health = %+v", hs)
	}
}

// Discord's 404 disables the integration: its deliveries are held (across
// a restart too) until its configuration changes, then all go, in order.
func TestDisabledIntegrationHoldsUntilConfigChanges(t *testing.T) {
	c := newChat(t, fail(http.StatusNotFound, `{"message": "Unknown Webhook", "code": 10015}`))
	dir := t.TempDir()
	db := openDB(t, dir)
	o := newOutbox(t, db, fastOptions(t))
	discord := func(hash string) map[string][]notify.Integration {
		return team(integration("discord/0", newWebhook(c.srv.URL, nil), true, hash))
	}
	o.SetReceivers(discord("v1"))
	stop := start(t, o)
	for i := range 5 {
		enqueue(t, o, firing("team", "g", i))
	}
	eventually(t, "disabled", func() bool {
		hs, err := o.Integrations(context.Background())
		return err == nil && len(hs) == 1 && hs[0].Disabled
	})
	hs, _ := o.Integrations(context.Background())
	if h := hs[0]; !strings.Contains(h.DisabledReason, "404 Not Found") || !strings.Contains(h.DisabledReason, "Unknown Webhook") ||
		h.DisabledAt.IsZero() || h.Pending != 5 {
		t.Errorf("health = %+v", h)
	}
	held := func(o *Outbox, n int) {
		t.Helper()
		st := statuses(t, o, Filter{Status: StatusDisabledHeld})
		if len(st) != n {
			t.Fatalf("%d held, want %d: %v", len(st), n, st)
		}
		if p := statuses(t, o, Filter{Status: StatusPending}); len(p) != 0 {
			t.Fatalf("pending (not held): %v", p)
		}
	}
	held(o, 5)
	// A reload that leaves the integration as it was keeps it disabled.
	o.SetReceivers(discord("v1"))
	time.Sleep(50 * time.Millisecond)
	if n := c.Requests(); n != 1 {
		t.Fatalf("%d requests to a disabled integration, want 1", n)
	}

	// So does a restart.
	stop()
	db.Close()
	db = openDB(t, dir)
	o = newOutbox(t, db, fastOptions(t))
	o.SetReceivers(discord("v1"))
	start(t, o)
	enqueue(t, o, firing("team", "g", 5))
	time.Sleep(50 * time.Millisecond)
	if n := c.Requests(); n != 1 {
		t.Fatalf("%d requests after restart, want 1", n)
	}
	held(o, 6)

	// The webhook is fixed: a new configuration resumes it.
	c.set(ok)
	o.SetReceivers(discord("v2"))
	eventually(t, "held ones delivered", func() bool { return allFinished(t, o) })
	if got, want := c.Accepted(), ids("g", 0, 1, 2, 3, 4, 5); !slices.Equal(got, want) {
		t.Fatalf("accepted %v, want %v", got, want)
	}
	hs, _ = o.Integrations(context.Background())
	if h := hs[0]; h.Disabled || h.DisabledReason != "" || h.LastSuccess.IsZero() {
		t.Errorf("health after resume = %+v", h)
	}
}

// An attempt that hangs is cut at SendTimeout and retried.
func TestSendTimeout(t *testing.T) {
	c := newChat(t, nil)
	c.set(func(n int, _ string) (int, http.Header, string) {
		if n == 1 {
			time.Sleep(500 * time.Millisecond) // longer than the send timeout
		}
		return 200, nil, "ok"
	})
	opts := fastOptions(t)
	opts.SendTimeout = 100 * time.Millisecond
	o := newOutbox(t, openDB(t, t.TempDir()), opts)
	o.SetReceivers(team(integration("webhook/0", newWebhook(c.srv.URL, nil), true, "h")))
	start(t, o)
	enqueue(t, o, firing("team", "g", 0))
	eventually(t, "delivered", func() bool { return allFinished(t, o) })
	entries, _ := o.Log(context.Background(), Filter{})
	if d := entries[0].Deliveries[0]; d.Status != StatusDelivered || d.Attempts < 2 || !strings.Contains(d.LastError, "timed out") {
		t.Errorf("delivery = %+v", d)
	}
}

// The token bucket: any span of the sends (on the injected clock) holds at
// most burst + rate·span of them.
func TestRateLimit(t *testing.T) {
	clk := newClock()
	c := newChat(t, ok)
	wh := newWebhook(c.srv.URL, clk.Now)
	const limit, burst, n = 2, 5, 25
	o := newOutbox(t, openDB(t, t.TempDir()), Options{Now: clk.Now, After: clk.After, RateLimit: limit, RateBurst: burst, Logger: testLogger(t)})
	o.SetReceivers(team(integration("slack/0", wh, true, "h")))
	for i := range n {
		enqueue(t, o, firing("team", "g", i))
	}
	start(t, o)
	eventually(t, "all delivered", func() bool { return len(c.Accepted()) == n })
	times := wh.Times()
	for i := range times {
		for j := i; j < len(times); j++ {
			allowed := burst + limit*times[j].Sub(times[i]).Seconds()
			if float64(j-i+1) > allowed+1e-9 {
				t.Fatalf("sends %d..%d: %d in %s, the bucket allows %.1f", i, j, j-i+1, times[j].Sub(times[i]), allowed)
			}
		}
	}
	if !times[burst-1].Equal(times[0]) {
		t.Errorf("the first %d sends should not wait: %v", burst, times[:burst])
	}
}

// send_resolved=false: resolved alerts are left out, and a message of only
// resolved alerts is skipped, for that integration only.
func TestSendResolvedFalse(t *testing.T) {
	all, firingOnly := newChat(t, ok), newChat(t, ok)
	o := newOutbox(t, openDB(t, t.TempDir()), fastOptions(t))
	o.SetReceivers(team(
		integration("webhook/0", newWebhook(all.srv.URL, nil), true, "h"),
		integration("webhook/1", newWebhook(firingOnly.srv.URL, nil), false, "h"),
	))
	start(t, o)
	enqueue(t, o, notification("team", "g", 0, []string{"Hot"}, []string{"Down"}))
	enqueue(t, o, notification("team", "g", 1, nil, []string{"Hot"}))
	enqueue(t, o, notification("team", "g", 2, []string{"Slow"}, nil))
	eventually(t, "all finished", func() bool { return allFinished(t, o) })

	if got := all.Accepted(); !slices.Equal(got, ids("g", 0, 1, 2)) {
		t.Errorf("send_resolved integration got %v", got)
	}
	if m := all.Messages()[0]; len(m.Alerts) != 2 {
		t.Errorf("send_resolved integration got %d alerts in the first message, want 2", len(m.Alerts))
	}
	if got := firingOnly.Accepted(); !slices.Equal(got, ids("g", 0, 2)) {
		t.Errorf("send_resolved=false integration got %v", got)
	}
	m := firingOnly.Messages()[0]
	if len(m.Alerts) != 1 || m.Alerts[0].Status != notify.StatusFiring || m.Status != notify.StatusFiring || m.CommonLabels["alertname"] != "Hot" {
		t.Errorf("stripped message = %+v", m)
	}
	st := statuses(t, o, Filter{})
	if st["g#1 webhook/1"] != StatusSkipped || st["g#1 webhook/0"] != StatusDelivered {
		t.Errorf("statuses %v", st)
	}
}

// For an integration without send_resolved, a message that exists only
// because alerts resolved would repeat the last one: it is skipped, as
// Alertmanager skips it. A message with a new firing alert is not.
func TestSendResolvedFalseSkipsRepeats(t *testing.T) {
	all, firingOnly := newChat(t, ok), newChat(t, ok)
	o := newOutbox(t, openDB(t, t.TempDir()), fastOptions(t))
	o.SetReceivers(team(
		integration("webhook/0", newWebhook(all.srv.URL, nil), true, "h"),
		integration("webhook/1", newWebhook(firingOnly.srv.URL, nil), false, "h"),
	))
	start(t, o)
	enqueue(t, o, notification("team", "g", 0, []string{"Hot", "Slow"}, nil))
	enqueue(t, o, notification("team", "g", 1, []string{"Hot"}, []string{"Slow"}))         // Slow resolved: a repeat of Hot
	enqueue(t, o, notification("team", "g", 2, []string{"Hot", "Lost"}, []string{"Slow"})) // Lost is new
	eventually(t, "all finished", func() bool { return allFinished(t, o) })
	if got := all.Accepted(); !slices.Equal(got, ids("g", 0, 1, 2)) {
		t.Errorf("send_resolved integration got %v", got)
	}
	if got := firingOnly.Accepted(); !slices.Equal(got, ids("g", 0, 2)) {
		t.Errorf("send_resolved=false integration got %v, want the first and the one with a new alert", got)
	}
}

// A delivery still failing after MaxAge is expired, visibly, and the queue
// goes on.
func TestMaxAgeExpires(t *testing.T) {
	clk := newClock()
	c := newChat(t, fail(http.StatusBadGateway, "bad gateway"))
	o := newOutbox(t, openDB(t, t.TempDir()), Options{Now: clk.Now, After: clk.After, MaxAge: time.Hour, RateLimit: rate.Inf, Logger: testLogger(t)})
	o.SetReceivers(team(integration("webhook/0", newWebhook(c.srv.URL, clk.Now), true, "h")))
	start(t, o)
	enqueue(t, o, firing("team", "g", 0))
	eventually(t, "expired", func() bool { return allFinished(t, o) })
	entries, _ := o.Log(context.Background(), Filter{Status: StatusExpired})
	if len(entries) != 1 {
		t.Fatalf("expired entries: %+v", entries)
	}
	d := entries[0].Deliveries[0]
	if d.Attempts < 2 || !strings.Contains(d.LastError, "maximum age of 1h0m0s") || !strings.Contains(d.LastError, "502 Bad Gateway") {
		t.Errorf("expired delivery = %+v", d)
	}
	if clk.Now().Before(t0.Add(time.Hour)) {
		t.Errorf("expired at %s, before its maximum age", clk.Now())
	}
	c.set(ok)
	enqueue(t, o, firing("team", "g", 1))
	eventually(t, "next delivered", func() bool { return slices.Equal(c.Accepted(), ids("g", 1)) })
}

// A wall clock stepped two days forward expires nothing (MaxAge 1h): ages
// follow the time that really passed. Once the service is back, the
// delivery goes out.
func TestClockStepForwardExpiresNothing(t *testing.T) {
	clk := newClock()
	c := newChat(t, fail(http.StatusBadGateway, "bad gateway"))
	o := newOutbox(t, openDB(t, t.TempDir()), Options{Now: clk.Now, After: clk.After, MaxAge: time.Hour, BackoffMax: time.Minute, RateLimit: rate.Inf, Logger: testLogger(t)})
	// The fake clock's own moves (backoff waits) really pass; a step does
	// not: elapsed leaves out the steps between two readings.
	type step struct {
		after time.Time // the wall clock just after it
		size  time.Duration
	}
	var (
		mu    sync.Mutex
		steps []step
	)
	o.steady = steady.NewElapsed(clk.Now, func(prev, cur time.Time) time.Duration {
		mu.Lock()
		defer mu.Unlock()
		d := cur.Sub(prev)
		for _, s := range steps {
			if prev.Before(s.after) && !cur.Before(s.after) {
				d -= s.size
			}
		}
		return d
	})
	o.SetReceivers(team(integration("webhook/0", newWebhook(c.srv.URL, clk.Now), true, "h")))
	enqueue(t, o, firing("team", "g", 0))
	start(t, o)
	eventually(t, "a failed attempt", func() bool { return len(c.Seen()) >= 1 })
	mu.Lock()
	clk.Advance(48 * time.Hour)
	steps = append(steps, step{clk.Now(), 48 * time.Hour})
	mu.Unlock()
	eventually(t, "two more attempts after the step", func() bool { return len(c.Seen()) >= 3 })
	c.set(ok)
	eventually(t, "delivered", func() bool { return allFinished(t, o) })
	if got := c.Accepted(); !slices.Equal(got, ids("g", 0)) {
		t.Fatalf("accepted %v, want g#0 (not expired by the step)", got)
	}
}
