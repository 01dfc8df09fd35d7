package runpod

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision/runpod/runpodtest"
)

func TestRetriesTransientFailures(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable} {
		f := newFixture(t, runpodtest.Options{})
		f.fake.FailNext(2, status)
		if _, err := f.p.Offers(context.Background()); err != nil {
			t.Errorf("HTTP %d twice: %v, want success on the third attempt", status, err)
		}
		if n := f.fake.Requests(); n != 3 {
			t.Errorf("HTTP %d: %d requests, want 3", status, n)
		}
	}
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	f := newFixture(t, runpodtest.Options{})
	f.fake.FailNext(10, http.StatusInternalServerError)
	_, err := f.p.List(context.Background())
	var se *StatusError
	if !errors.As(err, &se) || se.Code != http.StatusInternalServerError {
		t.Fatalf("err = %v, want a StatusError 500", err)
	}
	if n := f.fake.Requests(); n != 5 {
		t.Errorf("%d requests, want MaxAttempts = 5", n)
	}
}

func TestClientErrorsAreNotRetried(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound} {
		f := newFixture(t, runpodtest.Options{})
		f.fake.FailNext(1, status)
		_, err := f.p.Offers(context.Background())
		var se *StatusError
		if !errors.As(err, &se) || se.Code != status {
			t.Errorf("err = %v, want StatusError %d", err, status)
		}
		if n := f.fake.Requests(); n != 1 {
			t.Errorf("HTTP %d: %d requests, want 1", status, n)
		}
	}
}

func TestWrongKeyIsNotRetried(t *testing.T) {
	t.Parallel()
	f := newFixture(t, runpodtest.Options{}, func(c *Config) { c.APIKey = "wrong" })
	_, err := f.p.List(context.Background())
	var se *StatusError
	if !errors.As(err, &se) || se.Code != http.StatusUnauthorized || f.fake.Requests() != 1 {
		t.Errorf("err = %v after %d requests, want one 401", err, f.fake.Requests())
	}
}

func TestGraphQLErrorSurfaces(t *testing.T) {
	t.Parallel()
	f := newFixture(t, runpodtest.Options{})
	f.fake.GraphQLErrorNext("Something went wrong. Please try again later.")
	_, err := f.p.Offers(context.Background())
	var ge *GraphQLError
	if !errors.As(err, &ge) || !strings.Contains(err.Error(), "Something went wrong") {
		t.Errorf("err = %v, want a GraphQLError with the message", err)
	}
	if n := f.fake.Requests(); n != 1 {
		t.Errorf("%d requests, want 1 (GraphQL errors are not retried)", n)
	}
}

func TestCancelStopsRetrying(t *testing.T) {
	t.Parallel()
	f := newFixture(t, runpodtest.Options{}, func(c *Config) {
		c.Retry = Retry{MaxAttempts: 5, Initial: time.Hour, Max: time.Hour}
	})
	f.fake.FailNext(1, http.StatusServiceUnavailable)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for f.fake.Requests() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	if _, err := f.p.List(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"3", 3 * time.Second, true},
		{"0", 0, true},
		{"-1", 0, true},
		{"86400", maxRetryAfter, true},
		{now.Add(7 * time.Second).Format(http.TimeFormat), 7 * time.Second, true},
		{"soon", 0, false},
	} {
		got, ok := parseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
