package steady

import (
	"testing"
	"time"
)

// The steady clock follows the wall clock while both agree, lags a forward
// step by the step's size, and never runs ahead of the wall clock.
func TestClock(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	wall, real, last := t0, time.Duration(0), time.Duration(0)
	c := NewElapsed(func() time.Time { return wall }, func(prev, cur time.Time) time.Duration { d := real - last; last = real; return d })
	for _, step := range []struct {
		name       string
		wall, real time.Duration // how far each moves
		want       time.Duration // steady - t0
	}{
		{"an hour passes", time.Hour, time.Hour, time.Hour},
		{"stepped forward a day", 24 * time.Hour, 0, time.Hour},
		{"an hour passes after the step", time.Hour, time.Hour, 2 * time.Hour},
		{"stepped back two days", -48 * time.Hour, 0, -22 * time.Hour},
		{"a minute passes", time.Minute, time.Minute, -22*time.Hour + time.Minute},
	} {
		wall, real = wall.Add(step.wall), real+step.real
		if got := c.Now().Sub(t0); got != step.want {
			t.Fatalf("%s: steady is t0%+v, want t0%+v", step.name, got, step.want)
		}
	}
}

// With time.Now, nothing steps: the steady clock is the wall clock.
func TestRealClock(t *testing.T) {
	c := New(time.Now)
	for range 3 {
		before := time.Now()
		got := c.Now()
		if got.Before(before.Add(-time.Millisecond)) || got.After(time.Now()) {
			t.Fatalf("steady %v outside [%v, now]", got, before)
		}
	}
}
