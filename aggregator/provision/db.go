package provision

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

const schema = `
CREATE TABLE IF NOT EXISTS provision_launches (
	id         TEXT PRIMARY KEY,
	provider   TEXT NOT NULL,
	spec       TEXT NOT NULL, -- PodSpec as JSON, without Env (it holds secrets)
	user       TEXT NOT NULL,
	pod_id     TEXT NOT NULL DEFAULT '',
	node       TEXT NOT NULL DEFAULT '',
	stage      TEXT NOT NULL,
	error      TEXT NOT NULL DEFAULT '',
	reached    TEXT NOT NULL, -- stage → time (RFC 3339), JSON
	created_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS provision_launches_created ON provision_launches (created_ms);
`

// launchDB keeps launches, so a restarted aggregator follows the ones under
// way and the dashboard shows what happened.
type launchDB struct{ db *sql.DB }

func openLaunchDB(ctx context.Context, db *sql.DB) (*launchDB, error) {
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return nil, fmt.Errorf("provision: create tables: %w", err)
	}
	return &launchDB{db}, nil
}

func (d *launchDB) save(ctx context.Context, l Launch) error {
	spec := l.Spec
	spec.Env = nil
	sj, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	rj, err := json.Marshal(l.Reached)
	if err != nil {
		return err
	}
	_, err = d.db.ExecContext(ctx, `INSERT INTO provision_launches (id, provider, spec, user, pod_id, node, stage, error, reached, created_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET pod_id = excluded.pod_id, node = excluded.node, stage = excluded.stage,
			error = excluded.error, reached = excluded.reached`,
		l.ID, l.Provider, string(sj), l.User, l.PodID, l.Node, string(l.Stage), l.Error, string(rj), l.At(StageRequested).UnixMilli())
	if err != nil {
		return fmt.Errorf("provision: save launch %s: %w", l.ID, err)
	}
	return nil
}

// recent lists the launches made since t, newest first.
func (d *launchDB) recent(ctx context.Context, since time.Time) ([]Launch, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT id, provider, spec, user, pod_id, node, stage, error, reached
		FROM provision_launches WHERE created_ms >= ? ORDER BY created_ms DESC, id`, since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("provision: list launches: %w", err)
	}
	defer rows.Close()
	var out []Launch
	for rows.Next() {
		var l Launch
		var spec, reached, stage string
		if err := rows.Scan(&l.ID, &l.Provider, &spec, &l.User, &l.PodID, &l.Node, &stage, &l.Error, &reached); err != nil {
			return nil, err
		}
		l.Stage = Stage(stage)
		if err := json.Unmarshal([]byte(spec), &l.Spec); err != nil {
			return nil, fmt.Errorf("provision: launch %s: %w", l.ID, err)
		}
		if err := json.Unmarshal([]byte(reached), &l.Reached); err != nil {
			return nil, fmt.Errorf("provision: launch %s: %w", l.ID, err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}
