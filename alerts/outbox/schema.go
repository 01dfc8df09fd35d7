package outbox

import (
	"context"
	"database/sql"
	"fmt"
)

// schema is the outbox's part of alerts.db. Times are Unix milliseconds.
// Deliveries repeat their notification's receiver and enqueue time so that
// the queues and the health summary read one table.
const schema = `
CREATE TABLE IF NOT EXISTS outbox_notifications (
	id         INTEGER PRIMARY KEY AUTOINCREMENT, -- enqueue order, never reused
	receiver   TEXT    NOT NULL,
	group_key  TEXT    NOT NULL,
	firing     TEXT    NOT NULL, -- JSON array of fingerprints
	resolved   TEXT    NOT NULL, -- JSON array of fingerprints
	message    BLOB    NOT NULL, -- JSON notify.Message
	created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_notifications_group
	ON outbox_notifications (receiver, group_key, id);
CREATE INDEX IF NOT EXISTS outbox_notifications_created
	ON outbox_notifications (created_at);

CREATE TABLE IF NOT EXISTS outbox_deliveries (
	notification_id INTEGER NOT NULL,
	receiver        TEXT    NOT NULL,
	integration     TEXT    NOT NULL,
	status          TEXT    NOT NULL, -- pending|delivered|failed|expired|skipped|dropped
	attempts        INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT    NOT NULL DEFAULT '',
	next_attempt    INTEGER NOT NULL DEFAULT 0,
	enqueued_at     INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL,
	delivered_at    INTEGER, -- NULL until delivered
	PRIMARY KEY (notification_id, integration)
);
CREATE INDEX IF NOT EXISTS outbox_deliveries_pending
	ON outbox_deliveries (receiver, integration, notification_id) WHERE status = 'pending';

CREATE TABLE IF NOT EXISTS outbox_integrations (
	receiver        TEXT    NOT NULL,
	integration     TEXT    NOT NULL,
	disabled        INTEGER NOT NULL DEFAULT 0,
	disabled_hash   TEXT    NOT NULL DEFAULT '', -- ConfigHash it was disabled under
	disabled_reason TEXT    NOT NULL DEFAULT '',
	disabled_at     INTEGER,
	last_success    INTEGER,
	last_failure    INTEGER,
	last_error      TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (receiver, integration)
);
`

func createSchema(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("outbox: create tables: %w", err)
	}
	return nil
}
