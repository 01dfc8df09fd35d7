package scrape

import (
	"fmt"
	"testing"
	"time"
)

func TestScheduleOffsetStable(t *testing.T) {
	interval := 15 * time.Second
	key := "gpu\x00http://10.0.0.5:9400/metrics"
	off := scheduleOffset(key, interval, 0)
	if off < 0 || off >= interval || off%time.Millisecond != 0 {
		t.Fatalf("offset %v is not a whole millisecond within the interval", off)
	}
	for range 10 {
		if got := scheduleOffset(key, interval, 0); got != off {
			t.Fatalf("offset changed: %v then %v", off, got)
		}
	}
	if scheduleOffset(key, interval, 42) == off {
		t.Error("the seed does not move the offset")
	}
	// Targets spread over the interval.
	seen := map[time.Duration]bool{}
	for i := range 100 {
		seen[scheduleOffset(fmt.Sprintf("gpu\x00http://10.0.0.%d:9400/metrics", i), interval, 0)/time.Second] = true
	}
	if len(seen) < 10 {
		t.Errorf("100 targets fall in only %d of 15 seconds", len(seen))
	}
	// Every tick is at the offset past a multiple of the interval, whenever
	// the loop starts.
	for _, now := range []time.Time{time.Unix(1_700_000_000, 123), time.Unix(1_700_000_007, 0), time.Unix(1_800_000_000, 999_999_999)} {
		tick := nextTick(now, interval, off)
		if tick.Before(now) || tick.Sub(now) >= interval {
			t.Errorf("from %v the first tick is %v", now, tick)
		}
		if phase := time.Duration(tick.UnixNano() % int64(interval)); phase != off {
			t.Errorf("from %v the tick's phase is %v, want %v", now, phase, off)
		}
	}
}

func TestStamp(t *testing.T) {
	tick := time.Unix(1_700_000_000, 0)
	interval := 15 * time.Second
	for _, tc := range []struct {
		start time.Time
		want  time.Time
	}{
		{tick, tick},
		{tick.Add(3 * time.Millisecond), tick},
		{tick.Add(10 * time.Millisecond), tick},
		{tick.Add(11 * time.Millisecond), tick.Add(11 * time.Millisecond)},
		{tick.Add(2 * time.Second), tick.Add(2 * time.Second)},
	} {
		if got := stamp(tc.start, tick, interval); !got.Equal(tc.want) {
			t.Errorf("started %v after the tick: stamped %v, want %v", tc.start.Sub(tick), got.Sub(tick), tc.want.Sub(tick))
		}
	}
}

func TestAdvanceSkipsMissedTicks(t *testing.T) {
	interval := 15 * time.Second
	tick := time.Unix(1_700_000_000, 0)
	var now time.Time
	st := newFakeStorage()
	m := NewManager(st, Options{Now: func() time.Time { return now }})
	if err := m.ApplyConfig(nil); err != nil {
		t.Fatal(err)
	}
	j, err := newJob(jobConfig("j", interval, 10*time.Second), m.opts)
	if err != nil {
		t.Fatal(err)
	}
	l := m.newLoop(targetFor(t, "j", "http://127.0.0.1:9400"), j, nil)
	missed := func() float64 { return counterValue(t, m.metrics.missed.WithLabelValues("j")) }

	now = tick.Add(2 * time.Second) // a scrape well within the interval
	if next := l.advance(tick, 0); !next.Equal(tick.Add(interval)) || missed() != 0 {
		t.Errorf("after a short scrape: next %v, missed %v", next.Sub(tick), missed())
	}
	now = tick.Add(interval + 5*time.Millisecond) // ended just past the next tick
	if next := l.advance(tick, 0); !next.Equal(tick.Add(interval)) || missed() != 0 {
		t.Errorf("after a scrape ending at the tick: next %v, missed %v", next.Sub(tick), missed())
	}
	now = tick.Add(2*interval + 7*time.Second) // overran two ticks
	if next := l.advance(tick, 0); !next.Equal(tick.Add(3*interval)) || missed() != 2 {
		t.Errorf("after overrunning: next %v, missed %v", next.Sub(tick), missed())
	}
}
