package store

import (
	"sync"
	"time"
)

// steadyClock is the wall clock as the destructive maintenance (retention,
// downsampling) reads it: it never runs ahead of the time that really
// passed since the first reading. A wall clock stepped forward (NTP, a
// mistyped date) would otherwise make a year of history look old enough to
// drop; with this, the step is ignored until the next start. Stepped back,
// it follows the wall clock, so it only ever keeps data longer.
type steadyClock struct {
	wall func() time.Time
	// elapsed is the time that really passed between two readings of
	// wall: Go's monotonic reading when both carry one (time.Now does),
	// else the wall clock's difference (an injected test clock).
	elapsed func(prev, cur time.Time) time.Duration

	mu     sync.Mutex
	prev   time.Time
	steady int64 // ms
}

func newSteadyClock(wall func() time.Time) *steadyClock {
	return &steadyClock{wall: wall, elapsed: func(prev, cur time.Time) time.Duration { return cur.Sub(prev) }}
}

// now is min(wall clock, last reading + time really elapsed), in ms.
func (c *steadyClock) now() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := c.wall()
	wall := cur.UnixMilli()
	if c.prev.IsZero() {
		c.steady = wall
	} else {
		c.steady = min(wall, c.steady+max(0, c.elapsed(c.prev, cur).Milliseconds()))
	}
	c.prev = cur
	return c.steady
}
