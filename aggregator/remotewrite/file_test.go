package remotewrite

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
)

// TestQueueFileShrinks: the pages of a backlog go back to the file system
// once it has been sent.
func TestQueueFileShrinks(t *testing.T) {
	rcv := newReceiver(t, nil)
	dir := t.TempDir()
	q := newQueue(t, config.RemoteWrite{URL: rcv.url(), Name: "shrink", MaxSamplesPerSend: 500}, Options{Dir: dir})
	q.vacuumAfter = 1
	var mode int
	if err := q.file.db.QueryRow("PRAGMA auto_vacuum").Scan(&mode); err != nil || mode != 2 {
		t.Fatalf("auto_vacuum = %d (%v), want 2 (incremental)", mode, err)
	}
	ls := labels.FromStrings("__name__", "noise")
	for i := range 40 {
		ss := make([]Sample, 500)
		for j := range ss {
			ss[j] = Sample{Labels: ls, T: t0 + int64(i*500+j), V: rand.Float64()}
		}
		q.Append(ss)
		q.flush(context.Background(), true)
	}
	size := func() int64 {
		var n int64
		for _, f := range []string{"shrink.db", "shrink.db-wal"} {
			if st, err := os.Stat(filepath.Join(dir, f)); err == nil {
				n += st.Size()
			}
		}
		return n
	}
	full := size()
	stop := run(q)
	defer stop()
	waitFor(t, "delivery", delivered(q))
	waitFor(t, "the file to shrink", func() bool { return size() < full/4 })
	if n := rcv.acceptedCount(); n != 40*500 {
		t.Errorf("%d samples delivered, want %d", n, 40*500)
	}
}

// TestNewerQueueFileRefused: a file written by a newer gpuwd is not guessed
// at.
func TestNewerQueueFileRefused(t *testing.T) {
	dir := t.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA user_version = 9"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = New(config.RemoteWrite{URL: "http://127.0.0.1:1/w", Name: "x"}, Options{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("New = %v, want a refusal", err)
	}
}
