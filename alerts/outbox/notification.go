package outbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/alertdb"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
)

// Notification is one message for one alert group, as the dispatcher routed
// it to a receiver.
type Notification struct {
	ID        int64           `json:"id"` // set by Enqueue; increases in enqueue order
	Receiver  string          `json:"receiver"`
	GroupKey  string          `json:"groupKey"`
	Firing    []string        `json:"firing"`   // fingerprints of the firing alerts
	Resolved  []string        `json:"resolved"` // fingerprints of the resolved alerts
	Message   *notify.Message `json:"message"`
	CreatedAt time.Time       `json:"createdAt"` // Enqueue sets it when zero
}

// ErrDiskFull is wrapped by Enqueue's error when alerts.db's disk is full.
var ErrDiskFull = errors.New("alerts.db's disk is full")

// Enqueue stores n with one pending delivery per integration its receiver
// has now, in one transaction, and returns n's ID once that is committed
// (durable: alerts.db syncs every commit). A receiver without integrations
// keeps the notification (Last sees it) and sends nothing. Enqueue fails
// before the first SetReceivers, so no notification is stored without its
// deliveries. A failed Enqueue stores nothing and loses nothing stored
// before; when the disk is full its error wraps ErrDiskFull, and n is sent
// from memory all the same (see unrecorded.go).
func (o *Outbox) Enqueue(ctx context.Context, n Notification) (int64, error) {
	switch {
	case n.Receiver == "":
		return 0, errors.New("outbox: enqueue: notification without a receiver")
	case n.GroupKey == "":
		return 0, errors.New("outbox: enqueue: notification without a group key")
	case n.Message == nil:
		return 0, errors.New("outbox: enqueue: notification without a message")
	}
	cfg, gen, ok := o.snapshot()
	if !ok {
		return 0, errors.New("outbox: enqueue: no receivers configured yet (SetReceivers was never called)")
	}
	ints, known := cfg[n.Receiver]
	if !known {
		o.log.Warn("outbox: notification for a receiver that is not configured; it is logged, not sent", "receiver", n.Receiver, "group_key", n.GroupKey)
	}
	if n.CreatedAt.IsZero() {
		n.CreatedAt = o.opts.Now()
	}
	msg, err := json.Marshal(n.Message)
	if err != nil {
		return 0, fmt.Errorf("outbox: enqueue: encode message: %w", err)
	}
	firing, _ := json.Marshal(orEmpty(n.Firing))
	resolved, _ := json.Marshal(orEmpty(n.Resolved))

	sent := o.unrecordedDelivered(n, firing, resolved)
	id, err := o.insert(ctx, n, firing, resolved, msg, ints, sent)
	if err != nil {
		if alertdb.IsDiskFull(err) {
			if o.sendUnrecorded(n, firing, resolved) {
				o.log.Error("outbox: alerts.db's disk is full; sending the notification without a record", "receiver", n.Receiver, "group_key", n.GroupKey)
			}
			return 0, fmt.Errorf("outbox: enqueue for receiver %s: %w: %w", n.Receiver, ErrDiskFull, err)
		}
		return 0, fmt.Errorf("outbox: enqueue for receiver %s: %w", n.Receiver, err)
	}
	o.forgetUnrecorded(n, firing, resolved)
	o.m.enqueued.WithLabelValues(n.Receiver).Inc()
	if _, now, _ := o.snapshot(); now != gen {
		// The configuration changed while this was written: let Run check
		// for deliveries to integrations that have just been removed.
		o.notifyChanged()
	}
	o.wake(n.Receiver)
	return id, nil
}

// insert writes n and a delivery per integration: pending, or delivered
// for those in sent (which delivered it unrecorded).
func (o *Outbox) insert(ctx context.Context, n Notification, firing, resolved, msg []byte, ints []notify.Integration, sent map[string]bool) (int64, error) {
	tx, err := o.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	created := n.CreatedAt.UnixMilli()
	res, err := tx.ExecContext(ctx, `INSERT INTO outbox_notifications (receiver, group_key, firing, resolved, message, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, n.Receiver, n.GroupKey, string(firing), string(resolved), msg, created)
	if err != nil {
		return 0, err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	now := o.opts.Now().UnixMilli()
	for _, in := range ints {
		if sent[in.Name] {
			err = insertDelivered(ctx, tx, id, n.Receiver, in.Name, created, now)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO outbox_deliveries (notification_id, receiver, integration, status, enqueued_at, updated_at)
				VALUES (?, ?, ?, 'pending', ?, ?)`, id, n.Receiver, in.Name, created, now)
		}
		if err != nil {
			return 0, err
		}
	}
	return id, tx.Commit()
}

// Last returns the notification most recently enqueued for the group (or
// sent unrecorded while alerts.db's disk was full), as the dispatcher's
// notification log: whether anything changed since, or repeat_interval has
// passed. Prune always keeps it.
func (o *Outbox) Last(ctx context.Context, receiver, groupKey string) (Notification, bool, error) {
	if n, ok := o.lastUnrecorded(receiver, groupKey); ok {
		return n, true, nil // newer than anything recorded
	}
	row := o.db.QueryRowContext(ctx, `SELECT `+notificationColumns+` FROM outbox_notifications
		WHERE receiver = ? AND group_key = ? ORDER BY id DESC LIMIT 1`, receiver, groupKey)
	n, err := scanNotification(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Notification{}, false, nil
	}
	if err != nil {
		return Notification{}, false, fmt.Errorf("outbox: last notification of %s %s: %w", receiver, groupKey, err)
	}
	return n, true, nil
}

const notificationColumns = `id, receiver, group_key, firing, resolved, message, created_at`

func scanNotification(row interface{ Scan(...any) error }) (Notification, error) {
	var (
		n                Notification
		firing, resolved string
		msg              []byte
		created          int64
	)
	if err := row.Scan(&n.ID, &n.Receiver, &n.GroupKey, &firing, &resolved, &msg, &created); err != nil {
		return n, err
	}
	n.CreatedAt = time.UnixMilli(created)
	if err := json.Unmarshal([]byte(firing), &n.Firing); err != nil {
		return n, fmt.Errorf("notification %d: firing: %w", n.ID, err)
	}
	if err := json.Unmarshal([]byte(resolved), &n.Resolved); err != nil {
		return n, fmt.Errorf("notification %d: resolved: %w", n.ID, err)
	}
	n.Message = new(notify.Message)
	if err := json.Unmarshal(msg, n.Message); err != nil {
		return n, fmt.Errorf("notification %d: message: %w", n.ID, err)
	}
	return n, nil
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
