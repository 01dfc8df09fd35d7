package alertmanager

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/chattest"
)

// waitAlerts waits until srv has received n alerts in all.
func waitAlerts(t *testing.T, srv *amServer, n int) []PostableAlert {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		var got []PostableAlert
		posts := srv.Received()
		for _, p := range posts {
			for _, a := range p.Alerts {
				got = append(got, PostableAlert{Labels: a.Labels})
			}
		}
		if len(got) >= n {
			return got
		}
		if err := srv.WaitCount(ctx, len(posts)+1); err != nil {
			t.Fatalf("%d alerts arrived, want %d", len(got), n)
		}
	}
}

// waitFor polls cond until it holds, failing the test after 10s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition never held")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func fastOptions(reg prometheus.Registerer, logs *bytes.Buffer) Options {
	return Options{
		MinBackoff: time.Millisecond,
		MaxBackoff: 5 * time.Millisecond,
		RetryFor:   2 * time.Second,
		Registerer: reg,
		Logger:     slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

func TestForwarderSendsBatchesToEveryAlertmanager(t *testing.T) {
	a, b := chattest.NewAlertmanager(t), chattest.NewAlertmanager(t)
	b.FailNext(2, 503, 0) // retried within the batch
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	f, err := NewForwarder([]*Client{newClient(t, Config{URL: amURL(a)}), newClient(t, Config{URL: amURL(b)})}, fastOptions(reg, &logs))
	if err != nil {
		t.Fatal(err)
	}
	go f.Run(context.Background())
	defer f.Stop()
	var alerts []PostableAlert
	for i := range 150 {
		alerts = append(alerts, alert(i))
	}
	f.Send(alerts...)
	waitAlerts(t, a, 150)
	waitAlerts(t, b, 150)
	// The server records a batch before the client reads the reply: wait
	// for the forwarder to count it too, or Stop would interrupt it and
	// the drain would send it again (harmless, but not what is tested).
	for _, srv := range []*amServer{a, b} {
		waitFor(t, func() bool { return testutil.ToFloat64(f.metrics.sent.WithLabelValues(srv.BaseURL())) == 150 })
	}
	for _, srv := range []*amServer{a, b} {
		for _, p := range srv.Received() {
			if len(p.Alerts) > DefaultMaxBatchSize {
				t.Errorf("a batch of %d alerts", len(p.Alerts))
			}
		}
	}
	f.Stop()
	for _, srv := range []*amServer{a, b} {
		if got := testutil.ToFloat64(f.metrics.sent.WithLabelValues(srv.BaseURL())); got != 150 {
			t.Errorf("sent_total{alertmanager=%q} = %v, want 150", srv.BaseURL(), got)
		}
	}
	if got := testutil.ToFloat64(f.metrics.errors.WithLabelValues(b.BaseURL())); got != 0 {
		t.Errorf("errors_total = %v after retries that succeeded", got)
	}
	out, err := testutil.CollectAndLint(f.metrics.sent)
	if err != nil || len(out) > 0 {
		t.Errorf("lint: %v %v", out, err)
	}
	assertNoToken(t, reg, logs.String())
}

func TestForwarderPermanentErrorIsNotRetried(t *testing.T) {
	srv := chattest.NewAlertmanager(t)
	srv.FailNext(1, 400, 0)
	var logs bytes.Buffer
	f, err := NewForwarder([]*Client{newClient(t, Config{URL: amURL(srv)})}, fastOptions(nil, &logs))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { f.Run(context.Background()); close(done) }()
	f.Send(alert(0), alert(1))
	// Stopping while the request is in flight would cut it short and send
	// the batch again in the drain: wait for its answer first.
	waitFor(t, func() bool { return testutil.ToFloat64(f.metrics.errors.WithLabelValues(srv.BaseURL())) > 0 })
	f.Stop()
	<-done
	if srv.Attempts() != 1 {
		t.Errorf("%d attempts; a 400 must not be retried", srv.Attempts())
	}
	if got := testutil.ToFloat64(f.metrics.errors.WithLabelValues(srv.BaseURL())); got != 2 {
		t.Errorf("errors_total %v, want 2", got)
	}
	if !strings.Contains(logs.String(), "could not send") || strings.Contains(logs.String(), token) {
		t.Errorf("logs: %s", logs.String())
	}
}

func TestForwarderOutageGivesUpAfterRetryFor(t *testing.T) {
	srv := chattest.NewAlertmanager(t)
	srv.SetDown(true)
	var logs bytes.Buffer
	o := fastOptions(nil, &logs)
	o.RetryFor = 50 * time.Millisecond
	f, err := NewForwarder([]*Client{newClient(t, Config{URL: amURL(srv)})}, o)
	if err != nil {
		t.Fatal(err)
	}
	go f.Run(context.Background())
	defer f.Stop()
	f.Send(alert(0))
	waitFor(t, func() bool { return testutil.ToFloat64(f.metrics.errors.WithLabelValues(srv.BaseURL())) == 1 })
	if srv.Attempts() < 2 {
		t.Errorf("%d attempts: 503 must be retried", srv.Attempts())
	}
	srv.SetDown(false)
	f.Send(alert(1))
	if got := waitAlerts(t, srv, 1); got[0].Labels["gpu"] != "1" {
		t.Errorf("after the outage got %v", got)
	}
}

func TestForwarderQueueDropsOldest(t *testing.T) {
	srv := chattest.NewAlertmanager(t)
	var logs bytes.Buffer
	o := fastOptions(nil, &logs)
	o.QueueCapacity = 10
	f, err := NewForwarder([]*Client{newClient(t, Config{URL: amURL(srv)})}, o)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 25 {
		f.Send(alert(i))
	}
	f.Send(alert(25), alert(26)) // and a burst larger than what is free
	if got := testutil.ToFloat64(f.metrics.dropped); got != 17 {
		t.Errorf("dropped_total %v, want 17", got)
	}
	if got := testutil.ToFloat64(f.metrics.queueLength); got != 10 {
		t.Errorf("queue_length %v, want 10", got)
	}
	go f.Run(context.Background())
	got := waitAlerts(t, srv, 10)
	f.Stop()
	if first := got[0].Labels["job_id"]; first != "4217" {
		t.Errorf("first alert sent is job %s, want 4217 (the oldest were dropped)", first)
	}
	if got := testutil.ToFloat64(f.metrics.queueLength); got != 0 {
		t.Errorf("queue_length %v after sending", got)
	}
}

func TestForwarderStopDrains(t *testing.T) {
	srv := chattest.NewAlertmanager(t)
	var logs bytes.Buffer
	f, err := NewForwarder([]*Client{newClient(t, Config{URL: amURL(srv)})}, fastOptions(nil, &logs))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	for i := range 200 {
		f.Send(alert(i))
	}
	cancel()
	<-done
	f.Stop() // after Run returned: no wait, no panic
	if got := len(waitAlerts(t, srv, 200)); got < 200 {
		t.Errorf("%d of 200 alerts sent before shutdown", got)
	}
}

func TestForwarderSetClients(t *testing.T) {
	a, b := chattest.NewAlertmanager(t), chattest.NewAlertmanager(t)
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	f, err := NewForwarder([]*Client{newClient(t, Config{URL: amURL(a)})}, fastOptions(reg, &logs))
	if err != nil {
		t.Fatal(err)
	}
	f.SetClients([]*Client{newClient(t, Config{URL: amURL(b)})})
	go f.Run(context.Background())
	f.Send(alert(0))
	waitAlerts(t, b, 1)
	f.Stop()
	if a.Attempts() != 0 {
		t.Errorf("the removed Alertmanager got %d requests", a.Attempts())
	}
	if n := testutil.CollectAndCount(f.metrics.sent); n != 1 {
		t.Errorf("%d sent_total series, want only the current Alertmanager's", n)
	}
	if _, err := NewForwarder(nil, Options{Registerer: reg}); err == nil {
		t.Error("registering the metrics twice did not fail")
	}
}

func assertNoToken(t *testing.T, reg *prometheus.Registry, logs string) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if s := mf.String(); strings.Contains(s, token) || strings.Contains(s, "/am") {
			t.Errorf("metric %s leaks the URL: %s", mf.GetName(), s)
		}
	}
	if strings.Contains(logs, token) {
		t.Errorf("logs leak the token: %s", logs)
	}
}
