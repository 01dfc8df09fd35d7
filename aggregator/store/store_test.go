package store

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// t0 is a UTC midnight, so days and windows line up with test data.
var t0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// openTest opens a store in dir whose maintenance only runs when the test
// calls Maintain.
func openTest(t testing.TB, dir string, c *clock) *Store {
	t.Helper()
	s, err := Open(context.Background(), dir, Options{Now: c.Now, MaintenanceInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustRef(t testing.TB, s *Store, kv ...string) SeriesRef {
	t.Helper()
	ref, err := s.Ref(labels.FromStrings(kv...))
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

type point struct {
	T int64
	V float64
}

// read returns the samples of every series matching ms in [mint, maxt], by
// series string, through the same Querier the PromQL engine uses.
func read(t testing.TB, s *Store, mint, maxt int64, fn string, ms ...*labels.Matcher) map[string][]point {
	t.Helper()
	q, err := s.Querier(mint, maxt)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	set := q.Select(context.Background(), true, &storage.SelectHints{Start: mint, End: maxt, Func: fn}, ms...)
	out := map[string][]point{}
	var it chunkenc.Iterator
	for set.Next() {
		sr := set.At()
		it = sr.Iterator(it)
		var pts []point
		for it.Next() == chunkenc.ValFloat {
			ts, v := it.At()
			if ts >= mint && ts <= maxt {
				pts = append(pts, point{ts, v})
			}
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
		out[sr.Labels().String()] = pts
	}
	if err := set.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func name(n string) *labels.Matcher { return labels.MustNewMatcher(labels.MatchEqual, "__name__", n) }

// fill appends one sample per series every step from start for n steps,
// moving the clock along and running maintenance every maintainEvery steps
// (0: never). val(series, i) gives the value.
func fill(t testing.TB, s *Store, c *clock, refs []SeriesRef, start time.Time, step time.Duration, n, maintainEvery int, val func(j, i int) float64) {
	t.Helper()
	batch := make([]Sample, len(refs))
	for i := range n {
		ts := start.Add(time.Duration(i) * step)
		c.Set(ts)
		for j, ref := range refs {
			batch[j] = Sample{Ref: ref, T: ts.UnixMilli(), V: val(j, i)}
		}
		if err := s.Append(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
		if maintainEvery > 0 && i%maintainEvery == maintainEvery-1 {
			if err := s.Maintain(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestAppendAndReadHead(t *testing.T) {
	c := &clock{t: t0}
	s := openTest(t, t.TempDir(), c)
	a := mustRef(t, s, "__name__", "temp", "gpu", "0")
	b := mustRef(t, s, "__name__", "temp", "gpu", "1")
	if again := mustRef(t, s, "__name__", "temp", "gpu", "0"); again != a {
		t.Fatalf("Ref gave %d then %d for the same labels", a, again)
	}
	fill(t, s, c, []SeriesRef{a, b}, t0, 15*time.Second, 10, 0, func(j, i int) float64 { return float64(60 + j*10 + i) })
	got := read(t, s, t0.UnixMilli(), t0.Add(time.Hour).UnixMilli(), "", name("temp"))
	if len(got) != 2 {
		t.Fatalf("got %d series, want 2: %v", len(got), got)
	}
	pts := got[`{__name__="temp", gpu="1"}`]
	if len(pts) != 10 || pts[0] != (point{t0.UnixMilli(), 70}) || pts[9] != (point{t0.Add(135 * time.Second).UnixMilli(), 79}) {
		t.Errorf("gpu 1 samples: %v", pts)
	}
}

func TestRejectsOutOfOrderAndTooOld(t *testing.T) {
	c := &clock{t: t0.Add(3 * time.Hour)}
	s := openTest(t, t.TempDir(), c)
	ref := mustRef(t, s, "__name__", "x")
	now := c.Now().UnixMilli()
	ctx := context.Background()
	for _, smp := range []Sample{{ref, now, 1}, {ref, now - 1000, 2}, {ref, now, 3}, {ref, t0.UnixMilli(), 4}, {ref, now + 1000, 5}, {999, now, 6}} {
		if err := s.Append(ctx, []Sample{smp}); err != nil {
			t.Fatal(err)
		}
	}
	got := read(t, s, 0, math.MaxInt64, "", name("x"))[`{__name__="x"}`]
	want := []point{{now, 1}, {now + 1000, 5}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestCompactionKeepsEverySampleAcrossHeadAndChunks(t *testing.T) {
	c := &clock{t: t0}
	dir := t.TempDir()
	s := openTest(t, dir, c)
	var refs []SeriesRef
	for g := range 8 {
		refs = append(refs, mustRef(t, s, "__name__", "power", "gpu", string(rune('0'+g))))
	}
	const n = 4 * 240 // 4 h at 15 s
	val := func(j, i int) float64 { return float64(300000+j*1000+(i*7919)%5000) / 1000 }
	fill(t, s, c, refs, t0, 15*time.Second, n, 40, val)
	if s.compactedThrough.Load() <= t0.Add(3*time.Hour).UnixMilli() {
		t.Fatalf("compaction did not keep up: compacted through %v", time.UnixMilli(s.compactedThrough.Load()).UTC())
	}
	check := func(s *Store) {
		t.Helper()
		got := read(t, s, t0.UnixMilli(), t0.Add(5*time.Hour).UnixMilli(), "", name("power"))
		for j := range refs {
			pts := got[labels.FromStrings("__name__", "power", "gpu", string(rune('0'+j))).String()]
			if len(pts) != n {
				t.Fatalf("gpu %d: %d samples, want %d", j, len(pts), n)
			}
			for i, p := range pts {
				if want := (point{t0.Add(time.Duration(i) * 15 * time.Second).UnixMilli(), val(j, i)}); p != want {
					t.Fatalf("gpu %d sample %d: %v, want %v", j, i, p, want)
				}
			}
		}
		// A range entirely inside the chunks, starting mid-chunk.
		mid := read(t, s, t0.Add(47*time.Minute).UnixMilli(), t0.Add(61*time.Minute).UnixMilli(), "", name("power"))
		if pts := mid[`{__name__="power", gpu="3"}`]; len(pts) != 57 {
			t.Errorf("47m..61m: %d samples, want 57", len(pts))
		}
	}
	check(s)
	// The write-ahead rows dropped by compaction give their pages back.
	var free int64
	if err := s.db.QueryRow("PRAGMA freelist_count").Scan(&free); err != nil || free > 8 {
		t.Errorf("%d free pages after compaction (%v)", free, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check(openTest(t, dir, c))
}

func TestRestartReplaysAcknowledgedSamples(t *testing.T) {
	c := &clock{t: t0}
	dir := t.TempDir()
	s := openTest(t, dir, c)
	ref := mustRef(t, s, "__name__", "util", "gpu", "0")
	fill(t, s, c, []SeriesRef{ref}, t0, time.Second, 100, 0, func(_, i int) float64 { return float64(i) })
	s.SetMetadata("util", Metadata{Type: "gauge", Help: "GPU utilisation", Unit: "percent"})
	// Metadata is written with the next commit.
	fill(t, s, c, []SeriesRef{ref}, t0.Add(100*time.Second), time.Second, 1, 0, func(_, i int) float64 { return 100 })
	s.Close()

	s2 := openTest(t, dir, c)
	got := read(t, s2, 0, math.MaxInt64, "", name("util"))[`{__name__="util", gpu="0"}`]
	if len(got) != 101 || got[100].V != 100 {
		t.Fatalf("after restart: %d samples, last %v", len(got), got[len(got)-1])
	}
	if m := s2.Metadata()["util"]; m.Type != "gauge" || m.Unit != "percent" {
		t.Errorf("metadata after restart: %+v", m)
	}
	if again := mustRef(t, s2, "__name__", "util", "gpu", "0"); again != ref {
		t.Errorf("ref changed across restart: %d → %d", ref, again)
	}
	// Appending continues after the replayed samples.
	fill(t, s2, c, []SeriesRef{ref}, t0.Add(101*time.Second), time.Second, 1, 0, func(_, i int) float64 { return 7 })
	if got := read(t, s2, 0, math.MaxInt64, "", name("util"))[`{__name__="util", gpu="0"}`]; len(got) != 102 {
		t.Errorf("%d samples after appending post-restart, want 102", len(got))
	}
}

func TestStaleMarkersRoundTrip(t *testing.T) {
	c := &clock{t: t0}
	s := openTest(t, t.TempDir(), c)
	ref := mustRef(t, s, "__name__", "up")
	fill(t, s, c, []SeriesRef{ref}, t0, 15*time.Second, 240, 20, func(_, i int) float64 {
		if i == 100 {
			return math.Float64frombits(value.StaleNaN)
		}
		return 1
	})
	c.Set(t0.Add(2 * time.Hour))
	if err := s.Maintain(context.Background()); err != nil {
		t.Fatal(err)
	}
	pts := read(t, s, 0, math.MaxInt64, "", name("up"))[`{__name__="up"}`]
	if len(pts) != 240 || !value.IsStaleNaN(pts[100].V) || pts[101].V != 1 {
		t.Errorf("stale marker lost: %d samples, [100]=%v", len(pts), pts[100])
	}
}

func TestKV(t *testing.T) {
	c := &clock{t: t0}
	dir := t.TempDir()
	s := openTest(t, dir, c)
	ctx := context.Background()
	for k, v := range map[string]string{"agent/a": "1", "agent/b": "2", "other": "3"} {
		if err := s.Put(ctx, k, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(ctx, "agent/b"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	got, err := openTest(t, dir, c).List(ctx, "agent/")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || string(got["agent/a"]) != "1" {
		t.Errorf("List(agent/) = %q", got)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	c := &clock{t: t0}
	dir := t.TempDir()
	s := openTest(t, dir, c)
	if _, err := s.db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := Open(context.Background(), dir, Options{Now: c.Now})
	if err == nil {
		t.Fatal("opened a database from a newer schema")
	}
	t.Log(err)
	if want := filepath.Join(dir, FileName); !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "newer") {
		t.Errorf("error %q should name the file and say the schema is newer", err)
	}
}
