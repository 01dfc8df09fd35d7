package userrules

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Errors of Get, Save and Delete, wrapped with the rule's name.
var (
	ErrNotFound = errors.New("no dashboard rule has this name")
	ErrConflict = errors.New("the rule was changed by someone else since it was read")
)

// The rules, and a log of every change. A rule's version is the id of its
// last change; AUTOINCREMENT never reuses an id, so a stale version cannot
// match a rule deleted and created again.
const schema = `
CREATE TABLE IF NOT EXISTS userrules_rules (
	name            TEXT PRIMARY KEY,
	expr            TEXT NOT NULL,
	for_ns          INTEGER NOT NULL,
	keep_firing_ns  INTEGER NOT NULL,
	labels          TEXT NOT NULL, -- JSON object
	annotations     TEXT NOT NULL, -- JSON object
	updated_by      TEXT NOT NULL,
	updated_at      INTEGER NOT NULL, -- Unix nanoseconds
	version         INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS userrules_changes (
	id       INTEGER PRIMARY KEY AUTOINCREMENT,
	at       INTEGER NOT NULL, -- Unix nanoseconds
	by       TEXT NOT NULL,
	action   TEXT NOT NULL,    -- create, update, delete
	name     TEXT NOT NULL,
	old_name TEXT NOT NULL,    -- the name before a rename, else name
	rule     TEXT NOT NULL     -- JSON: the rule after the change; for delete, before
) STRICT;
`

// Options configure a Store; all may be left zero.
type Options struct {
	Now    func() time.Time // nil: time.Now
	Logger *slog.Logger     // nil: discard
}

// Store keeps dashboard rules in alerts.db. It is safe for concurrent use,
// and several processes may share the database: every change is one
// transaction that checks the version it read.
type Store struct {
	db  *sql.DB
	now func() time.Time
	log *slog.Logger
	mu  sync.Mutex // serialises this process's writers
}

