package audit

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

const schema = `
CREATE TABLE IF NOT EXISTS audit_log (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	at      INTEGER NOT NULL, -- Unix nanoseconds
	user    TEXT NOT NULL,
	addr    TEXT NOT NULL,
	action  TEXT NOT NULL,
	target  TEXT NOT NULL,
	detail  TEXT NOT NULL,
	result  TEXT NOT NULL     -- "started", "ok" or what went wrong
) STRICT;
`

// Results of an entry besides an error's text.
const (
	Started = "started"
	OK      = "ok"
)

// Entry is one action.
type Entry struct {
	ID     int64     `json:"id"`
	Time   time.Time `json:"time"`
	User   string    `json:"user"`
	Addr   string    `json:"addr"`
	Action string    `json:"action"` // e.g. silence.create, rule.update, login
	Target string    `json:"target"` // what it acted on: a silence id, a rule name
	Detail string    `json:"detail"` // the request in words: matchers, the rule's expression
	Result string    `json:"result"`
}

// Log is the audit log.
type Log struct {
	db  *sql.DB
	now func() time.Time
}

// Open creates the log's table in db when missing.
func Open(ctx context.Context, db *sql.DB) (*Log, error) {
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return nil, fmt.Errorf("audit: create table: %w", err)
	}
	return &Log{db: db, now: time.Now}, nil
}

// Begin records an action about to run (result "started") and returns
// the function that records how it ended. An error means the action must
// not run.
func (l *Log) Begin(ctx context.Context, e Entry) (finish func(error), err error) {
	e.Result = Started
	id, err := l.insert(ctx, e)
	if err != nil {
		return nil, err
	}
	return func(actionErr error) {
		result := OK
		if actionErr != nil {
			result = actionErr.Error()
		}
		// The action is done; its outcome must not be lost to a cancelled
		// request.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_, _ = l.db.ExecContext(ctx, `UPDATE audit_log SET result = ? WHERE id = ?`, result, id)
	}, nil
}

// Record writes an entry that is complete already (a login attempt).
func (l *Log) Record(ctx context.Context, e Entry) error {
	_, err := l.insert(ctx, e)
	return err
}

func (l *Log) insert(ctx context.Context, e Entry) (int64, error) {
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	res, err := l.db.ExecContext(ctx, `INSERT INTO audit_log (at, user, addr, action, target, detail, result) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.Time.UnixNano(), e.User, e.Addr, e.Action, e.Target, e.Detail, e.Result)
	if err != nil {
		return 0, fmt.Errorf("audit: the action was not run because it could not be recorded: %w", err)
	}
	return res.LastInsertId()
}

// Filter narrows List; zero values match everything.
type Filter struct {
	User, Action string
	Before       int64 // entries with a smaller id: the next page
	Limit        int   // default and most: 1000
}

// List returns entries newest first.
func (l *Log) List(ctx context.Context, f Filter) ([]Entry, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 1000
	}
	q := `SELECT id, at, user, addr, action, target, detail, result FROM audit_log WHERE 1=1`
	var args []any
	if f.User != "" {
		q += ` AND user = ?`
		args = append(args, f.User)
	}
	if f.Action != "" {
		q += ` AND action = ?`
		args = append(args, f.Action)
	}
	if f.Before > 0 {
		q += ` AND id < ?`
		args = append(args, f.Before)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, f.Limit)
	rows, err := l.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.User, &e.Addr, &e.Action, &e.Target, &e.Detail, &e.Result); err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
		e.Time = time.Unix(0, at)
		out = append(out, e)
	}
	return out, rows.Err()
}
