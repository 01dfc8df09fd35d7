package store

import (
	"context"
	"reflect"
	"testing"
	"time"
)

// The last hour of compacted windows is read from memory, and a read across
// its start joins SQLite's chunks and memory's without a gap or a repeat.
func TestRecentWindowsAreReadFromMemory(t *testing.T) {
	c := &clock{t: t0}
	s := openTest(t, t.TempDir(), c)
	var refs []SeriesRef
	for g := range 3 {
		refs = append(refs, mustRef(t, s, "__name__", "util", "gpu", string(rune('0'+g))))
	}
	const n = 4 * 240 // 4 h at 15 s, maintenance every 10 minutes
	fill(t, s, c, refs, t0, 15*time.Second, n, 40, func(j, i int) float64 { return float64(j*100 + i%97) })
	compacted := s.compactedThrough.Load()
	rec := s.recentFor(compacted)
	if rec == nil || rec.from != compacted-time.Hour.Milliseconds() {
		t.Fatalf("recent windows %+v, want the hour before %v", rec, time.UnixMilli(compacted).UTC())
	}
	if len(rec.segs) != len(refs) || len(rec.segs[refs[0]]) != 2 {
		t.Fatalf("recent chunks of %d series, %d for the first; want 3 series of 2 windows", len(rec.segs), len(rec.segs[refs[0]]))
	}
	// Every span read with the snapshot equals the same span read from SQLite.
	win := 30 * time.Minute
	for _, r := range []struct{ from, to time.Duration }{
		{0, 5 * time.Hour},
		{-2 * win, 0}, {-win - 7*time.Minute, -5 * time.Minute}, {-3*win + time.Minute, win},
		{-win, -win / 2}, {-time.Minute, time.Minute}, {-5 * win, -3 * win},
	} {
		mint := time.UnixMilli(compacted).Add(r.from).UnixMilli()
		maxt := time.UnixMilli(compacted).Add(r.to).UnixMilli()
		if r.from == 0 {
			mint, maxt = t0.UnixMilli(), t0.Add(r.to).UnixMilli()
		}
		withRec := read(t, s, mint, maxt, "", name("util"))
		s.recent.Store(nil)
		fromSQL := read(t, s, mint, maxt, "", name("util"))
		s.recent.Store(rec)
		if !reflect.DeepEqual(withRec, fromSQL) {
			t.Errorf("%v..%v: with recent windows %v\nfrom SQLite %v", r.from, r.to, withRec, fromSQL)
		}
		if len(withRec) != len(refs) {
			t.Errorf("%v..%v: %d series", r.from, r.to, len(withRec))
		}
	}
	// With the chunks gone from SQLite, the last hour still reads whole:
	// it comes from memory.
	if _, err := s.db.Exec("DELETE FROM "+tableName(rawTable, dayOf(compacted-1))+" WHERE mint >= ?", rec.from); err != nil {
		t.Fatal(err)
	}
	got := read(t, s, rec.from, compacted-1, "", name("util"))
	first := int((rec.from - t0.UnixMilli()) / 15000)
	if pts := got[`{__name__="util", gpu="2"}`]; len(pts) != 240 || pts[0] != (point{rec.from, float64(200 + first%97)}) {
		t.Errorf("the last compacted hour: %d samples from %v, want 240 from memory", len(pts), pts[:min(1, len(pts))])
	}
}

// Downsampling a day forgets the snapshot holding its windows, so reads of
// that day agree with its downsampled rows.
func TestDownsamplingForgetsRecentWindows(t *testing.T) {
	c := &clock{t: t0}
	s, err := Open(context.Background(), t.TempDir(), Options{Now: c.Now, MaintenanceInterval: time.Hour,
		DownsampleAfter: time.Hour, Recent: 3 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ref := mustRef(t, s, "__name__", "temp")
	fill(t, s, c, []SeriesRef{ref}, t0.Add(22*time.Hour), time.Minute, 4*60, 10, func(_, i int) float64 { return float64(i % 10) })
	d0 := dayOf(t0.UnixMilli())
	if s.tables.has(rawTable, d0) || !s.tables.has(dsTable, d0) || s.recent.Load() == nil {
		t.Fatalf("day 0 raw %v, recent %v; want day 0 downsampled and a snapshot of day 1", s.tables.has(rawTable, d0), s.recent.Load())
	}
	if from := s.recent.Load().from; from < (d0+1)*day {
		t.Errorf("the snapshot starts %v, in the downsampled day", time.UnixMilli(from).UTC())
	}
	pts := read(t, s, t0.Add(22*time.Hour).UnixMilli(), (d0+1)*day-1, "", name("temp"))[`{__name__="temp"}`]
	if len(pts) != 24 { // 2 h at one point per 5 minutes
		t.Errorf("day 0's last 2 h: %d points, want its 24 downsampled ones", len(pts))
	}
}
