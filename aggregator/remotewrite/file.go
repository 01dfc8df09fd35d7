package remotewrite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// queueFile is an endpoint's SQLite file: one row per ready-to-send request
// body, the row id being the sending order. Rows are written by the flusher
// and deleted once delivered (or dropped); nothing else reads the file, so it
// is opened in exclusive locking mode, which also keeps a second queue or
// process from sending the same rows.
type queueFile struct {
	db      *sql.DB
	path    string
	pending pending // at open
}

// fileName is the queue file of an endpoint: its name where that is a safe
// file name, else a sanitized name with a hash of the real one, so two names
// never share a file.
func fileName(name string) string {
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.' {
			return r
		}
		return '_'
	}, name)
	if safe != name || strings.HasPrefix(name, ".") || name == "" {
		h := fnv.New32a()
		h.Write([]byte(name))
		safe = fmt.Sprintf("%s-%08x", strings.TrimLeft(safe, "."), h.Sum32())
	}
	return safe + ".db"
}

const schemaVersion = 1

const schema = `CREATE TABLE batches (
	id      INTEGER PRIMARY KEY AUTOINCREMENT, -- sending order; never reused
	samples INTEGER NOT NULL,
	min_t   INTEGER NOT NULL,    -- oldest sample, ms
	max_t   INTEGER NOT NULL,    -- newest sample, ms
	body    BLOB NOT NULL        -- snappy-compressed prompb.WriteRequest
)`

// batch is one request body with what Status and the metrics need to know
// about it without decoding it.
type batch struct {
	id         int64 // 0 until written
	body       []byte
	samples    int
	minT, maxT int64
}

func openQueueFile(ctx context.Context, path string) (*queueFile, error) {
	// busy_timeout first so that a second opener waits a little, then fails;
	// locking_mode before the first access, so WAL needs no shared memory.
	dsn := "file:" + path + "?_pragma=busy_timeout(1000)&_pragma=locking_mode(EXCLUSIVE)" +
		"&_pragma=auto_vacuum(INCREMENTAL)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
		"&_pragma=journal_size_limit(16777216)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open queue file %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	f := &queueFile{db: db, path: path}
	if err := f.init(ctx); err != nil {
		db.Close()
		if sqliteCode(err) == sqliteBusy {
			return nil, fmt.Errorf("queue file %s is in use by another remote-write queue or process", path)
		}
		return nil, fmt.Errorf("queue file %s: %w", path, err)
	}
	return f, nil
}

func (f *queueFile) init(ctx context.Context) error {
	var version int
	if err := f.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	switch {
	case version > schemaVersion:
		return fmt.Errorf("schema version %d is newer than this gpuwd knows (%d); upgrade gpuwd", version, schemaVersion)
	case version == 0:
		if _, err := f.db.ExecContext(ctx, schema); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
		if _, err := f.db.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
	}
	row := f.db.QueryRowContext(ctx, "SELECT count(*), coalesce(sum(length(body)), 0), coalesce(sum(samples), 0) FROM batches")
	if err := row.Scan(&f.pending.batches, &f.pending.bytes, &f.pending.samples); err != nil {
		return fmt.Errorf("count batches: %w", err)
	}
	t, ok, err := f.oldestAfter(ctx, 0)
	if err != nil {
		return err
	}
	if ok {
		f.pending.oldest.note(t)
	}
	return nil
}

// insert appends a batch to the queue and returns its id.
func (f *queueFile) insert(ctx context.Context, b batch) (int64, error) {
	res, err := f.db.ExecContext(ctx, "INSERT INTO batches (samples, min_t, max_t, body) VALUES (?, ?, ?, ?)",
		b.samples, b.minT, b.maxT, b.body)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// next is the first batch after id, if any.
func (f *queueFile) next(ctx context.Context, after int64) (batch, bool, error) {
	var b batch
	err := f.db.QueryRowContext(ctx, "SELECT id, samples, min_t, max_t, body FROM batches WHERE id > ? ORDER BY id LIMIT 1", after).
		Scan(&b.id, &b.samples, &b.minT, &b.maxT, &b.body)
	if errors.Is(err, sql.ErrNoRows) {
		return batch{}, false, nil
	}
	if err != nil {
		return batch{}, false, fmt.Errorf("read queue: %w", err)
	}
	return b, true, nil
}

// oldestAfter is the oldest sample time of the first batch after id.
func (f *queueFile) oldestAfter(ctx context.Context, after int64) (int64, bool, error) {
	var t int64
	err := f.db.QueryRowContext(ctx, "SELECT min_t FROM batches WHERE id > ? ORDER BY id LIMIT 1", after).Scan(&t)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read queue: %w", err)
	}
	return t, true, nil
}

// deleteThrough removes the batches up to id.
func (f *queueFile) deleteThrough(ctx context.Context, id int64) error {
	if _, err := f.db.ExecContext(ctx, "DELETE FROM batches WHERE id <= ?", id); err != nil {
		return fmt.Errorf("delete sent batches: %w", err)
	}
	return nil
}

// trim drops the oldest batches after id until excess bytes are freed, and
// returns what it dropped.
func (f *queueFile) trim(ctx context.Context, after, excess int64) (pending, error) {
	var dropped pending
	rows, err := f.db.QueryContext(ctx, "SELECT id, samples, length(body) FROM batches WHERE id > ? ORDER BY id", after)
	if err != nil {
		return dropped, fmt.Errorf("trim queue: %w", err)
	}
	var last int64
	for dropped.bytes < excess && rows.Next() {
		var samples, size int64
		if err := rows.Scan(&last, &samples, &size); err != nil {
			rows.Close()
			return pending{}, fmt.Errorf("trim queue: %w", err)
		}
		dropped.batches++
		dropped.samples += samples
		dropped.bytes += size
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return pending{}, fmt.Errorf("trim queue: %w", err)
	}
	if dropped.batches == 0 {
		return dropped, nil
	}
	if _, err := f.db.ExecContext(ctx, "DELETE FROM batches WHERE id > ? AND id <= ?", after, last); err != nil {
		return pending{}, fmt.Errorf("trim queue: %w", err)
	}
	return dropped, nil
}

// vacuum gives the pages of deleted batches back to the file system, so a
// queue file that grew during an outage shrinks once it drained.
func (f *queueFile) vacuum(ctx context.Context) error {
	if _, err := f.db.ExecContext(ctx, "PRAGMA incremental_vacuum"); err != nil {
		return fmt.Errorf("vacuum queue file: %w", err)
	}
	_, err := f.db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}

func (f *queueFile) close() error { return f.db.Close() }

const (
	sqliteBusy = 5  // SQLITE_BUSY
	sqliteFull = 13 // SQLITE_FULL
)

// sqliteCode is the primary SQLite result code of err, or 0.
func sqliteCode(err error) int {
	var coded interface{ Code() int }
	if errors.As(err, &coded) {
		return coded.Code() & 0xff
	}
	return 0
}
