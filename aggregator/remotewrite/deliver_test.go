package remotewrite

import (
	"context"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/prompb"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
)

// TestDelivery checks what a receiver gets: headers, credentials, labels
// with the external ones, and values bit for bit (NaN, the staleness
// marker).
func TestDelivery(t *testing.T) {
	rcv := newReceiver(t, nil)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("s3cret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.RemoteWrite{URL: rcv.url(), Name: "central",
		Authorization: &config.Authorization{Type: "Bearer", CredentialsFile: tokenFile},
		Headers:       map[string]string{"X-Scope-OrgID": "gpu-fleet"}}
	reg := prometheus.NewRegistry()
	q := newQueue(t, cfg, Options{Registerer: reg, UserAgent: "gpuwd/test",
		ExternalLabels: map[string]string{"cluster": "dc1", "job": "external-loses", "a_first": "x", "empty": ""}})

	temp := labels.FromStrings("__name__", "DCGM_FI_DEV_GPU_TEMP", "gpu", "0", "job", "gpuwd", "instance", "node1:9400")
	util := labels.FromStrings("__name__", "DCGM_FI_DEV_GPU_UTIL", "gpu", "0", "job", "gpuwd", "instance", "node1:9400")
	nan := math.Float64frombits(0x7ff8000000000001)
	stale := math.Float64frombits(value.StaleNaN)
	// Interleaved and out of order: the receiver must get one series each,
	// in time order.
	q.Append([]Sample{{temp, t0 + 2000, 41}, {util, t0 + 1000, nan}, {temp, t0 + 1000, 40}})
	q.Append([]Sample{{util, t0 + 2000, stale}, {temp, t0 + 3000, math.Inf(-1)}})
	stop := run(q)
	defer stop()
	waitFor(t, "delivery", delivered(q))

	accepted, headers, _ := rcv.snapshot()
	if len(accepted) != 1 {
		t.Fatalf("%d requests, want 1", len(accepted))
	}
	wr := accepted[0]
	if len(wr.Timeseries) != 2 {
		t.Fatalf("%d series, want 2: %v", len(wr.Timeseries), wr.Timeseries)
	}
	wantLabels := `__name__="DCGM_FI_DEV_GPU_TEMP",a_first="x",cluster="dc1",gpu="0",instance="node1:9400",job="gpuwd"`
	if got := promLabels(wr.Timeseries[0].Labels); got != wantLabels {
		t.Errorf("labels = %s, want %s", got, wantLabels)
	}
	for _, ts := range wr.Timeseries {
		for i := 1; i < len(ts.Labels); i++ {
			if ts.Labels[i-1].Name >= ts.Labels[i].Name {
				t.Errorf("labels not sorted: %v", ts.Labels)
			}
		}
	}
	checkBits(t, wr.Timeseries[0].Samples, []prompb.Sample{{Value: 40, Timestamp: t0 + 1000}, {Value: 41, Timestamp: t0 + 2000}, {Value: math.Inf(-1), Timestamp: t0 + 3000}})
	checkBits(t, wr.Timeseries[1].Samples, []prompb.Sample{{Value: nan, Timestamp: t0 + 1000}, {Value: stale, Timestamp: t0 + 2000}})

	h := headers[0]
	for k, want := range map[string]string{
		"Content-Encoding":                  "snappy",
		"Content-Type":                      "application/x-protobuf",
		"X-Prometheus-Remote-Write-Version": "0.1.0",
		"User-Agent":                        "gpuwd/test",
		"Authorization":                     "Bearer s3cret-token",
		"X-Scope-Orgid":                     "gpu-fleet",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if got := counterValue(t, q.m.sent); got != 5 {
		t.Errorf("samples sent = %v, want 5", got)
	}
	fams := gather(t, reg)
	for _, name := range []string{"gpuwd_remote_write_lag_seconds", "gpuwd_remote_write_pending_bytes", "gpuwd_remote_write_pending_samples",
		"gpuwd_remote_write_samples_sent_total", "gpuwd_remote_write_samples_failed_total", "gpuwd_remote_write_samples_dropped_total",
		"gpuwd_remote_write_send_duration_seconds", "gpuwd_remote_write_queue_write_errors_total"} {
		f := fams[name]
		if f == nil || len(f.Metric) == 0 {
			t.Errorf("metric %s missing", name)
			continue
		}
		for _, m := range f.Metric {
			if l := m.GetLabel(); !slices.ContainsFunc(l, func(l *dto.LabelPair) bool { return l.GetName() == "remote" && l.GetValue() == "central" }) {
				t.Errorf("%s is not labelled remote=central: %v", name, l)
			}
		}
	}
	if lag := fams["gpuwd_remote_write_lag_seconds"].GetMetric()[0].GetGauge().GetValue(); lag != 0 {
		t.Errorf("lag after delivery = %v, want 0", lag)
	}
	if st := q.Status(); st.LastSuccess.IsZero() || st.LastError != "" || !st.Oldest.IsZero() {
		t.Errorf("status after delivery: %+v", st)
	}
}

func promLabels(ls []prompb.Label) string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = l.Name + `="` + l.Value + `"`
	}
	return strings.Join(parts, ",")
}

