package store

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// The crash and disk-full tests run the store in a child process (this test
// binary again), selected by this variable.
const helperEnv = "GPUWD_STORE_TEST_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "ingest":
		os.Exit(ingestUntilKilled())
	case "diskfull":
		os.Exit(diskFullChild())
	}
	os.Exit(m.Run())
}

const crashSeries = 50

// crashOptions compact every minute, so kills land during compaction too.
func crashOptions(c *clock) Options {
	return Options{Now: c.Now, Window: time.Minute, Grace: time.Second, MaintenanceInterval: time.Hour}
}

// ingestUntilKilled appends batch i (every series = i at t0+i s) forever,
// printing "acked i" once Append has returned.
func ingestUntilKilled() int {
	start, _ := strconv.Atoi(os.Getenv("GPUWD_START"))
	c := &clock{t: t0.Add(time.Duration(start) * time.Second)}
	s, err := Open(context.Background(), os.Getenv("GPUWD_DIR"), crashOptions(c))
	if err != nil {
		fmt.Println("open:", err)
		return 1
	}
	refs := make([]SeriesRef, crashSeries)
	for j := range refs {
		refs[j], _ = s.Ref(labels.FromStrings("__name__", "crash", "series", strconv.Itoa(j)))
	}
	out := bufio.NewWriter(os.Stdout)
	batch := make([]Sample, crashSeries)
	for i := start; ; i++ {
		ts := t0.Add(time.Duration(i) * time.Second)
		c.Set(ts)
		for j, ref := range refs {
			batch[j] = Sample{Ref: ref, T: ts.UnixMilli(), V: float64(i)}
		}
		if err := s.Append(context.Background(), batch); err != nil {
			fmt.Println("append:", err)
			return 1
		}
		fmt.Fprintf(out, "acked %d\n", i)
		out.Flush()
		if i%20 == 0 {
			go s.Maintain(context.Background())
		}
	}
}

// TestKill9LosesNothingAcknowledged kills a writing process at random points,
// several times over the same database, and checks after each restart that
// the database opens cleanly and every acknowledged sample is there.
func TestKill9LosesNothingAcknowledged(t *testing.T) {
	dir := t.TempDir()
	next := 0
	for round, killAfter := range []int{150, 237, 90, 311} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"=ingest", "GPUWD_DIR="+dir, "GPUWD_START="+strconv.Itoa(next))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		acked := -1
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			n, err := strconv.Atoi(strings.TrimPrefix(line, "acked "))
			if err != nil {
				cmd.Process.Kill()
				t.Fatalf("helper: %s", line)
			}
			acked = n
			if acked-next >= killAfter {
				cmd.Process.Signal(syscall.SIGKILL)
				break
			}
		}
		cmd.Wait()
		if acked < next {
			t.Fatalf("round %d: helper acknowledged nothing", round)
		}

		c := &clock{t: t0.Add(time.Duration(acked) * time.Second)}
		s, err := Open(context.Background(), dir, crashOptions(c))
		if err != nil {
			t.Fatalf("round %d: reopen after kill -9: %v", round, err)
		}
		var check string
		if err := s.db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
			t.Fatalf("round %d: integrity_check = %q, %v", round, check, err)
		}
		got := read(t, s, 0, math.MaxInt64, "", name("crash"))
		if len(got) != crashSeries {
			t.Fatalf("round %d: %d series, want %d", round, len(got), crashSeries)
		}
		last := -1
		for series, pts := range got {
			for i := 0; i <= acked; i++ {
				if i >= len(pts) || pts[i] != (point{t0.Add(time.Duration(i) * time.Second).UnixMilli(), float64(i)}) {
					t.Fatalf("round %d: %s: acknowledged sample %d missing or wrong (have %d samples)", round, series, i, len(pts))
				}
			}
			last = max(last, int(pts[len(pts)-1].V))
		}
		t.Logf("round %d: killed after acknowledging %d, found every one (newest %d)", round, acked, last)
		s.Close()
		next = last + 1
	}
}
