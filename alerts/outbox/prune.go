package outbox

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// pruneBatch bounds how long one pruning transaction holds alerts.db.
const pruneBatch = 500

// Prune deletes the notifications enqueued before before whose deliveries
// are all finished, with their deliveries, and returns how many it deleted.
// It keeps the newest notification of every (receiver, group key), which
// Last answers with, and every notification with a pending delivery, held
// ones included.
func (o *Outbox) Prune(ctx context.Context, before time.Time) (int, error) {
	total := 0
	for {
		n, err := o.pruneBatch(ctx, before.UnixMilli())
		total += n
		if err != nil {
			return total, fmt.Errorf("outbox: prune: %w", err)
		}
		if n < pruneBatch {
			return total, nil
		}
	}
}

func (o *Outbox) pruneBatch(ctx context.Context, before int64) (int, error) {
	var ids []any
	err := o.tx(ctx, time.Minute, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT n.id FROM outbox_notifications n
			WHERE n.created_at < ?
			AND n.id < (SELECT MAX(m.id) FROM outbox_notifications m WHERE m.receiver = n.receiver AND m.group_key = n.group_key)
			AND NOT EXISTS (SELECT 1 FROM outbox_deliveries d WHERE d.notification_id = n.id AND d.status = 'pending')
			ORDER BY n.id LIMIT ?`, before, pruneBatch)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		in := "(?" + strings.Repeat(", ?", len(ids)-1) + ")"
		if _, err := tx.ExecContext(ctx, `DELETE FROM outbox_deliveries WHERE notification_id IN `+in, ids...); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM outbox_notifications WHERE id IN `+in, ids...)
		return err
	})
	if err != nil {
		return 0, err
	}
	return len(ids), nil
}

// pruneEvery is Run's periodic Prune, from its start until ctx ends.
func (o *Outbox) pruneEvery(ctx context.Context) {
	t := time.NewTicker(o.opts.PruneInterval)
	defer t.Stop()
	for {
		n, err := o.Prune(ctx, o.opts.Now().Add(-o.opts.Retention))
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			o.log.Error("outbox: pruning old notifications failed", "err", err)
		case n > 0:
			o.log.Info("outbox: pruned old notifications", "count", n, "retention", o.opts.Retention)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
