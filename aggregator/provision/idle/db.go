package idle

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// keepRecords is how long the records of actions are kept.
const keepRecords = 7 * 24 * time.Hour

const schema = `
CREATE TABLE IF NOT EXISTS provision_idle_actions (
	policy   TEXT NOT NULL,
	provider TEXT NOT NULL,
	pod_id   TEXT NOT NULL,
	fired_ms INTEGER NOT NULL,
	record   TEXT NOT NULL, -- Record as JSON
	at_ms    INTEGER NOT NULL,
	PRIMARY KEY (policy, provider, pod_id, fired_ms)
);
CREATE INDEX IF NOT EXISTS provision_idle_actions_at ON provision_idle_actions (at_ms);
`

type recordDB struct{ db *sql.DB }

func openRecordDB(ctx context.Context, db *sql.DB) (*recordDB, error) {
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return nil, fmt.Errorf("idle: create table: %w", err)
	}
	return &recordDB{db}, nil
}

func (d *recordDB) save(ctx context.Context, r Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = d.db.ExecContext(ctx, `INSERT INTO provision_idle_actions (policy, provider, pod_id, fired_ms, record, at_ms)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (policy, provider, pod_id, fired_ms) DO UPDATE SET record = excluded.record, at_ms = excluded.at_ms`,
		r.Policy, r.Provider, r.PodID, r.FiredAt.UnixMilli(), string(b), r.At.UnixMilli())
	return err
}

// since lists the records of attempts made since t, newest first.
func (d *recordDB) since(ctx context.Context, t time.Time) ([]Record, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT record FROM provision_idle_actions WHERE at_ms >= ? ORDER BY at_ms DESC`, t.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("idle: list actions: %w", err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var s string
		var r Record
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(s), &r); err != nil {
			return nil, fmt.Errorf("idle: a recorded action: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (d *recordDB) prune(ctx context.Context, before time.Time) error {
	_, err := d.db.ExecContext(ctx, `DELETE FROM provision_idle_actions WHERE at_ms < ?`, before.UnixMilli())
	return err
}
