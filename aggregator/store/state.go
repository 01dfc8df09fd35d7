package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Names in the state table.
const (
	stateCompactedThrough   = "compacted_through"   // every window before this is in chunk tables
	stateDownsampledThrough = "downsampled_through" // every day before this is downsampled
)

func (s *Store) readState(ctx context.Context, name string) (int64, error) {
	var v int64
	err := s.db.QueryRowContext(ctx, "SELECT value FROM state WHERE name = ?", name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", name, err)
	}
	return v, nil
}

func writeState(tx *sql.Tx, name string, v int64) error {
	_, err := tx.Exec("INSERT OR REPLACE INTO state (name, value) VALUES (?, ?)", name, v)
	return err
}

// Table kinds: raw compressed chunks, and downsampled points.
const (
	rawTable = "chunks"
	dsTable  = "ds"
)

// dayTables knows which per-day tables exist. Days are UTC days since the
// epoch.
type dayTables struct {
	mu  sync.RWMutex
	raw map[int64]bool
	ds  map[int64]bool
}

var dayTableRE = regexp.MustCompile(`^(chunks|ds)_(\d+)$`)

func loadDayTables(ctx context.Context, db *sql.DB) (*dayTables, error) {
	dt := &dayTables{raw: map[int64]bool{}, ds: map[int64]bool{}}
	rows, err := db.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'table'")
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		if m := dayTableRE.FindStringSubmatch(name); m != nil {
			d, _ := strconv.ParseInt(m[2], 10, 64)
			dt.kind(m[1])[d] = true
		}
	}
	return dt, rows.Err()
}

func (dt *dayTables) kind(k string) map[int64]bool {
	if k == rawTable {
		return dt.raw
	}
	return dt.ds
}

func tableName(kind string, d int64) string { return kind + "_" + strconv.FormatInt(d, 10) }

// ensure creates the day table inside tx if needed; call markCreated after
// the commit.
func (dt *dayTables) ensure(tx *sql.Tx, kind string, d int64) error {
	dt.mu.RLock()
	ok := dt.kind(kind)[d]
	dt.mu.RUnlock()
	if ok {
		return nil
	}
	_, err := tx.Exec("CREATE TABLE IF NOT EXISTS " + tableName(kind, d) +
		" (series_id INTEGER NOT NULL, mint INTEGER NOT NULL, maxt INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (series_id, mint)) WITHOUT ROWID")
	return err
}

func (dt *dayTables) set(kind string, d int64, exists bool) {
	dt.mu.Lock()
	defer dt.mu.Unlock()
	if exists {
		dt.kind(kind)[d] = true
	} else {
		delete(dt.kind(kind), d)
	}
}

// days returns the sorted days having a table of the kind.
func (dt *dayTables) days(kind string) []int64 {
	dt.mu.RLock()
	defer dt.mu.RUnlock()
	var out []int64
	for d := range dt.kind(kind) {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}

func (dt *dayTables) has(kind string, d int64) bool {
	dt.mu.RLock()
	defer dt.mu.RUnlock()
	return dt.kind(kind)[d]
}

func dayOf(t int64) int64 {
	if t < 0 {
		return (t+1)/day - 1
	}
	return t / day
}

// dayString names a day for logs: 2026-11-23.
func dayString(d int64) string {
	return time.UnixMilli(d * day).UTC().Format(time.DateOnly)
}
