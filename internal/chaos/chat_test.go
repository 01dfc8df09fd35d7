package chaos

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/chattest"
)

// gate stands in front of a fake chat service at a fixed address: closed,
// connections to it are refused; open, it passes requests through.
type gate struct {
	t       *testing.T
	addr    string
	backend *url.URL
	mu      sync.Mutex
	srv     *http.Server
}

func newGate(t *testing.T, backend string) *gate {
	u, err := url.Parse(backend)
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{t: t, addr: freeAddr(t), backend: u}
	t.Cleanup(g.close)
	return g
}

func (g *gate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.srv != nil {
		return
	}
	var ln net.Listener
	var err error
	for range 50 { // the port was ours a moment ago
		if ln, err = net.Listen("tcp", g.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		g.t.Fatal(err)
	}
	g.srv = &http.Server{Handler: httputil.NewSingleHostReverseProxy(g.backend)}
	go func() { _ = g.srv.Serve(ln) }()
}

func (g *gate) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.srv != nil {
		_ = g.srv.Close() // the listener and every connection
		g.srv = nil
	}
}

// outboxEntry is a notification in gpuwd's notification log.
type outboxEntry struct {
	ID         int64    `json:"id"`
	GroupKey   string   `json:"groupKey"`
	Firing     []string `json:"firing"`
	Resolved   []string `json:"resolved"`
	Deliveries []struct {
		Status    string `json:"status"`
		Attempts  int    `json:"attempts"`
		LastError string `json:"lastError"`
	} `json:"deliveries"`
}

func notificationLog(t *testing.T, base string) []outboxEntry {
	t.Helper()
	var body struct{ Data []outboxEntry }
	if !getJSON(base+"/api/v1/notifications?limit=1000", &body) {
		t.Fatalf("GET %s/api/v1/notifications failed", base)
	}
	slices.SortFunc(body.Data, func(a, b outboxEntry) int { return int(a.ID - b.ID) })
	return body.Data
}

// signature names a notification by its firing and resolved alerts.
func signature(firing, resolved []string) string {
	slices.Sort(firing)
	slices.Sort(resolved)
	return "firing[" + strings.Join(firing, ",") + "] resolved[" + strings.Join(resolved, ",") + "]"
}

