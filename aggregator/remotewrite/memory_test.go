package remotewrite

import (
	"context"
	"strings"
	"testing"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
)

// readOnly makes the queue file refuse writes, as a full disk would, on the
// queue's single connection.
func readOnly(t *testing.T, q *Queue, on bool) {
	t.Helper()
	v := "OFF"
	if on {
		v = "ON"
	}
	if _, err := q.file.db.Exec("PRAGMA query_only = " + v); err != nil {
		t.Fatal(err)
	}
}

// TestUnwritableQueueFile: batches that cannot be written wait in memory,
// the error is in Status and logged once, sending goes on, and once the
// file takes writes again everything is delivered once, in order.
func TestUnwritableQueueFile(t *testing.T) {
	rcv := newReceiver(t, nil)
	logs := &logBuffer{}
	q := newQueue(t, config.RemoteWrite{URL: rcv.url(), MaxSamplesPerSend: 10}, Options{Logger: slogTo(logs)})
	ctx := context.Background()
	q.Append(seq("seq", 0, 10))
	q.flush(ctx, true) // on disk before the trouble
	readOnly(t, q, true)
	for i := 10; i < 50; i += 10 {
		q.Append(seq("seq", i, 10))
		q.flush(ctx, true)
	}
	st := q.Status()
	if st.QueueFileError == "" || st.UnsavedBatches != 4 || st.PendingBatches != 1 || st.PendingSamples != 50 || st.Oldest.UnixMilli() != t0 {
		t.Fatalf("status while unwritable: %+v", st)
	}
	if got := counterValue(t, q.m.writeErrors); got != 4 {
		t.Errorf("write errors = %v, want 4", got)
	}
	if c := strings.Count(logs.String(), "cannot write the remote-write queue file"); c != 1 {
		t.Errorf("logged %d times, want once:\n%s", c, logs)
	}

	// The batch on disk is sent although its row cannot be deleted yet.
	stop := run(q)
	defer stop()
	waitFor(t, "the first batch", func() bool { return len(rcv.samples("seq")) == 10 })
	readOnly(t, q, false)
	waitFor(t, "delivery", delivered(q))
	checkSeq(t, rcv.samples("seq"), 0, 50)
	if !strings.Contains(logs.String(), "writable again") {
		t.Errorf("recovery not logged:\n%s", logs)
	}
	var rows int
	if err := q.file.db.QueryRow("SELECT count(*) FROM batches").Scan(&rows); err != nil || rows != 0 {
		t.Errorf("%d rows left in the queue file (%v)", rows, err)
	}
}

// TestMemoryBounds: what cannot reach the queue file is bounded by
// MaxMemoryBytes, the oldest dropped and counted.
func TestMemoryBounds(t *testing.T) {
	rcv := newReceiver(t, nil)
	logs := &logBuffer{}
	q := newQueue(t, config.RemoteWrite{URL: rcv.url(), MaxSamplesPerSend: 10}, Options{Logger: slogTo(logs)})
	ctx := context.Background()
	readOnly(t, q, true)
	q.Append(seq("seq", 0, 10))
	q.flush(ctx, true)
	q.opts.MaxMemoryBytes = 3 * int64(len(q.unsaved[0].body))
	for i := 10; i < 100; i += 10 {
		q.Append(seq("seq", i, 10))
		q.flush(ctx, true)
	}
	dropped := int(counterValue(t, q.m.drops.WithLabelValues(reasonMemoryFull)))
	st := q.Status()
	if dropped == 0 || st.UnsavedBatches > 3 || int64(dropped)+st.PendingSamples != 100 {
		t.Fatalf("dropped %d; status %+v", dropped, st)
	}
	if c := strings.Count(logs.String(), "dropping the oldest samples"); c != 1 {
		t.Errorf("memory drops logged %d times, want once", c)
	}
	readOnly(t, q, false)
	stop := run(q)
	defer stop()
	waitFor(t, "delivery", delivered(q))
	checkSeq(t, rcv.samples("seq"), dropped, 100-dropped)

	// Append alone is bounded too, when nothing flushes.
	stop()
	before := counterValue(t, q.m.drops.WithLabelValues(reasonMemoryFull))
	q.maxBuf = 50 // as New derives it from MaxMemoryBytes
	q.Append(seq("more", 0, q.maxBuf+7))
	if got := counterValue(t, q.m.drops.WithLabelValues(reasonMemoryFull)) - before; got != 7 || q.Status().BufferedSamples != q.maxBuf {
		t.Errorf("appending %d over the bound dropped %v", 7, got)
	}
}
