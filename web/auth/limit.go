package auth

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// failLimiter lets each address fail 5 logins in a row, then one every
// 12 s: enough for a person who mistyped, far too slow to guess a password.
type failLimiter struct {
	now func() time.Time
	mu  sync.Mutex
	by  map[string]*rate.Limiter
}

const maxTrackedAddrs = 10_000

func newFailLimiter(now func() time.Time) *failLimiter {
	return &failLimiter{now: now, by: map[string]*rate.Limiter{}}
}

// allow tells whether addr may try again now.
func (f *failLimiter) allow(addr string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.by[addr]
	return !ok || l.TokensAt(f.now()) >= 1
}

// failed counts a failed attempt from addr.
func (f *failLimiter) failed(addr string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.by[addr]
	if !ok {
		if len(f.by) >= maxTrackedAddrs {
			// Full: forget everyone (an attacker with this many addresses
			// is not slowed by a per-address limit anyway).
			clear(f.by)
		}
		l = rate.NewLimiter(rate.Every(12*time.Second), 5)
		f.by[addr] = l
	}
	l.AllowN(f.now(), 1)
}
