package notify

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Notifier delivers a message to one service endpoint. Implementations are
// safe for concurrent use and return an *Error (or a context error) on
// failure, never text that holds the endpoint's URL or token.
type Notifier interface {
	Notify(ctx context.Context, m *Message) error
}

// Error is a failed delivery, classified for the outbox.
type Error struct {
	// Retry: the same request may succeed later (network error, timeout,
	// 429, 5xx). Otherwise the message is rejected for good.
	Retry bool
	// RetryAfter is how long the service asked us to wait (Retry-After,
	// Discord's retry_after); zero when it did not say.
	RetryAfter time.Duration
	// Disable: the endpoint no longer exists (Discord 404, Slack 410
	// channel_is_archived); stop sending to this receiver until its
	// configuration changes.
	Disable bool
	// StatusCode is the HTTP status, zero for network errors.
	StatusCode int
	// Reason is what went wrong, safe to log and show: the status and the
	// service's short error text, or the network error without the URL.
	Reason string
}

func (e *Error) Error() string { return e.Reason }

// Retryable wraps a failure worth retrying.
func Retryable(format string, args ...any) *Error {
	return &Error{Retry: true, Reason: fmt.Sprintf(format, args...)}
}

// Permanent wraps a failure no retry can fix (a payload the service
// rejects, a bad configuration).
func Permanent(format string, args ...any) *Error {
	return &Error{Reason: fmt.Sprintf(format, args...)}
}

// Classify reads err as an *Error. Context errors are retryable (the attempt
// ran out of time); any other error is retryable too, as a network error
// would be.
func Classify(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Retry: true, Reason: err.Error()}
}

// Integration is one configured endpoint of a receiver, as the outbox
// delivers to it.
type Integration struct {
	// Name is the service and the endpoint's index in its receiver:
	// "slack/0", "webhook/1".
	Name     string
	Notifier Notifier
	// SendResolved: tell this endpoint when alerts resolve. Without it,
	// resolved alerts are left out and a message of only resolved alerts
	// is not sent.
	SendResolved bool
	// ConfigHash changes when the endpoint's configuration does; an
	// integration the service disabled (Discord 404) is tried again once it
	// changes.
	ConfigHash string
}