// Open creates the tables when missing.
func Open(ctx context.Context, db *sql.DB, o Options) (*Store, error) {
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return nil, fmt.Errorf("userrules: create tables: %w", err)
	}
	s := &Store{db: db, now: o.Now, log: o.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// querier is what reads need: a DB or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

const columns = "name, expr, for_ns, keep_firing_ns, labels, annotations, updated_by, updated_at, version"

// List returns every rule, by name.
func (s *Store) List(ctx context.Context) ([]Rule, error) {
	return list(ctx, s.db, "")
}

// Get returns the rule named name, or ErrNotFound.
func (s *Store) Get(ctx context.Context, name string) (Rule, error) {
	rs, err := list(ctx, s.db, name)
	if err != nil {
		return Rule{}, err
	}
	if len(rs) == 0 {
		return Rule{}, fmt.Errorf("%q: %w", name, ErrNotFound)
	}
	return rs[0], nil
}

// list reads every rule, or the one named name.
func list(ctx context.Context, q querier, name string) ([]Rule, error) {
	rows, err := q.QueryContext(ctx, "SELECT "+columns+" FROM userrules_rules WHERE ? = '' OR name = ? ORDER BY name", name, name)
	if err != nil {
		return nil, fmt.Errorf("userrules: read rules: %w", err)
	}
	defer rows.Close()
	var out []Rule
	for rows.Next() {
		var r Rule
		var forNS, keepNS, at int64
		var ls, as string
		if err := rows.Scan(&r.Name, &r.Expr, &forNS, &keepNS, &ls, &as, &r.UpdatedBy, &at, &r.Version); err != nil {
			return nil, fmt.Errorf("userrules: read rules: %w", err)
		}
		r.For, r.KeepFiringFor, r.UpdatedAt = time.Duration(forNS), time.Duration(keepNS), time.Unix(0, at).UTC()
		if err := errors.Join(json.Unmarshal([]byte(ls), &r.Labels), json.Unmarshal([]byte(as), &r.Annotations)); err != nil {
			return nil, fmt.Errorf("userrules: read rule %q: %w", r.Name, err)
		}
		out = append(out, r.clone())
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("userrules: read rules: %w", err)
	}
	return out, nil
}

// Save creates r (oldName "") or replaces the rule named oldName with r,
// which may rename it, after Validate passes against the other rules. An
// update needs r.Version to be the stored rule's, else ErrConflict;
// ErrNotFound when oldName is gone. It returns the rule as stored (new
// Version, UpdatedBy by, UpdatedAt now) and Validate's warnings. Renaming
// makes a new alert: the old name's alerts resolve.
func (s *Store) Save(ctx context.Context, r Rule, oldName, by string) (Rule, []Problem, error) {
	r = r.clone()
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Rule{}, nil, fmt.Errorf("userrules: save: %w", err)
	}
	defer tx.Rollback()
	all, err := list(ctx, tx, "")
	if err != nil {
		return Rule{}, nil, err
	}
	var others []Rule
	var old *Rule
	for i := range all {
		if oldName != "" && all[i].Name == oldName {
			old = &all[i]
			continue
		}
		others = append(others, all[i])
	}
	switch {
	case oldName != "" && old == nil:
		return Rule{}, nil, fmt.Errorf("%q: %w", oldName, ErrNotFound)
	case old != nil && old.Version != r.Version:
		return Rule{}, nil, fmt.Errorf("%q: %w", oldName, ErrConflict)
	}
	warnings, err := Validate(r, others)
	if err != nil {
		return Rule{}, warnings, err
	}
	r.UpdatedBy, r.UpdatedAt = by, s.now().UTC()
	action, from := "create", r.Name
	if old != nil {
		action, from = "update", old.Name
	}
	if r.Version, err = logChange(ctx, tx, r.UpdatedAt, by, action, r.Name, from, r); err != nil {
		return Rule{}, nil, err
	}
	if old != nil {
		if err := deleteRow(ctx, tx, old.Name, old.Version); err != nil {
			return Rule{}, nil, err
		}
	}
	ls, _ := json.Marshal(nonNil(r.Labels))
	as, _ := json.Marshal(nonNil(r.Annotations))
	if _, err := tx.ExecContext(ctx, "INSERT INTO userrules_rules ("+columns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		r.Name, r.Expr, int64(r.For), int64(r.KeepFiringFor), string(ls), string(as), r.UpdatedBy, r.UpdatedAt.UnixNano(), r.Version); err != nil {
		return Rule{}, nil, fmt.Errorf("userrules: save %q: %w", r.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return Rule{}, nil, fmt.Errorf("userrules: save %q: %w", r.Name, err)
	}
	return r, warnings, nil
}

// Delete deletes the rule named name if its version is still version:
// ErrNotFound or ErrConflict otherwise. by is logged as who did it.
func (s *Store) Delete(ctx context.Context, name string, version int64, by string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("userrules: delete: %w", err)
	}
	defer tx.Rollback()
	rs, err := list(ctx, tx, name)
	switch {
	case err != nil:
		return err
	case len(rs) == 0:
		return fmt.Errorf("%q: %w", name, ErrNotFound)
	case rs[0].Version != version:
		return fmt.Errorf("%q: %w", name, ErrConflict)
	}
	if _, err := logChange(ctx, tx, s.now().UTC(), by, "delete", name, name, rs[0]); err != nil {
		return err
	}
	if err := deleteRow(ctx, tx, name, version); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("userrules: delete %q: %w", name, err)
	}
	return nil
}

// deleteRow deletes a rule at version; another version is a conflict (a
// writer in another process).
func deleteRow(ctx context.Context, tx *sql.Tx, name string, version int64) error {
	res, err := tx.ExecContext(ctx, "DELETE FROM userrules_rules WHERE name = ? AND version = ?", name, version)
	if err != nil {
		return fmt.Errorf("userrules: delete %q: %w", name, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("%q: %w", name, ErrConflict)
	}
	return nil
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// Content returns every rule as a Prometheus rule file, for export.
func (s *Store) Content(ctx context.Context) ([]byte, error) {
	rs, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	return Marshal(rs)
}

// Extra is rules.Options.Extra: the rule file of the rules that pass
// Validate, named File. A stored rule that no longer passes (a newer
// PromQL parser, a hand-edited database) is left out and logged, rather
// than stopping every rule from loading.
func (s *Store) Extra(ctx context.Context) (string, []byte, error) {
	rs, err := s.List(ctx)
	if err != nil {
		return File, nil, err
	}
	valid := rs[:0]
	for _, r := range rs {
		if _, err := Validate(r, nil); err != nil {
			s.log.Warn("dashboard rule not loaded: it no longer passes the checks; edit or delete it", "rule", r.Name, "err", err)
			continue
		}
		valid = append(valid, r)
	}
	b, err := Marshal(valid)
	return File, b, err
}
