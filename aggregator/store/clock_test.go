package store

import (
	"context"
	"slices"
	"testing"
	"time"
)

// A wall clock stepped forward by 20 days makes nothing old enough to drop
// or downsample: retention and downsampling follow the time that really
// passed. Once those 20 days have really passed, both do their work.
func TestClockStepDropsNothing(t *testing.T) {
	s, c, _, _ := fourDays(t)
	s.opts.Retention = 3 * 24 * time.Hour
	c.Set(t0.Add(4 * 24 * time.Hour))
	if err := s.Maintain(context.Background()); err != nil {
		t.Fatal(err)
	}
	rawBefore, dsBefore := slices.Clone(s.tables.days(rawTable)), slices.Clone(s.tables.days(dsTable))

	var passed time.Duration // what really passed, as a monotonic clock says
	s.steady.elapsed = func(prev, cur time.Time) time.Duration { return passed }
	c.Set(t0.Add(24 * 24 * time.Hour))
	if err := s.Maintain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if raw, ds := s.tables.days(rawTable), s.tables.days(dsTable); !slices.Equal(raw, rawBefore) || !slices.Equal(ds, dsBefore) {
		t.Fatalf("after a 20-day step: raw days %v, downsampled %v; want them as before (%v, %v)", raw, ds, rawBefore, dsBefore)
	}

	passed = 20 * 24 * time.Hour
	if err := s.Maintain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if raw, ds := s.tables.days(rawTable), s.tables.days(dsTable); len(raw)+len(ds) != 0 {
		t.Errorf("20 days later: raw days %v, downsampled days %v; want all past retention dropped", raw, ds)
	}
}

// The steady clock follows the wall clock while both agree, lags a forward
// step by the step's size, and never runs ahead of the wall clock.
func TestSteadyClock(t *testing.T) {
	wall, real := t0, time.Duration(0)
	c := &steadyClock{wall: func() time.Time { return wall }}
	var last time.Duration
	c.elapsed = func(prev, cur time.Time) time.Duration { d := real - last; last = real; return d }
	for _, step := range []struct {
		name       string
		wall, real time.Duration // how far each moves
		want       time.Duration // steady - t0
	}{
		{"first reading", 0, 0, 0},
		{"an hour passes", time.Hour, time.Hour, time.Hour},
		{"stepped forward a day", 24 * time.Hour, 0, time.Hour},
		{"an hour passes after the step", time.Hour, time.Hour, 2 * time.Hour},
		{"stepped back two days", -48 * time.Hour, 0, -22 * time.Hour},
		{"a minute passes", time.Minute, time.Minute, -22*time.Hour + time.Minute},
	} {
		wall, real = wall.Add(step.wall), real+step.real
		if got := time.UnixMilli(c.now()).Sub(t0); got != step.want {
			t.Fatalf("%s: steady is t0%+v, want t0%+v", step.name, got, step.want)
		}
	}
}
