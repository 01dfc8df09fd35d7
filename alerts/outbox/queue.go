package outbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
)

// Delivery statuses, as stored. StatusDisabledHeld is never stored: Log and
// its filter report a pending delivery of a disabled integration so.
const (
	StatusPending      = "pending"
	StatusDelivered    = "delivered"
	StatusFailed       = "failed"  // rejected for good (4xx), or unreadable
	StatusExpired      = "expired" // still pending after Options.MaxAge
	StatusSkipped      = "skipped" // only resolved alerts for a send_resolved=false integration
	StatusDropped      = "dropped" // its integration was removed from the configuration
	StatusDisabledHeld = "disabled-held"
)

// delivery is the head of a queue, as the worker needs it.
type delivery struct {
	id        int64
	groupKey  string
	attempts  int
	lastError string
	next      time.Time
	created   time.Time
	msg       *notify.Message // nil when it cannot be decoded
	decodeErr error
	firing    []string // fingerprints
	resolved  []string
}

// head is the oldest pending delivery of the worker's integration.
func (w *worker) head() (delivery, bool, error) {
	var (
		d             delivery
		next, created int64
		msg           []byte
		fir, res      string
	)
	err := w.o.db.QueryRowContext(w.ctx, `SELECT d.notification_id, n.group_key, d.attempts, d.last_error, d.next_attempt, d.enqueued_at, n.message, n.firing, n.resolved
		FROM outbox_deliveries d JOIN outbox_notifications n ON n.id = d.notification_id
		WHERE d.receiver = ? AND d.integration = ? AND d.status = 'pending'
		ORDER BY d.notification_id LIMIT 1`, w.k.receiver, w.k.integration).
		Scan(&d.id, &d.groupKey, &d.attempts, &d.lastError, &next, &created, &msg, &fir, &res)
	if errors.Is(err, sql.ErrNoRows) {
		return d, false, nil
	}
	if err != nil {
		return d, false, err
	}
	d.next, d.created = time.UnixMilli(next), time.UnixMilli(created)
	_ = json.Unmarshal([]byte(fir), &d.firing)
	_ = json.Unmarshal([]byte(res), &d.resolved)
	m := new(notify.Message)
	if d.decodeErr = json.Unmarshal(msg, m); d.decodeErr == nil {
		d.msg = m
	}
	return d, true, nil
}

// repeatsLast reports whether d, sent without its resolved alerts, would
// only repeat the last message this integration got for the group: d
// exists because alerts resolved, and every alert still firing was in that
// message. Alertmanager sends nothing then to an endpoint without
// send_resolved.
func (w *worker) repeatsLast(d delivery) (bool, error) {
	if len(d.resolved) == 0 {
		return false, nil
	}
	var fir string
	err := w.o.db.QueryRowContext(w.ctx, `SELECT n.firing FROM outbox_notifications n
		JOIN outbox_deliveries d ON d.notification_id = n.id
		WHERE n.receiver = ? AND n.group_key = ? AND n.id < ? AND d.integration = ? AND d.status = 'delivered'
		ORDER BY n.id DESC LIMIT 1`, w.k.receiver, d.groupKey, d.id, w.k.integration).Scan(&fir)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var last []string
	if err := json.Unmarshal([]byte(fir), &last); err != nil {
		return false, nil
	}
	sent := make(map[string]bool, len(last))
	for _, fp := range last {
		sent[fp] = true
	}
	for _, fp := range d.firing {
		if !sent[fp] {
			return false, nil
		}
	}
	return true, nil
}