func checkBits(t *testing.T, got, want []prompb.Sample) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("samples = %v, want %v", got, want)
	}
	for i := range got {
		if got[i].Timestamp != want[i].Timestamp || math.Float64bits(got[i].Value) != math.Float64bits(want[i].Value) {
			t.Errorf("sample %d = %#x@%d, want %#x@%d", i, math.Float64bits(got[i].Value), got[i].Timestamp,
				math.Float64bits(want[i].Value), want[i].Timestamp)
		}
	}
}

// TestRetriesDeliverExactlyOnceInOrder has the receiver fail with 500, 429
// (Retry-After in seconds), 503 (Retry-After as a date) and a hang past the
// remote timeout before it accepts: every sample arrives once, in order.
func TestRetriesDeliverExactlyOnceInOrder(t *testing.T) {
	rcv := newReceiver(t, func(n int, _ *prompb.WriteRequest, w http.ResponseWriter) bool {
		switch n {
		case 1, 2, 3:
			http.Error(w, "ingester unavailable", http.StatusInternalServerError)
		case 4:
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
		case 5:
			w.Header().Set("Retry-After", time.Now().Add(-time.Minute).UTC().Format(http.TimeFormat))
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
		case 6:
			time.Sleep(time.Second) // past the remote timeout
			http.Error(w, "too late", http.StatusInternalServerError)
		default:
			return true
		}
		return false
	})
	logs := &logBuffer{}
	q := newQueue(t, config.RemoteWrite{URL: rcv.url(), MaxSamplesPerSend: 50, RemoteTimeout: md(200 * time.Millisecond)},
		Options{Logger: slogTo(logs)})
	var mu sync.Mutex
	var waits []time.Duration
	q.sleep = func(ctx context.Context, d time.Duration) bool {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		return sleepCtx(ctx, d)
	}
	const n = 500
	for i := 0; i < n; i += 25 {
		q.Append(seq("seq", i, 25))
	}
	stop := run(q)
	defer stop()
	waitFor(t, "delivery", delivered(q))

	checkSeq(t, rcv.samples("seq"), 0, n)
	if got := counterValue(t, q.m.sent); got != n {
		t.Errorf("samples sent = %v, want %d", got, n)
	}
	// All six failures hit the first batch of 50.
	if got := counterValue(t, q.m.failed); got != 6*50 {
		t.Errorf("samples failed = %v, want %d", got, 6*50)
	}
	mu.Lock()
	if len(waits) != 6 || waits[3] < time.Second {
		t.Errorf("waits = %v: want 6, the 4th honouring Retry-After: 1", waits)
	}
	mu.Unlock()
	if c := strings.Count(logs.String(), "retrying with backoff"); c != 1 {
		t.Errorf("%d retry warnings for one outage, want 1:\n%s", c, logs)
	}
	if !strings.Contains(logs.String(), "remote write recovered") {
		t.Errorf("no recovery logged:\n%s", logs)
	}
	if st := q.Status(); !strings.Contains(st.LastError, "remote_timeout") {
		t.Errorf("last error = %q, want the timeout", st.LastError)
	}
}

// TestRejectedBatchesAreDropped: a 400 drops that batch, counts it, logs it
// once, and the batches after it still go.
func TestRejectedBatchesAreDropped(t *testing.T) {
	rcv := newReceiver(t, func(_ int, wr *prompb.WriteRequest, w http.ResponseWriter) bool {
		if labelValue(wr.Timeseries[0].Labels, "__name__") == "bad" {
			http.Error(w, "out of order sample", http.StatusBadRequest)
			return false
		}
		return true
	})
	logs := &logBuffer{}
	q := newQueue(t, config.RemoteWrite{URL: rcv.url()}, Options{Logger: slogTo(logs)})
	ctx := context.Background()
	for _, part := range [][]Sample{seq("good", 0, 10), seq("bad", 0, 7), seq("bad", 7, 3), seq("good", 10, 10)} {
		q.Append(part)
		q.flush(ctx, true) // one batch each
	}
	stop := run(q)
	defer stop()
	waitFor(t, "delivery", delivered(q))

	checkSeq(t, rcv.samples("good"), 0, 20)
	if got := counterValue(t, q.m.drops.WithLabelValues(reasonRejected)); got != 10 {
		t.Errorf("rejected samples = %v, want 10", got)
	}
	if got := counterValue(t, q.m.sent); got != 20 {
		t.Errorf("sent = %v, want 20", got)
	}
	if c := strings.Count(logs.String(), "rejected a batch"); c != 1 {
		t.Errorf("%d rejection logs for two rejections in a row, want 1:\n%s", c, logs)
	}
	if !strings.Contains(logs.String(), "rejected_batches=2 dropped_samples=10") {
		t.Errorf("recovery does not sum up the rejections:\n%s", logs)
	}
	if st := q.Status(); !strings.Contains(st.LastError, "400") {
		t.Errorf("last error = %q", st.LastError)
	}
}
