// Package steady is the wall clock as code that destroys or gives up on
// data by age should read it: never ahead of the time that really passed
// since the first reading. A wall clock stepped forward (NTP, a mistyped
// date, a restored VM) would otherwise make a year of history look old
// enough to drop, or every queued notification too old to send; with this
// the step is ignored until the process restarts. Stepped back, it follows
// the wall clock at once, so data is only ever kept longer.
package steady

import (
	"sync"
	"time"
)

// Clock is min(wall clock, first reading + time really elapsed), kept as
// it advances. It is safe for concurrent use.
type Clock struct {
	wall    func() time.Time
	elapsed func(prev, cur time.Time) time.Duration

	mu     sync.Mutex
	prev   time.Time
	steady time.Time
}

// New reads wall, measuring elapsed time by Go's monotonic reading when
// both readings carry one (time.Now's do), else by the wall clock's own
// difference (an injected test clock, which then steps nothing).
func New(wall func() time.Time) *Clock {
	return NewElapsed(wall, func(prev, cur time.Time) time.Duration { return cur.Sub(prev) })
}

// NewElapsed is New with the elapsed time between two readings given by
// elapsed: for tests that step a wall clock.
func NewElapsed(wall func() time.Time, elapsed func(prev, cur time.Time) time.Duration) *Clock {
	c := &Clock{wall: wall, elapsed: elapsed}
	c.Now()
	return c
}

// Now is the steady time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := c.wall()
	if c.prev.IsZero() {
		c.steady = cur
	} else if next := c.steady.Add(max(0, c.elapsed(c.prev, cur))); next.Before(cur) {
		c.steady = next
	} else {
		c.steady = cur
	}
	c.prev = cur
	return c.steady
}
