package rules

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// SQLState keeps alert state and history in alerts.db.
type SQLState struct {
	db *sql.DB
}

const stateSchema = `
CREATE TABLE IF NOT EXISTS rules_group_state (
	group_key TEXT PRIMARY KEY,
	last_eval INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS rules_alert_state (
	group_key TEXT NOT NULL,
	rule_key TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	alert TEXT NOT NULL,
	PRIMARY KEY (group_key, rule_key, fingerprint)
);
CREATE TABLE IF NOT EXISTS rules_alert_history (
	id INTEGER PRIMARY KEY,
	at INTEGER NOT NULL,
	group_name TEXT NOT NULL,
	rule TEXT NOT NULL,
	labels TEXT NOT NULL,
	from_state TEXT NOT NULL,
	to_state TEXT NOT NULL,
	value REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS rules_alert_history_at ON rules_alert_history (at);
`

// NewSQLState creates its tables in db when missing.
func NewSQLState(ctx context.Context, db *sql.DB) (*SQLState, error) {
	if _, err := db.ExecContext(ctx, stateSchema); err != nil {
		return nil, fmt.Errorf("alert state: create tables: %w", err)
	}
	return &SQLState{db: db}, nil
}

// Load implements StateStore.
func (s *SQLState) Load(ctx context.Context) (map[string]SavedGroup, error) {
	out := map[string]SavedGroup{}
	rows, err := s.db.QueryContext(ctx, "SELECT group_key, last_eval FROM rules_group_state")
	if err != nil {
		return nil, fmt.Errorf("alert state: %w", err)
	}
	for rows.Next() {
		var key string
		var ms int64
		if err := rows.Scan(&key, &ms); err != nil {
			rows.Close()
			return nil, fmt.Errorf("alert state: %w", err)
		}
		out[key] = SavedGroup{LastEval: time.UnixMilli(ms), Rules: map[string]map[string]SavedAlert{}}
	}
	rows.Close()
	rows, err = s.db.QueryContext(ctx, "SELECT group_key, rule_key, fingerprint, alert FROM rules_alert_state")
	if err != nil {
		return nil, fmt.Errorf("alert state: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var gk, rk, fp, js string
		if err := rows.Scan(&gk, &rk, &fp, &js); err != nil {
			return nil, fmt.Errorf("alert state: %w", err)
		}
		var a SavedAlert
		if err := json.Unmarshal([]byte(js), &a); err != nil {
			continue // a row we cannot read is an alert that starts afresh
		}
		g, ok := out[gk]
		if !ok {
			continue
		}
		if g.Rules[rk] == nil {
			g.Rules[rk] = map[string]SavedAlert{}
		}
		g.Rules[rk][fp] = a
	}
	return out, rows.Err()
}

// Save implements StateStore, in one transaction.
func (s *SQLState) Save(ctx context.Context, group string, lastEval time.Time, rules map[string]map[string]SavedAlert, trans []Transition) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("alert state: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO rules_group_state (group_key, last_eval) VALUES (?, ?)", group, lastEval.UnixMilli()); err != nil {
		return fmt.Errorf("alert state: %w", err)
	}
	if rules != nil {
		if _, err := tx.ExecContext(ctx, "DELETE FROM rules_alert_state WHERE group_key = ?", group); err != nil {
			return fmt.Errorf("alert state: %w", err)
		}
		stmt, err := tx.PrepareContext(ctx, "INSERT INTO rules_alert_state (group_key, rule_key, fingerprint, alert) VALUES (?, ?, ?, ?)")
		if err != nil {
			return fmt.Errorf("alert state: %w", err)
		}
		defer stmt.Close()
		for rk, alerts := range rules {
			for fp, a := range alerts {
				js, _ := json.Marshal(a)
				if _, err := stmt.ExecContext(ctx, group, rk, fp, string(js)); err != nil {
					return fmt.Errorf("alert state: %w", err)
				}
			}
		}
	}
	for _, t := range trans {
		ls, _ := json.Marshal(t.Labels)
		if _, err := tx.ExecContext(ctx, "INSERT INTO rules_alert_history (at, group_name, rule, labels, from_state, to_state, value) VALUES (?, ?, ?, ?, ?, ?, ?)",
			t.At.UnixMilli(), t.Group, t.Rule, string(ls), t.From.String(), t.To.String(), t.Value); err != nil {
			return fmt.Errorf("alert history: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("alert state: %w", err)
	}
	return nil
}

// Delete implements StateStore.
func (s *SQLState) Delete(ctx context.Context, group string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{"DELETE FROM rules_alert_state WHERE group_key = ?", "DELETE FROM rules_group_state WHERE group_key = ?"} {
		if _, err := tx.ExecContext(ctx, q, group); err != nil {
			return fmt.Errorf("alert state: %w", err)
		}
	}
	return tx.Commit()
}

// HistoryEntry is one alert state change.
type HistoryEntry struct {
	At     time.Time         `json:"at"`
	Group  string            `json:"group"`
	Rule   string            `json:"rule"`
	Labels map[string]string `json:"labels"`
	From   string            `json:"from"`
	To     string            `json:"to"`
	Value  float64           `json:"value"`
}

// History returns state changes since since, newest first, at most limit
// (0: 1000); rule filters by alert name when set.
func (s *SQLState) History(ctx context.Context, since time.Time, rule string, limit int) ([]HistoryEntry, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.db.QueryContext(ctx, `SELECT at, group_name, rule, labels, from_state, to_state, value FROM rules_alert_history
		WHERE at >= ? AND (? = '' OR rule = ?) ORDER BY at DESC, id DESC LIMIT ?`, since.UnixMilli(), rule, rule, limit)
	if err != nil {
		return nil, fmt.Errorf("alert history: %w", err)
	}
	defer rows.Close()
	var out []HistoryEntry
	for rows.Next() {
		var e HistoryEntry
		var at int64
		var ls string
		if err := rows.Scan(&at, &e.Group, &e.Rule, &ls, &e.From, &e.To, &e.Value); err != nil {
			return nil, fmt.Errorf("alert history: %w", err)
		}
		e.At = time.UnixMilli(at)
		_ = json.Unmarshal([]byte(ls), &e.Labels)
		out = append(out, e)
	}
	return out, rows.Err()
}

// PruneHistory deletes history older than before.
func (s *SQLState) PruneHistory(ctx context.Context, before time.Time) error {
	_, err := s.db.ExecContext(ctx, "DELETE FROM rules_alert_history WHERE at < ?", before.UnixMilli())
	return err
}
