package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
	"github.com/prometheus/prometheus/model/labels"
)

// TestDiskFull fills a small real file system (a tmpfs mounted in a private
// mount namespace, so no root is needed where user namespaces are allowed)
// until writes fail, then frees space and checks that ingestion resumes and
// nothing acknowledged was lost.
func TestDiskFull(t *testing.T) {
	unshare := testenv.LookPath(t, "unshare")
	dir := t.TempDir()
	cmd := exec.Command(unshare, "--map-root-user", "--mount", "--propagation", "private", os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=diskfull", "GPUWD_DIR="+dir)
	out, err := cmd.CombinedOutput()
	t.Logf("child:\n%s", out)
	if strings.Contains(string(out), "mount tmpfs:") {
		testenv.Missing(t, "cannot mount a tmpfs in a user namespace here")
	}
	if err != nil || !strings.Contains(string(out), "disk-full test passed") {
		t.Fatalf("disk-full child failed: %v", err)
	}
}

// diskFullChild runs inside the private mount namespace.
func diskFullChild() int {
	dir := os.Getenv("GPUWD_DIR")
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=4m"); err != nil {
		fmt.Println("mount tmpfs:", err)
		return 1
	}
	if err := runDiskFull(dir); err != nil {
		fmt.Println("FAIL:", err)
		return 1
	}
	fmt.Println("disk-full test passed")
	return 0
}

func runDiskFull(dir string) error {
	ctx := context.Background()
	c := &clock{t: t0}
	opts := Options{Now: c.Now, MaintenanceInterval: time.Hour}
	s, err := Open(ctx, dir, opts)
	if err != nil {
		return err
	}
	// Space to give back later.
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 1<<20), 0o600); err != nil {
		return err
	}
	refs := make([]SeriesRef, 200)
	for j := range refs {
		refs[j], _ = s.Ref(labels.FromStrings("__name__", "fill", "series", strconv.Itoa(j)))
	}
	batch := make([]Sample, len(refs))
	appendAt := func(i int) error {
		ts := t0.Add(time.Duration(i) * time.Second)
		c.Set(ts)
		for j, ref := range refs {
			batch[j] = Sample{Ref: ref, T: ts.UnixMilli(), V: float64(i)}
		}
		return s.Append(ctx, batch)
	}
	acked, i, full := 0, 0, false
	for ; i < 100_000 && !full; i++ {
		err := appendAt(i)
		if err == nil {
			acked++
			continue
		}
		if !errors.Is(err, ErrDiskFull) {
			return fmt.Errorf("append %d failed, but not with ErrDiskFull: %v", i, err)
		}
		fmt.Printf("append %d: %v\n", i, err)
		if !strings.Contains(err.Error(), "disk full") {
			return fmt.Errorf("error does not say the disk is full: %v", err)
		}
		full = true
	}
	if !full {
		return fmt.Errorf("the disk never filled after %d appends", i)
	}
	if !errors.Is(s.WriteError(), ErrDiskFull) {
		return fmt.Errorf("WriteError() = %v while the disk is full", s.WriteError())
	}
	if err := appendAt(i + 1); !errors.Is(err, ErrDiskFull) {
		return fmt.Errorf("append while still full: %v", err)
	}
	// Queries still see the newest refused sample (not the ones before it).
	if n, t, v, err := readSeries(ctx, s, "7"); err != nil || n != acked+1 || t != t0.Add(time.Duration(i+1)*time.Second).UnixMilli() || v != float64(i+1) {
		return fmt.Errorf("while full, series 7 reads %d samples, the last %v at %d (%v); want %d, the last the held %d", n, v, t, err, acked+1, i+1)
	}
	if err := os.Remove(filler); err != nil {
		return err
	}
	resumed := 0
	for k := i + 2; k < i+12; k++ {
		if err := appendAt(k); err != nil {
			return fmt.Errorf("append after freeing space: %v", err)
		}
		resumed++
	}
	if s.WriteError() != nil {
		return fmt.Errorf("WriteError() = %v after recovery", s.WriteError())
	}
	if err := s.Close(); err != nil {
		return err
	}
	s, err = Open(ctx, dir, opts)
	if err != nil {
		return fmt.Errorf("reopen: %v", err)
	}
	defer s.Close()
	var check string
	if err := s.db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		return fmt.Errorf("integrity_check = %q, %v", check, err)
	}
	n, _, _, err := readSeries(ctx, s, "7")
	if err != nil {
		return err
	}
	if n != acked+resumed {
		return fmt.Errorf("%d samples stored, %d acknowledged", n, acked+resumed)
	}
	fmt.Printf("filled after %d appends; %d acknowledged before and %d after, all present\n", i, acked, resumed)
	return nil
}

// readSeries counts the samples of the "fill" series with this label and
// returns the last one.
func readSeries(ctx context.Context, s *Store, series string) (n int, t int64, v float64, err error) {
	q, _ := s.Querier(0, math.MaxInt64)
	set := q.Select(ctx, false, nil, labels.MustNewMatcher(labels.MatchEqual, "series", series))
	if !set.Next() {
		return 0, 0, 0, fmt.Errorf("series %s lost: %v", series, set.Err())
	}
	it := set.At().Iterator(nil)
	for it.Next() != 0 {
		n++
		t, v = it.At()
	}
	return n, t, v, it.Err()
}
