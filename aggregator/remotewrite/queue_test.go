package remotewrite

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
)

// TestQueueSurvivesRestart: samples appended while the receiver is down are
// on disk when the queue closes, and the next queue on the same directory
// delivers them all, once, in order.
func TestQueueSurvivesRestart(t *testing.T) {
	ln := listenLoopback(t, "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // down: connection refused
	cfg := config.RemoteWrite{URL: "http://" + addr + "/api/v1/write", Name: "lts", MaxSamplesPerSend: 40}
	dir := t.TempDir()
	reg := prometheus.NewRegistry()

	q := newQueue(t, cfg, Options{Dir: dir, Registerer: reg})
	q.Append(seq("seq", 0, 100))
	stop := run(q)
	waitFor(t, "a failed attempt", func() bool { return q.Status().LastError != "" })
	stop()
	q.Append(seq("seq", 100, 30)) // after Run returned: written by Close
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "lts.db")); err != nil {
		t.Fatal(err)
	}

	rcv := startReceiver(t, listenLoopback(t, addr), nil)
	q = newQueue(t, cfg, Options{Dir: dir, Registerer: reg})
	if st := q.Status(); st.PendingSamples != 130 || st.PendingBatches != 4 || st.Oldest.UnixMilli() != t0 {
		t.Errorf("reopened queue: %+v, want 130 samples in 4 batches from t0", st)
	}
	stop = run(q)
	defer stop()
	waitFor(t, "delivery", delivered(q))
	checkSeq(t, rcv.samples("seq"), 0, 130)
}

// TestQueueBytesLimit drops the oldest batches beyond MaxQueueBytes; the
// newest are sent, in order.
func TestQueueBytesLimit(t *testing.T) {
	rcv := newReceiver(t, nil)
	q := newQueue(t, config.RemoteWrite{URL: rcv.url(), MaxSamplesPerSend: 10}, Options{})
	ctx := context.Background()
	q.Append(seq("seq", 0, 10))
	q.flush(ctx, true)
	one := q.Status().PendingBytes
	q.opts.MaxQueueBytes = 3 * one
	for i := 10; i < 100; i += 10 {
		q.Append(seq("seq", i, 10))
		q.flush(ctx, true)
	}
	st := q.Status()
	if st.PendingBytes > 3*one || st.PendingBatches < 2 {
		t.Errorf("queue holds %d batches, %d bytes; limit %d", st.PendingBatches, st.PendingBytes, 3*one)
	}
	dropped := int(counterValue(t, q.m.drops.WithLabelValues(reasonQueueFull)))
	if dropped == 0 || int64(dropped)+st.PendingSamples != 100 {
		t.Errorf("dropped %d, pending %d: want 100 in all", dropped, st.PendingSamples)
	}
	stop := run(q)
	defer stop()
	waitFor(t, "delivery", delivered(q))
	checkSeq(t, rcv.samples("seq"), dropped, 100-dropped)
}

// TestConfigChecks: reserved headers and duplicate names are refused.
func TestConfigChecks(t *testing.T) {
	dir := t.TempDir()
	if _, err := New(config.RemoteWrite{URL: "http://127.0.0.1:1/w", Headers: map[string]string{"authorization": "x"}}, Options{Dir: dir}); err == nil {
		t.Error("an Authorization header was accepted")
	}
	if _, err := New(config.RemoteWrite{URL: "ftp://u:p@host/w"}, Options{Dir: dir}); err == nil || strings.Contains(err.Error(), "u:p") {
		t.Errorf("bad URL: %v", err)
	}
	reg := prometheus.NewRegistry()
	cfg := config.RemoteWrite{URL: "http://127.0.0.1:1/w", Name: "same"}
	q := newQueue(t, cfg, Options{Dir: dir, Registerer: reg})
	if _, err := New(cfg, Options{Dir: t.TempDir(), Registerer: reg}); err == nil {
		t.Error("two queues with one name share the metrics")
	}
	if _, err := New(cfg, Options{Dir: dir}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("two queues on one file: %v", err)
	}
	q.Close()
	newQueue(t, cfg, Options{Dir: dir, Registerer: reg}) // free again
}

func TestFileName(t *testing.T) {
	seen := map[string]string{}
	for name, want := range map[string]string{"prod": "prod.db", "mimir-eu.1": "mimir-eu.1.db"} {
		if got := fileName(name); got != want {
			t.Errorf("fileName(%q) = %q, want %q", name, got, want)
		}
	}
	for _, name := range []string{"a/b", "a_b", "a:b", "../x", ".hidden", "", "mimir.example:9009"} {
		f := fileName(name)
		if strings.ContainsAny(f, "/:") || strings.HasPrefix(f, ".") || filepath.Base(f) != f {
			t.Errorf("fileName(%q) = %q", name, f)
		}
		if other, dup := seen[f]; dup {
			t.Errorf("%q and %q share %s", name, other, f)
		}
		seen[f] = name
	}
}
