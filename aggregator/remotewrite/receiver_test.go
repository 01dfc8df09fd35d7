package remotewrite

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
)

// receiver is a remote-write endpoint on 127.0.0.1 that decodes what it is
// sent. respond decides the answer to the nth request (from 1); nil accepts
// everything. Only accepted requests are recorded.
type receiver struct {
	t       testing.TB
	srv     *httptest.Server
	respond func(n int, req *prompb.WriteRequest, w http.ResponseWriter) bool

	mu       sync.Mutex
	n        int
	headers  []http.Header
	rawQuery []string
	accepted []prompb.WriteRequest
}

func newReceiver(t testing.TB, respond func(n int, req *prompb.WriteRequest, w http.ResponseWriter) bool) *receiver {
	t.Helper()
	return startReceiver(t, listenLoopback(t, "127.0.0.1:0"), respond)
}

func startReceiver(t testing.TB, ln net.Listener, respond func(n int, req *prompb.WriteRequest, w http.ResponseWriter) bool) *receiver {
	r := &receiver{t: t, respond: respond}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(r.serve))
	r.srv.Listener.Close()
	r.srv.Listener = ln
	r.srv.Start()
	t.Cleanup(r.srv.Close)
	return r
}

func listenLoopback(t testing.TB, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func (r *receiver) url() string { return r.srv.URL + "/api/v1/write" }

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	wr, err := decodeBody(body)
	if err != nil {
		r.t.Errorf("receiver: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.n++
	n := r.n
	r.mu.Unlock()
	if r.respond != nil && !r.respond(n, wr, w) {
		return
	}
	r.mu.Lock()
	r.headers = append(r.headers, req.Header.Clone())
	r.rawQuery = append(r.rawQuery, req.URL.RawQuery)
	r.accepted = append(r.accepted, *wr)
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func decodeBody(body []byte) (*prompb.WriteRequest, error) {
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		return nil, fmt.Errorf("snappy: %w", err)
	}
	var wr prompb.WriteRequest
	if err := wr.Unmarshal(raw); err != nil {
		return nil, fmt.Errorf("protobuf: %w", err)
	}
	return &wr, nil
}

// snapshot copies what was accepted: the requests, their headers and
// queries.
func (r *receiver) snapshot() ([]prompb.WriteRequest, []http.Header, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.accepted), slices.Clone(r.headers), slices.Clone(r.rawQuery)
}

// requests is how many requests arrived, accepted or not.
func (r *receiver) requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// samples are the accepted samples of the series with this name, in the
// order they arrived.
func (r *receiver) samples(name string) []prompb.Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []prompb.Sample
	for _, wr := range r.accepted {
		for _, ts := range wr.Timeseries {
			if labelValue(ts.Labels, "__name__") == name {
				out = append(out, ts.Samples...)
			}
		}
	}
	return out
}

func (r *receiver) acceptedCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, wr := range r.accepted {
		for _, ts := range wr.Timeseries {
			n += len(ts.Samples)
		}
	}
	return n
}

func labelValue(ls []prompb.Label, name string) string {
	for _, l := range ls {
		if l.Name == name {
			return l.Value
		}
	}
	return ""
}

// seq is n samples of one series with values and times counting up from
// first, at 1s steps from t0.
func seq(name string, first, n int) []Sample {
	ls := labels.FromStrings("__name__", name, "job", "gpuwd")
	out := make([]Sample, n)
	for i := range out {
		v := first + i
		out[i] = Sample{Labels: ls, T: t0 + int64(v)*1000, V: float64(v)}
	}
	return out
}

// t0 is a recent time (ms), as receivers refuse old samples.
var t0 = time.Now().Add(-time.Hour).Truncate(time.Minute).UnixMilli()

// checkSeq fails unless got are exactly the samples first..first+n-1, in
// order, once each.
func checkSeq(t *testing.T, got []prompb.Sample, first, n int) {
	t.Helper()
	if len(got) != n {
		t.Errorf("received %d samples, want %d", len(got), n)
	}
	for i, s := range got {
		want := first + i
		if s.Value != float64(want) || s.Timestamp != t0+int64(want)*1000 {
			t.Fatalf("sample %d is %v@%d, want %d@%d (duplicate, lost or out of order)", i, s.Value, s.Timestamp, want, t0+int64(want)*1000)
		}
	}
}

// newQueue makes a queue with fast retries for tests.
func newQueue(t testing.TB, cfg config.RemoteWrite, o Options) *Queue {
	t.Helper()
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	if o.MinBackoff == 0 {
		o.MinBackoff, o.MaxBackoff = time.Millisecond, 20*time.Millisecond
	}
	if o.FlushInterval == 0 {
		o.FlushInterval = 10 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	q, err := New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// logBuffer collects log lines for checks, safe for the queue's goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// run starts q.Run and returns a function that stops it and waits.
func run(q *Queue) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		q.Run(ctx)
		close(done)
	}()
	return func() { cancel(); <-done }
}

// waitFor polls cond; the deadline only bounds a hung test.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// delivered reports whether nothing is pending any more.
func delivered(q *Queue) func() bool {
	return func() bool {
		s := q.Status()
		return s.PendingSamples == 0 && s.PendingBatches == 0
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// counterValue reads a counter (or a counter of a vector).
func counterValue(t testing.TB, c prometheus.Metric) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func gather(t testing.TB, g prometheus.Gatherer) map[string]*dto.MetricFamily {
	t.Helper()
	fams, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

func md(d time.Duration) model.Duration { return model.Duration(d) }

func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