func saveDelivered(ctx context.Context, tx *sql.Tx, k key, id int64, now time.Time) error {
	ms := now.UnixMilli()
	if _, err := tx.ExecContext(ctx, `UPDATE outbox_deliveries SET status = 'delivered', attempts = attempts + 1,
		next_attempt = 0, updated_at = ?, delivered_at = ? WHERE notification_id = ? AND integration = ?`,
		ms, ms, id, k.integration); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO outbox_integrations (receiver, integration, last_success) VALUES (?, ?, ?)
		ON CONFLICT (receiver, integration) DO UPDATE SET last_success = excluded.last_success`, k.receiver, k.integration, ms)
	return err
}

// saveFailure records a failed attempt; dis, when not nil, disables the
// integration.
func saveFailure(ctx context.Context, tx *sql.Tx, k key, id int64, status, reason string, next, now time.Time, dis *disabledState) error {
	ms, nextMs := now.UnixMilli(), int64(0)
	if !next.IsZero() {
		nextMs = next.UnixMilli()
	}
	if _, err := tx.ExecContext(ctx, `UPDATE outbox_deliveries SET status = ?, attempts = attempts + 1, last_error = ?,
		next_attempt = ?, updated_at = ? WHERE notification_id = ? AND integration = ?`,
		status, reason, nextMs, ms, id, k.integration); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO outbox_integrations (receiver, integration, last_failure, last_error) VALUES (?, ?, ?, ?)
		ON CONFLICT (receiver, integration) DO UPDATE SET last_failure = excluded.last_failure, last_error = excluded.last_error`,
		k.receiver, k.integration, ms, reason); err != nil {
		return err
	}
	if dis == nil {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE outbox_integrations SET disabled = 1, disabled_hash = ?, disabled_reason = ?, disabled_at = ?
		WHERE receiver = ? AND integration = ?`, dis.hash, dis.reason, ms, k.receiver, k.integration)
	return err
}

// saveFinished ends a delivery that was not sent (expired, skipped, failed
// before an attempt).
func saveFinished(ctx context.Context, tx *sql.Tx, k key, id int64, status, reason string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE outbox_deliveries SET status = ?, last_error = ?, next_attempt = 0, updated_at = ?
		WHERE notification_id = ? AND integration = ?`, status, reason, now.UnixMilli(), id, k.integration)
	return err
}

// enable clears the disabled state, and the backoff of the deliveries it
// held, which go out at once.
func enable(ctx context.Context, tx *sql.Tx, k key, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE outbox_integrations SET disabled = 0, disabled_hash = '', disabled_reason = '', disabled_at = NULL
		WHERE receiver = ? AND integration = ?`, k.receiver, k.integration); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE outbox_deliveries SET next_attempt = 0, updated_at = ?
		WHERE receiver = ? AND integration = ? AND status = 'pending' AND next_attempt != 0`, now.UnixMilli(), k.receiver, k.integration)
	return err
}

func loadDisabled(ctx context.Context, db *sql.DB, k key) (*disabledState, error) {
	var (
		disabled bool
		d        disabledState
	)
	err := db.QueryRowContext(ctx, `SELECT disabled, disabled_hash, disabled_reason FROM outbox_integrations
		WHERE receiver = ? AND integration = ?`, k.receiver, k.integration).Scan(&disabled, &d.hash, &d.reason)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !disabled) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// backoff is the wait after the n-th failed attempt: full jitter over
// BackoffBase·2^(n-1), capped at BackoffMax.
func (o *Outbox) backoff(n int) time.Duration {
	d := o.opts.BackoffBase
	for i := 1; i < n && d < o.opts.BackoffMax; i++ {
		d *= 2
	}
	return rand.N(min(d, o.opts.BackoffMax))
}

// maxRetryAfter caps how long a Retry-After is honoured: chat services ask
// for seconds; an hour means a wrong header, not a wish.
const maxRetryAfter = time.Hour

// longestWait is the furthest ahead a retry is ever set.
func (o *Outbox) longestWait() time.Duration { return max(o.opts.BackoffMax, maxRetryAfter) }

// expiry is when a notification created at created (wall clock) expires,
// on the wall clock read at now: MaxAge after it, later by any forward step
// of the wall clock since the outbox started, so a step expires nothing.
func (o *Outbox) expiry(created, now time.Time) time.Time {
	return created.Add(o.opts.MaxAge + max(0, now.Sub(o.steady.Now())))
}

// retryWait is the wait before the n-th retry of a database operation:
// doubling from BackoffBase up to 30s (or BackoffMax when lower), without
// jitter.
func (o *Outbox) retryWait(n int) time.Duration {
	limit := min(30*time.Second, o.opts.BackoffMax)
	d := o.opts.BackoffBase
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}
