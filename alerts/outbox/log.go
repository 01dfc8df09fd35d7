package outbox

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Filter selects notifications for Log; zero fields select all.
type Filter struct {
	Receiver string
	GroupKey string
	// Status keeps notifications with at least one delivery in this status
	// (a Status constant, StatusDisabledHeld included).
	Status string
	Since  time.Time // enqueued at or after
	Limit  int       // the newest ones; default 100, at most 1000
}

// Entry is a notification with the state of its deliveries.
type Entry struct {
	Notification
	Deliveries []Delivery `json:"deliveries"` // by integration name
}

// Delivery is a notification's delivery to one integration.
type Delivery struct {
	Integration string    `json:"integration"`
	Status      string    `json:"status"` // a Status constant
	Attempts    int       `json:"attempts"`
	LastError   string    `json:"lastError,omitempty"`
	NextAttempt time.Time `json:"nextAttempt,omitzero"` // while backing off
	DeliveredAt time.Time `json:"deliveredAt,omitzero"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// statusExpr is a delivery's status as Log reports it.
const statusExpr = `CASE WHEN d.status = 'pending' AND EXISTS (SELECT 1 FROM outbox_integrations i
	WHERE i.receiver = d.receiver AND i.integration = d.integration AND i.disabled = 1)
	THEN 'disabled-held' ELSE d.status END`

// Log returns the notifications f selects, newest first.
func (o *Outbox) Log(ctx context.Context, f Filter) ([]Entry, error) {
	switch f.Status {
	case "", StatusPending, StatusDelivered, StatusFailed, StatusExpired, StatusSkipped, StatusDropped, StatusDisabledHeld:
	default:
		return nil, fmt.Errorf("outbox: log: unknown status %q", f.Status)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	var (
		where []string
		args  []any
	)
	if f.Receiver != "" {
		where, args = append(where, "n.receiver = ?"), append(args, f.Receiver)
	}
	if f.GroupKey != "" {
		where, args = append(where, "n.group_key = ?"), append(args, f.GroupKey)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "n.created_at >= ?"), append(args, f.Since.UnixMilli())
	}
	if f.Status != "" {
		where = append(where, "EXISTS (SELECT 1 FROM outbox_deliveries d WHERE d.notification_id = n.id AND "+statusExpr+" = ?)")
		args = append(args, f.Status)
	}
	q := `SELECT ` + prefixed("n.", notificationColumns) + ` FROM outbox_notifications n`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY n.id DESC LIMIT ?"
	args = append(args, limit)

	rows, err := o.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("outbox: log: %w", err)
	}
	var entries []Entry
	byID := map[int64]int{}
	for rows.Next() {
		n, err := scanNotification(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("outbox: log: %w", err)
		}
		byID[n.ID] = len(entries)
		entries = append(entries, Entry{Notification: n, Deliveries: []Delivery{}})
	}
	// One connection: close these rows before the next query.
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("outbox: log: %w", err)
	}
	if len(entries) == 0 {
		return []Entry{}, nil
	}
	if err := o.addDeliveries(ctx, entries, byID); err != nil {
		return nil, fmt.Errorf("outbox: log: %w", err)
	}
	return entries, nil
}

func (o *Outbox) addDeliveries(ctx context.Context, entries []Entry, byID map[int64]int) error {
	ids := make([]any, len(entries))
	for i, e := range entries {
		ids[i] = e.ID
	}
	rows, err := o.db.QueryContext(ctx, `SELECT d.notification_id, d.integration, `+statusExpr+`, d.attempts, d.last_error,
		d.next_attempt, d.delivered_at, d.updated_at FROM outbox_deliveries d
		WHERE d.notification_id IN (?`+strings.Repeat(", ?", len(ids)-1)+`) ORDER BY d.notification_id, d.integration`, ids...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, next, updated int64
			delivered         sql.NullInt64
			d                 Delivery
		)
		if err := rows.Scan(&id, &d.Integration, &d.Status, &d.Attempts, &d.LastError, &next, &delivered, &updated); err != nil {
			return err
		}
		if d.Status == StatusPending && next != 0 {
			d.NextAttempt = time.UnixMilli(next)
		}
		d.DeliveredAt = msTime(delivered)
		d.UpdatedAt = time.UnixMilli(updated)
		e := &entries[byID[id]]
		e.Deliveries = append(e.Deliveries, d)
	}
	return rows.Err()
}

// IntegrationHealth is the state of one configured integration.
type IntegrationHealth struct {
	Receiver       string    `json:"receiver"`
	Name           string    `json:"name"`
	SendResolved   bool      `json:"sendResolved"`
	Disabled       bool      `json:"disabled"` // by the service, until the configuration changes
	DisabledReason string    `json:"disabledReason,omitempty"`
	DisabledAt     time.Time `json:"disabledAt,omitzero"`
	Pending        int       `json:"pending"`                // deliveries waiting, held ones included
	OldestPending  time.Time `json:"oldestPending,omitzero"` // enqueue time of the oldest waiting
	LastSuccess    time.Time `json:"lastSuccess,omitzero"`
	LastFailure    time.Time `json:"lastFailure,omitzero"`
	LastError      string    `json:"lastError,omitempty"` // of the last failure
}

// Integrations reports the configured integrations, by receiver and name.
func (o *Outbox) Integrations(ctx context.Context) ([]IntegrationHealth, error) {
	cfg, _, _ := o.snapshot()
	var out []IntegrationHealth
	at := map[key]int{}
	for r, ints := range cfg {
		for _, in := range ints {
			at[key{r, in.Name}] = len(out)
			out = append(out, IntegrationHealth{Receiver: r, Name: in.Name, SendResolved: in.SendResolved})
		}
	}
	rows, err := o.db.QueryContext(ctx, `SELECT receiver, integration, COUNT(*), MIN(enqueued_at) FROM outbox_deliveries
		WHERE status = 'pending' GROUP BY receiver, integration`)
	if err != nil {
		return nil, fmt.Errorf("outbox: integrations: %w", err)
	}
	for rows.Next() {
		var (
			k      key
			n      int
			oldest int64
		)
		if err := rows.Scan(&k.receiver, &k.integration, &n, &oldest); err != nil {
			rows.Close()
			return nil, fmt.Errorf("outbox: integrations: %w", err)
		}
		if i, ok := at[k]; ok {
			out[i].Pending, out[i].OldestPending = n, time.UnixMilli(oldest)
		}
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("outbox: integrations: %w", err)
	}
	rows, err = o.db.QueryContext(ctx, `SELECT receiver, integration, disabled, disabled_reason, disabled_at,
		last_success, last_failure, last_error FROM outbox_integrations`)
	if err != nil {
		return nil, fmt.Errorf("outbox: integrations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k                      key
			h                      IntegrationHealth
			disAt, success, failed sql.NullInt64
		)
		if err := rows.Scan(&k.receiver, &k.integration, &h.Disabled, &h.DisabledReason, &disAt, &success, &failed, &h.LastError); err != nil {
			return nil, fmt.Errorf("outbox: integrations: %w", err)
		}
		i, ok := at[k]
		if !ok {
			continue
		}
		o := &out[i]
		o.Disabled, o.DisabledReason, o.DisabledAt = h.Disabled, h.DisabledReason, msTime(disAt)
		o.LastSuccess, o.LastFailure, o.LastError = msTime(success), msTime(failed), h.LastError
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("outbox: integrations: %w", err)
	}
	slices.SortFunc(out, func(a, b IntegrationHealth) int {
		return cmp.Or(cmp.Compare(a.Receiver, b.Receiver), cmp.Compare(a.Name, b.Name))
	})
	return out, nil
}

func msTime(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64)
}

func prefixed(prefix, columns string) string {
	parts := strings.Split(columns, ", ")
	for i := range parts {
		parts[i] = prefix + parts[i]
	}
	return strings.Join(parts, ", ")
}
