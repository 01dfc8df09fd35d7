package userrules

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Change is one create, update (which may rename) or delete of a rule.
type Change struct {
	Version int64 // the rule's Version after the change
	At      time.Time
	By      string
	Action  string // "create", "update" or "delete"
	Name    string
	OldName string // the name before a rename, else Name
	Rule    Rule   // after the change; for a delete, the deleted rule
}

// ruleJSON is a rule as the change log keeps it.
type ruleJSON struct {
	Expr          string            `json:"expr"`
	For           time.Duration     `json:"for,omitempty"`
	KeepFiringFor time.Duration     `json:"keep_firing_for,omitempty"`
	Labels        map[string]string `json:"labels,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

// logChange records a change in tx and returns its id, the rule's new
// version.
func logChange(ctx context.Context, tx *sql.Tx, at time.Time, by, action, name, oldName string, r Rule) (int64, error) {
	js, _ := json.Marshal(ruleJSON{Expr: r.Expr, For: r.For, KeepFiringFor: r.KeepFiringFor, Labels: r.Labels, Annotations: r.Annotations})
	res, err := tx.ExecContext(ctx, "INSERT INTO userrules_changes (at, by, action, name, old_name, rule) VALUES (?, ?, ?, ?, ?, ?)",
		at.UnixNano(), by, action, name, oldName, string(js))
	if err != nil {
		return 0, fmt.Errorf("userrules: log change of %q: %w", name, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("userrules: log change of %q: %w", name, err)
	}
	return id, nil
}

// History returns the changes of the rule named name (under this name or,
// renamed, from it; "": of every rule), newest first, at most limit (0:
// 100).
func (s *Store) History(ctx context.Context, name string, limit int) ([]Change, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, at, by, action, name, old_name, rule FROM userrules_changes
		WHERE ? = '' OR name = ? OR old_name = ? ORDER BY id DESC LIMIT ?`, name, name, name, limit)
	if err != nil {
		return nil, fmt.Errorf("userrules: read history: %w", err)
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		var at int64
		var js string
		if err := rows.Scan(&c.Version, &at, &c.By, &c.Action, &c.Name, &c.OldName, &js); err != nil {
			return nil, fmt.Errorf("userrules: read history: %w", err)
		}
		c.At = time.Unix(0, at).UTC()
		var rj ruleJSON
		if err := json.Unmarshal([]byte(js), &rj); err != nil {
			return nil, fmt.Errorf("userrules: read history: change %d: %w", c.Version, err)
		}
		c.Rule = Rule{Name: c.Name, Expr: rj.Expr, For: rj.For, KeepFiringFor: rj.KeepFiringFor, Labels: rj.Labels, Annotations: rj.Annotations,
			UpdatedBy: c.By, UpdatedAt: c.At, Version: c.Version}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("userrules: read history: %w", err)
	}
	return out, nil
}
