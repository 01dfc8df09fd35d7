package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/internal/steady"
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
	s.steady = steady.NewElapsed(c.Now, func(prev, cur time.Time) time.Duration { return passed })
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