// TestChaosChatOutage keeps the chat service (a chattest webhook) out of
// reach for the whole of a run of the real gpuwd in which three GPUs of a
// simulated agent overheat and cool down again: first connections are
// refused, then it answers 500, then 429 with Retry-After, then 503 while
// gpuwd is killed (SIGKILL) and started again, and more alerts fire and
// resolve. Once the service is back, it has received every notification of
// the notification log exactly once (none missing, none twice), and each
// group's in the order gpuwd made them: firing, then resolved.
func TestChaosChatOutage(t *testing.T) {
	dir := t.TempDir()
	hook := chattest.NewWebhook(t)
	g := newGate(t, hook.BaseURL())
	cfg := serveConfig(t, dir, "http://"+g.addr+"/hook", hotRule)
	addr := freeAddr(t)
	serve := []string{"serve", "--listen", addr, "--config", cfg, "--data-dir", filepath.Join(dir, "data"), "--token", agentToken}
	srv := launch(t, gpuwdBin, serve...)
	agent := startAgent(t, "h100x4", "node-7", freeAddr(t), addr)
	heat := func(gpu, celsius int) {
		post(t, agent.url(fmt.Sprintf("/debug/sim/heat?gpu=%d&celsius=%d", gpu, celsius)))
	}
	// failedWith waits until the head delivery's last error says why.
	failedWith := func(what string) {
		t.Helper()
		eventually(t, 60*time.Second, "a delivery failing with "+what, func() bool {
			for _, e := range notificationLog(t, srv.url("")) {
				for _, d := range e.Deliveries {
					if d.Status == "pending" && strings.Contains(d.LastError, what) {
						return true
					}
				}
			}
			return false
		})
	}

	// queued waits until the notification log holds n notifications.
	queued := func(n int) {
		t.Helper()
		var log []outboxEntry
		if !within(60*time.Second, func() bool { log = notificationLog(t, srv.url("")); return len(log) == n }) {
			for _, e := range log {
				t.Logf("notification %d %s firing %v resolved %v: %+v", e.ID, e.GroupKey, e.Firing, e.Resolved, e.Deliveries)
			}
			t.Fatalf("the notification log holds %d notifications, want %d", len(log), n)
		}
	}

	// Refused: nothing listens.
	heat(0, 97)
	heat(1, 96)
	failedWith("connection refused")
	queued(2)
	// 500, then 429 with Retry-After, each answered once.
	g.open()
	hook.FailNext(1, http.StatusInternalServerError, 0)
	hook.FailNext(1, http.StatusTooManyRequests, 3*time.Second)
	eventually(t, 60*time.Second, "the 500 and the 429 answered", func() bool { return hook.Attempts() >= 2 })
	// 503 from here on, while gpuwd is killed and started again: set before
	// the 429's Retry-After ends, so that nothing gets through until the end.
	hook.SetDown(true)
	heat(0, 40) // GPU 0 resolves during the outage
	queued(3)
	failedWith("503")
	srv.stop(t, syscall.SIGKILL)
	srv = launch(t, gpuwdBin, serve...)
	before := hook.Attempts()
	eventually(t, 60*time.Second, "a delivery attempt after the restart", func() bool { return hook.Attempts() > before })
	heat(2, 98)
	queued(4) // GPU 2 fires after the restart
	heat(1, 40)
	heat(2, 40)
	queued(6) // every alert has fired and resolved
	if hook.Count() != 0 {
		t.Fatalf("the service accepted %d messages while down", hook.Count())
	}

	hook.SetDown(false)
	back := time.Now()
	eventually(t, 120*time.Second, "every notification delivered", func() bool {
		for _, e := range notificationLog(t, srv.url("")) {
			if len(e.Deliveries) != 1 || e.Deliveries[0].Status != "delivered" {
				return false
			}
		}
		return true
	})
	delivered := time.Since(back)
	time.Sleep(3 * time.Second) // several evaluation and group intervals: nothing more comes

	log := notificationLog(t, srv.url(""))
	want, got := map[string][]string{}, map[string][]string{}
	attempts := 0
	for _, e := range log {
		want[e.GroupKey] = append(want[e.GroupKey], signature(e.Firing, e.Resolved))
		attempts += e.Deliveries[0].Attempts
	}
	msgs := webhookMessages(t, hook)
	for _, m := range msgs {
		var firing, resolved []string
		for _, a := range m.Alerts {
			if a.Status == "resolved" {
				resolved = append(resolved, a.Fingerprint)
			} else {
				firing = append(firing, a.Fingerprint)
			}
		}
		got[m.GroupKey] = append(got[m.GroupKey], signature(firing, resolved))
	}
	if len(msgs) != len(log) || len(want) != 3 {
		t.Errorf("the service received %d messages; the log holds %d notifications in %d groups, want 6 in 3", len(msgs), len(log), len(want))
	}
	for key, seq := range want {
		if !slices.Equal(got[key], seq) {
			t.Errorf("group %s: received\n%q\nwant each notification once, in order:\n%q", key, got[key], seq)
		}
		if len(seq) != 2 || !strings.HasPrefix(seq[0], "firing[") || strings.HasPrefix(seq[0], "firing[]") || !strings.HasPrefix(seq[1], "firing[] resolved[") {
			t.Errorf("group %s: notifications %q, want firing then resolved", key, seq)
		}
	}
	summary(t, "chat receiver down", "refused, 500, 429 (Retry-After 3s), 503 across a kill -9 and restart; 3 alerts fired and resolved; "+
		"%d/%d notifications delivered, each once, in order per group (%d attempts in all, %d requests at the service); all delivered %.1f s after the service came back",
		len(msgs), len(log), attempts, hook.Attempts(), delivered.Seconds())
}
