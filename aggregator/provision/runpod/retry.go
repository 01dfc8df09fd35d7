package runpod

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// maxRetryAfter caps a server's Retry-After so one reply cannot park a
// caller for hours; the caller's context still bounds the whole call.
const maxRetryAfter = time.Minute

// do sends one GraphQL operation, retrying transient failures.
func (p *Provider) do(ctx context.Context, op, query string, vars map[string]any, out any) error {
	return p.retrying(ctx, op, func(ctx context.Context) error {
		return p.call(ctx, op, query, vars, out)
	})
}

// retrying calls try until it succeeds, fails for good, or runs out of
// attempts, waiting between attempts.
func (p *Provider) retrying(ctx context.Context, op string, try func(context.Context) error) error {
	delay := p.cfg.Retry.Initial
	for attempt := 1; ; attempt++ {
		err := try(ctx)
		if err == nil || !retryable(err) {
			return err
		}
		if attempt >= p.cfg.Retry.MaxAttempts {
			return fmt.Errorf("%w (gave up after %d attempts)", err, attempt)
		}
		wait := delay/2 + rand.N(delay/2+1)
		if after, ok := retryAfter(err); ok {
			wait = after
		}
		delay = min(delay*2, p.cfg.Retry.Max)
		p.log.Warn("runpod request failed, retrying", "op", op, "attempt", attempt, "wait", wait, "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("runpod %s: %w (after %v)", op, ctx.Err(), err)
		case <-time.After(wait):
		}
	}
}

// retryable: 429, 5xx and replies that never came.
func retryable(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code == http.StatusTooManyRequests || se.Code >= 500
	}
	var te *transportError
	return errors.As(err, &te)
}

// mayHaveTakenEffect: the server may have done the work before failing
// (5xx, lost reply); a 429 or 4xx was turned away first.
func mayHaveTakenEffect(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code >= 500
	}
	var te *transportError
	return errors.As(err, &te)
}

func retryAfter(err error) (time.Duration, bool) {
	var se *StatusError
	if errors.As(err, &se) && se.hasAfter {
		return se.RetryAfter, true
	}
	return 0, false
}

// parseRetryAfter reads seconds or an HTTP date, capped at maxRetryAfter.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if secs, err := strconv.Atoi(v); err == nil {
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	} else {
		return 0, false
	}
	return min(max(d, 0), maxRetryAfter), true
}
