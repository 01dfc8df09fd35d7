package alertdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"modernc.org/sqlite"
	_ "modernc.org/sqlite" // the "sqlite" driver
)

// FileName is the database's name inside the data directory.
const FileName = "alerts.db"

// Open opens (creating when missing) the alert database in dir. Writes are
// serialised on one connection with immediate transactions, so concurrent
// writers queue instead of failing with "database is locked"; synchronous
// is FULL because a notification acknowledged as queued must survive a
// power cut.
func Open(ctx context.Context, dir string) (*sql.DB, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("alertdb: %w", err)
	}
	path := filepath.Join(dir, FileName)
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("alertdb: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("alertdb: open %s: %w", path, err)
	}
	return db, nil
}

// IsDiskFull reports whether err is SQLite's "database or disk is full".
func IsDiskFull(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == 13 // SQLITE_FULL
}
