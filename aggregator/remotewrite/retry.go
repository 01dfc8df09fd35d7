package remotewrite

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxRetryAfter caps a receiver's Retry-After, so that a misconfigured proxy
// cannot park the queue for days.
const maxRetryAfter = time.Hour

// retryDelay is the wait before attempt+1 of a batch: exponential from
// minB, capped at maxB, with jitter (a random point in the upper half, so
// that aggregators restarted together do not retry together), and never
// shorter than the receiver's Retry-After.
func retryDelay(attempt int, minB, maxB, retryAfter time.Duration) time.Duration {
	d := minB
	for i := 0; i < attempt && d < maxB; i++ {
		d *= 2
	}
	d = min(d, maxB)
	d = d/2 + rand.N(d/2+1)
	return max(d, retryAfter)
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
// Anything else (or nothing) is 0: the backoff alone decides.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return min(time.Duration(min(s, int64(maxRetryAfter/time.Second)))*time.Second, maxRetryAfter)
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	return min(max(t.Sub(now), 0), maxRetryAfter)
}
