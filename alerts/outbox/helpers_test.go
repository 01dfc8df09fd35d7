package outbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/alertdb"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"golang.org/x/time/rate"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// openDB opens a real alerts.db in dir, closed at the end of the test.
func openDB(t testing.TB, dir string) *sql.DB {
	t.Helper()
	db, err := alertdb.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// fastOptions: real clock, millisecond backoff, no rate limit.
func fastOptions(t testing.TB) Options {
	return Options{
		BackoffBase: time.Millisecond,
		BackoffMax:  10 * time.Millisecond,
		RateLimit:   rate.Inf,
		SendTimeout: 5 * time.Second,
		Logger:      testLogger(t),
	}
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func newOutbox(t testing.TB, db *sql.DB, opts Options) *Outbox {
	t.Helper()
	o, err := New(context.Background(), db, opts)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// start runs o until the returned stop (also called at cleanup), which
// waits for Run to return.
func start(t testing.TB, o *Outbox) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// fakeClock's After moves time forward at once: backoff and rate limits
// take no real time, and the clock records how long they asked to wait.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: t0} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.t = c.t.Add(d)
	}
	ch := make(chan time.Time, 1)
	ch <- c.t
	return ch
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// reply is what the fake chat service answers to its n-th request (from 1)
// carrying message id ("group#seq").
type reply func(n int, id string) (status int, header http.Header, body string)

func ok(int, string) (int, http.Header, string) { return 200, nil, "ok" }

func fail(status int, body string) reply {
	return func(int, string) (int, http.Header, string) { return status, nil, body }
}

// chat is a fake chat service: it records the messages it accepted (2xx),
// in order, by id.
type chat struct {
	srv *httptest.Server

	mu       sync.Mutex
	reply    reply
	requests int
	seen     []string // every request's message id
	accepted []string // those answered 2xx
	messages []notify.Message
}

func newChat(t testing.TB, r reply) *chat {
	c := &chat{reply: r}
	c.srv = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.srv.Close)
	return c
}

// newChatAt starts the service on addr, where it was down before.
func newChatAt(t testing.TB, addr string, r reply) *chat {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	c := &chat{reply: r}
	c.srv = httptest.NewUnstartedServer(http.HandlerFunc(c.serve))
	c.srv.Listener.Close()
	c.srv.Listener = l
	c.srv.Start()
	t.Cleanup(c.srv.Close)
	return c
}

func (c *chat) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var m notify.Message
	if err := json.Unmarshal(body, &m); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	id := msgID(&m)
	if r.Header.Get(downHeader) != "" {
		c.mu.Lock()
		c.requests++
		c.seen = append(c.seen, id)
		c.mu.Unlock()
		http.Error(w, "rollup_error", http.StatusInternalServerError)
		return
	}
	c.mu.Lock()
	c.requests++
	n, reply := c.requests, c.reply
	c.seen = append(c.seen, id)
	c.mu.Unlock()
	status, h, text := reply(n, id) // may block: not under the lock
	if status/100 == 2 {
		c.mu.Lock()
		c.accepted = append(c.accepted, id)
		c.messages = append(c.messages, m)
		c.mu.Unlock()
	}
	for k, v := range h {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	io.WriteString(w, text)
}

func (c *chat) set(r reply) {
	c.mu.Lock()
	c.reply = r
	c.mu.Unlock()
}

func (c *chat) Accepted() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.accepted...)
}

func (c *chat) Seen() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.seen...)
}

func (c *chat) Messages() []notify.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]notify.Message(nil), c.messages...)
}

func (c *chat) Requests() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requests
}

// downHeader marks the requests of a notifier for which the service is down
// (500), however late the service handles them.
const downHeader = "X-Test-Down"

// webhook is a minimal notifier, as the real ones are: JSON over HTTP,
// classified by notify.Do, a 404 disabling it as Discord's does.
type webhook struct {
	url    string
	client *http.Client
	now    func() time.Time
	header http.Header

	mu    sync.Mutex
	times []time.Time // clock time of each attempt
}

func newWebhook(url string, now func() time.Time) *webhook {
	if now == nil {
		now = time.Now
	}
	return &webhook{url: url, client: &http.Client{}, now: now}
}

func (w *webhook) Notify(ctx context.Context, m *notify.Message) error {
	w.mu.Lock()
	w.times = append(w.times, w.now())
	w.mu.Unlock()
	body, err := json.Marshal(m)
	if err != nil {
		return notify.Permanent("encode: %v", err)
	}
	_, err = notify.Do(ctx, w.client, notify.Request{URL: w.url, ContentType: "application/json", Body: body, Header: w.header})
	var e *notify.Error
	if errors.As(err, &e) && e.StatusCode == http.StatusNotFound {
		e.Disable, e.Retry = true, false
	}
	return err
}

func (w *webhook) Times() []time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Time(nil), w.times...)
}

func integration(name string, n notify.Notifier, sendResolved bool, hash string) notify.Integration {
	return notify.Integration{Name: name, Notifier: n, SendResolved: sendResolved, ConfigHash: hash}
}

// notification is message seq of group, with firing alerts named by fire
// and resolved ones by res; each alert carries the id "group#seq".
func notification(receiver, group string, seq int, fire, res []string) Notification {
	var alerts []notify.Alert
	id := group + "#" + strconv.Itoa(seq)
	add := func(names []string, status string) []string {
		var fps []string
		for _, name := range names {
			labels := map[string]string{"alertname": name, "group": group}
			a := notify.Alert{Status: status, Labels: labels, Annotations: map[string]string{"id": id},
				StartsAt: t0, Fingerprint: notify.Fingerprint(labels)}
			alerts = append(alerts, a)
			fps = append(fps, a.Fingerprint)
		}
		return fps
	}
	n := Notification{Receiver: receiver, GroupKey: group}
	n.Firing = add(fire, notify.StatusFiring)
	n.Resolved = add(res, notify.StatusResolved)
	n.Message = notify.NewMessage(receiver, group, map[string]string{"group": group}, "", alerts)
	return n
}

// firing is message seq of group with one firing alert.
func firing(receiver, group string, seq int) Notification {
	return notification(receiver, group, seq, []string{"GPUHot"}, nil)
}

func msgID(m *notify.Message) string { return m.CommonAnnotations["id"] }

func enqueue(t testing.TB, o *Outbox, n Notification) int64 {
	t.Helper()
	id, err := o.Enqueue(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// eventually polls cond until it holds; it fails the test after a generous
// deadline (a hang, not a timing assertion).
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// statuses maps "id integration" to the status Log reports, for receiver.
func statuses(t testing.TB, o *Outbox, f Filter) map[string]string {
	t.Helper()
	f.Limit = 1000
	entries, err := o.Log(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		for _, d := range e.Deliveries {
			out[fmt.Sprintf("%s %s", msgID(e.Message), d.Integration)] = d.Status
		}
	}
	return out
}

// allFinished reports whether no delivery of o is pending.
func allFinished(t testing.TB, o *Outbox) bool {
	t.Helper()
	for _, st := range statuses(t, o, Filter{}) { // one snapshot
		if st == StatusPending || st == StatusDisabledHeld {
			return false
		}
	}
	return true
}

// closedPort is an address nothing listens on (connection refused).
func closedPort(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func ids(group string, seqs ...int) []string {
	var out []string
	for _, s := range seqs {
		out = append(out, group+"#"+strconv.Itoa(s))
	}
	return out
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return 0
	}
	return m.GetCounter().GetValue()
}
