package remotewrite

import (
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"7", 7 * time.Second},
		{" 120 ", 2 * time.Minute},
		{"0", 0},
		{"-5", 0},
		{"soon", 0},
		{"1.5", 0},
		{"99999999999999999", maxRetryAfter},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{now.Add(48 * time.Hour).Format(http.TimeFormat), maxRetryAfter},
		{"Friday, 01-May-26 12:00:30 GMT", 30 * time.Second}, // RFC 850, still allowed
	} {
		if got := parseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestRetryDelay(t *testing.T) {
	const lo, hi = 100 * time.Millisecond, 30 * time.Second
	for attempt := range 40 {
		full := min(lo<<min(attempt, 20), hi)
		for range 20 {
			d := retryDelay(attempt, lo, hi, 0)
			if d < full/2 || d > full {
				t.Fatalf("attempt %d: delay %s outside [%s, %s]", attempt, d, full/2, full)
			}
		}
	}
	if d := retryDelay(0, lo, hi, 5*time.Second); d != 5*time.Second {
		t.Errorf("Retry-After 5s gave %s", d)
	}
	if d := retryDelay(30, lo, hi, time.Second); d < hi/2 {
		t.Errorf("a short Retry-After shortened the backoff to %s", d)
	}
}
