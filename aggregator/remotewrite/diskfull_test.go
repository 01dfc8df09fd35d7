//go:build linux

package remotewrite

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
)

// diskFullEnv hands TestDiskFullChild the directory to mount a tmpfs on.
const diskFullEnv = "GPUWD_REMOTEWRITE_DISKFULL_DIR"

// TestDiskFull fills a small real file system (a tmpfs in a private mount
// namespace, so no root is needed where user namespaces are allowed) while
// batches are written to the queue file, then frees space: the batches wait
// in memory meanwhile, and all of them are delivered afterwards.
func TestDiskFull(t *testing.T) {
	unshare := testenv.LookPath(t, "unshare")
	cmd := exec.Command(unshare, "--map-root-user", "--mount", "--propagation", "private",
		os.Args[0], "-test.run=^TestDiskFullChild$", "-test.v")
	cmd.Env = append(os.Environ(), diskFullEnv+"="+t.TempDir())
	out, err := cmd.CombinedOutput()
	t.Logf("child:\n%s", out)
	if strings.Contains(string(out), "mount tmpfs:") || strings.Contains(string(out), "unshare failed") {
		testenv.Missing(t, "cannot mount a tmpfs in a user namespace here")
	}
	if err != nil || !strings.Contains(string(out), "--- PASS: TestDiskFullChild") {
		t.Fatalf("disk-full child failed: %v", err)
	}
}

// TestDiskFullChild is TestDiskFull's part inside the mount namespace.
func TestDiskFullChild(t *testing.T) {
	dir := os.Getenv(diskFullEnv)
	if dir == "" {
		t.Skip("run by TestDiskFull")
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=2m"); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	defer syscall.Unmount(dir, 0)
	rcv := newReceiver(t, nil)
	logs := &logBuffer{}
	q := newQueue(t, config.RemoteWrite{URL: rcv.url(), MaxSamplesPerSend: 200}, Options{Dir: dir, Logger: slogTo(io.MultiWriter(logs, testWriter{t}))})
	ctx := context.Background()

	filler := filepath.Join(dir, "filler")
	fill(t, filler)
	if err := os.Truncate(filler, fileSize(t, filler)-256<<10); err != nil { // room for a few batches
		t.Fatal(err)
	}
	// Random values do not compress: every batch takes its room.
	ls := labels.FromStrings("__name__", "fill", "job", "gpuwd")
	var sent []float64
	appendBatch := func() {
		ss := make([]Sample, 200)
		for i := range ss {
			ss[i] = Sample{Labels: ls, T: t0 + int64(len(sent))*1000, V: rand.Float64()}
			sent = append(sent, ss[i].V)
		}
		q.Append(ss)
		q.flush(ctx, true)
	}
	for q.Status().QueueFileError == "" && len(sent) < 1e6 {
		appendBatch()
	}
	st := q.Status()
	t.Logf("full after %d samples: %+v", len(sent), st)
	if !strings.Contains(st.QueueFileError, "full") || st.UnsavedBatches != 1 || st.PendingSamples != int64(len(sent)) {
		t.Fatalf("status when the disk filled: %+v", st)
	}
	appendBatch() // still full: held in memory too
	if st := q.Status(); st.UnsavedBatches != 2 || st.QueueFileError == "" {
		t.Fatalf("status while full: %+v", st)
	}
	if c := strings.Count(logs.String(), "cannot write the remote-write queue file"); c != 1 {
		t.Errorf("the full disk was logged %d times, want once", c)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	q.flush(ctx, true) // the retry
	if st := q.Status(); st.UnsavedBatches != 0 || st.QueueFileError != "" || !strings.Contains(logs.String(), "writable again") {
		t.Fatalf("status after freeing space: %+v", st)
	}
	stop := run(q)
	waitFor(t, "delivery", delivered(q))
	stop()
	got := rcv.samples("fill")
	if len(got) != len(sent) {
		t.Fatalf("received %d samples, sent %d", len(got), len(sent))
	}
	for i, s := range got {
		if s.Timestamp != t0+int64(i)*1000 || s.Value != sent[i] {
			t.Fatalf("sample %d = %v@%d, want %v@%d", i, s.Value, s.Timestamp, sent[i], t0+int64(i)*1000)
		}
	}
	var check string
	if err := q.file.db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check = %q, %v", check, err)
	}
	if err := q.Close(); err != nil {
		t.Error(err)
	}
}

// fill writes to path until the file system is full.
func fill(t *testing.T, path string) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return
		}
	}
}

func fileSize(t *testing.T, path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}
