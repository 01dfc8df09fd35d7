package store

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql"
)

// fourDays fills a gauge and a counter for four days at 60 s, with
// maintenance running as it would, and returns the store at the end.
func fourDays(t *testing.T) (*Store, *clock, SeriesRef, SeriesRef) {
	c := &clock{t: t0}
	s := openTest(t, t.TempDir(), c)
	g := mustRef(t, s, "__name__", "temp")
	k := mustRef(t, s, "__name__", "energy_total")
	s.SetMetadata("energy_total", Metadata{Type: "counter"})
	const perDay = 1440
	fill(t, s, c, []SeriesRef{g, k}, t0, time.Minute, 4*perDay, 60, func(j, i int) float64 {
		if j == 0 {
			return float64(50 + i%10) // 50..59, 5-minute pattern repeats every 10 min
		}
		if i == 2*perDay+7 { // a counter reset on day 3
			return 3
		}
		if i > 2*perDay+7 {
			return float64(3 + (i-2*perDay-7)*5)
		}
		return float64(i * 5)
	})
	return s, c, g, k
}

func TestDownsamplingReplacesOldDays(t *testing.T) {
	s, c, _, _ := fourDays(t)
	c.Set(t0.Add(4 * 24 * time.Hour))
	if err := s.Maintain(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Days 0 and 1 ended at least 2 days ago.
	if raw, ds := s.tables.days(rawTable), s.tables.days(dsTable); len(ds) != 2 || raw[0] != ds[1]+1 {
		t.Fatalf("raw days %v, downsampled days %v; want days 0-1 downsampled", raw, ds)
	}
	day0 := t0.UnixMilli()
	mint, maxt := day0, day0+day-1
	avg := read(t, s, mint, maxt, "", name("temp"))[`{__name__="temp"}`]
	lo := read(t, s, mint, maxt, "min_over_time", name("temp"))[`{__name__="temp"}`]
	hi := read(t, s, mint, maxt, "max_over_time", name("temp"))[`{__name__="temp"}`]
	if len(avg) != 288 || len(lo) != 288 || len(hi) != 288 {
		t.Fatalf("a downsampled day has %d/%d/%d points, want 288", len(avg), len(lo), len(hi))
	}
	// Buckets alternate between minutes 0-4 (50..54) and 5-9 (55..59).
	if avg[0] != (point{day0 + 5*60000 - 1, 52}) || lo[1].V != 55 || hi[1].V != 59 {
		t.Errorf("first buckets: avg %v min %v max %v", avg[:2], lo[:2], hi[:2])
	}
}

func TestDownsampledCounterKeepsIncrease(t *testing.T) {
	s, c, _, _ := fourDays(t)
	engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 1e7, Timeout: time.Minute, LookbackDelta: 5 * time.Minute})
	increase := func() float64 {
		t.Helper()
		// Day 2 holds the reset; downsample it by moving the clock a day on.
		at := t0.Add(3 * 24 * time.Hour)
		q, err := engine.NewInstantQuery(context.Background(), s, nil, `increase(energy_total[1d])`, at)
		if err != nil {
			t.Fatal(err)
		}
		defer q.Close()
		res := q.Exec(context.Background())
		vec, err := res.Vector()
		if err != nil {
			t.Fatal(err)
		}
		if len(vec) != 1 {
			t.Fatalf("increase: %v", vec)
		}
		return vec[0].F
	}
	before := increase()
	c.Set(t0.Add(6 * 24 * time.Hour))
	if err := s.Maintain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !s.tables.has(dsTable, dayOf(t0.Add(2*24*time.Hour).UnixMilli())) {
		t.Fatal("day 2 was not downsampled")
	}
	after := increase()
	// Raw: 1439 one-minute increments of 5 across the day, with a reset
	// keeping every increment. Downsampled points keep the last sample of
	// each step and the sample before the reset, so the increase is the
	// same up to extrapolation at the range edges.
	if math.Abs(after-before) > 5*5 {
		t.Errorf("increase over the day: raw %.1f, downsampled %.1f", before, after)
	}
	t.Logf("increase(energy_total[1d]): raw %.1f, downsampled %.1f", before, after)
}

func TestRetentionDropsOldDaysAndSeries(t *testing.T) {
	s, c, g, _ := fourDays(t)
	gone := mustRef(t, s, "__name__", "gone")
	if err := s.Append(context.Background(), []Sample{{gone, c.Now().UnixMilli(), 1}}); err != nil {
		t.Fatal(err)
	}
	s.opts.Retention = 3 * 24 * time.Hour
	c.Set(t0.Add(20 * 24 * time.Hour))
	// Keep "temp" alive: a sample now.
	if err := s.Append(context.Background(), []Sample{{g, c.Now().UnixMilli(), 1}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Maintain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if raw, ds := s.tables.days(rawTable), s.tables.days(dsTable); len(raw)+len(ds) != 0 {
		t.Errorf("after retention: raw days %v, downsampled days %v", raw, ds)
	}
	q, _ := s.Querier(0, math.MaxInt64)
	names, _, _ := q.LabelValues(context.Background(), "__name__", nil)
	if len(names) != 1 || names[0] != "temp" {
		t.Errorf("series left: %v (want only temp, which is still written)", names)
	}
	var n int
	if err := s.db.QueryRow("SELECT count(*) FROM series").Scan(&n); err != nil || n != 1 {
		t.Errorf("series rows: %d (%v)", n, err)
	}
}
