package auth

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ErrTooManyAttempts refuses a login (or an API call's credentials) after
// too many failed ones from its address or for its name.
var ErrTooManyAttempts = errors.New("too many failed logins")

// TooManyAttemptsError is a refusal for failed attempts before it, saying
// when the next try is allowed; errors.Is(err, ErrTooManyAttempts) holds.
type TooManyAttemptsError struct{ Wait time.Duration }

func (e *TooManyAttemptsError) Error() string {
	return fmt.Sprintf("too many failed logins from your address or for this name; try again in %s", retrySeconds(e.Wait)+"s")
}

func (e *TooManyAttemptsError) Is(target error) bool { return target == ErrTooManyAttempts }

// RetryAfter is the Retry-After header for err (whole seconds, rounded
// up); "" when err is no TooManyAttemptsError.
func RetryAfter(err error) string {
	var t *TooManyAttemptsError
	if !errors.As(err, &t) {
		return ""
	}
	return retrySeconds(t.Wait)
}

func retrySeconds(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}

// The limits: each address may fail 5 times in a row, then once every
// 12 s: enough for a person who mistyped, far too slow to guess a
// password. Each name (the admin token is one) may fail 10 times in a row
// from anywhere, then once every 6 s, so guessing from many addresses is
// slow too. A wait ends on its own once the failures stop; a success
// clears its address's failures.
var (
	addrLimit = limit{every: 12 * time.Second, burst: 5}
	userLimit = limit{every: 6 * time.Second, burst: 10}
)

type limit struct {
	every time.Duration
	burst int
}

// maxTracked bounds each map: when full, it is forgotten (whoever fails
// from this many addresses, or for this many names, is not slowed by
// such a limit anyway).
const maxTracked = 10_000

// failLimiter counts failed logins by address and by name.
type failLimiter struct {
	now    func() time.Time
	mu     sync.Mutex
	byAddr map[string]*rate.Limiter
	byUser map[string]*rate.Limiter
}

func newFailLimiter(now func() time.Time) *failLimiter {
	return &failLimiter{now: now, byAddr: map[string]*rate.Limiter{}, byUser: map[string]*rate.Limiter{}}
}

// wait is how long addr must wait before trying user again; 0: now.
func (f *failLimiter) wait(addr, user string) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	return max(waitOf(f.byAddr[addr], addrLimit, now), waitOf(f.byUser[user], userLimit, now))
}

func waitOf(l *rate.Limiter, lim limit, now time.Time) time.Duration {
	if l == nil {
		return 0
	}
	tokens := l.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) * float64(lim.every))
}

// failed counts a failed attempt from addr for user.
func (f *failLimiter) failed(addr, user string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	take(f.byAddr, addr, addrLimit, now)
	take(f.byUser, user, userLimit, now)
}

// succeeded forgets addr's failures; user's stay, so a success does not
// give whoever guesses a new allowance.
func (f *failLimiter) succeeded(addr string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.byAddr, addr)
}

func take(m map[string]*rate.Limiter, key string, lim limit, now time.Time) {
	l, ok := m[key]
	if !ok {
		if len(m) >= maxTracked {
			clear(m)
		}
		l = rate.NewLimiter(rate.Every(lim.every), lim.burst)
		m[key] = l
	}
	l.AllowN(now, 1)
}
