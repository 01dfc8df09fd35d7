package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrDiskFull is returned (wrapped) by writes that failed because the disk
// holding the database is full. Nothing of such a write is kept; writes
// succeed again once space is freed.
var ErrDiskFull = errors.New("disk full")

// writer is the store's only writing connection. Appends queued while a
// transaction commits are committed together in the next one (group commit),
// so many scrape loops cost one fsync, not one each.
type writer struct {
	db   *sql.DB
	reqs chan *writeReq
	stop chan struct{}
	done chan struct{}

	mu       sync.Mutex
	pending  []*memSeries        // series rows still to insert, before any record naming them
	metadata map[string]Metadata // metadata rows still to write

	onResult func(err error, samples int, took time.Duration)
}

type writeReq struct {
	wal        []byte // a write-ahead record, or
	mint, maxt int64
	samples    int
	job        func(*sql.Tx) error // a maintenance job in its own transaction
	done       chan error
}

const maxGroupRequests = 512

func newWriter(db *sql.DB, onResult func(error, int, time.Duration)) *writer {
	w := &writer{db: db, reqs: make(chan *writeReq, 1024), stop: make(chan struct{}), done: make(chan struct{}), onResult: onResult}
	go w.loop()
	return w
}

// addSeries queues a new series' row; it is written before or with the first
// record that could name it.
func (w *writer) addSeries(s *memSeries) {
	w.mu.Lock()
	w.pending = append(w.pending, s)
	w.mu.Unlock()
}

// addMetadata queues a metadata row for the next transaction.
func (w *writer) addMetadata(metric string, m Metadata) {
	w.mu.Lock()
	if w.metadata == nil {
		w.metadata = map[string]Metadata{}
	}
	w.metadata[metric] = m
	w.mu.Unlock()
}

// submit queues r and waits for its transaction.
func (w *writer) submit(ctx context.Context, r *writeReq) error {
	r.done = make(chan error, 1)
	select {
	case w.reqs <- r:
	case <-w.stop:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		// The request may still commit; the caller just stops waiting.
		return ctx.Err()
	}
}

// run executes job in a transaction of its own.
func (w *writer) run(ctx context.Context, job func(*sql.Tx) error) error {
	return w.submit(ctx, &writeReq{job: job})
}

var errClosed = errors.New("store is closed")

func (w *writer) close() {
	close(w.stop)
	<-w.done
}

func (w *writer) loop() {
	defer close(w.done)
	batch := make([]*writeReq, 0, maxGroupRequests)
	for {
		var first *writeReq
		select {
		case first = <-w.reqs:
		case <-w.stop:
			w.drain()
			return
		}
		if first.job != nil {
			w.commit([]*writeReq{first})
			continue
		}
		batch = append(batch[:0], first)
	collect:
		for len(batch) < maxGroupRequests {
			select {
			case r := <-w.reqs:
				if r.job != nil {
					w.commit(batch)
					batch = batch[:0]
					w.commit([]*writeReq{r})
					continue
				}
				batch = append(batch, r)
			default:
				break collect
			}
		}
		if len(batch) > 0 {
			w.commit(batch)
		}
	}
}

// drain fails what is still queued at close.
func (w *writer) drain() {
	for {
		select {
		case r := <-w.reqs:
			r.done <- errClosed
		default:
			return
		}
	}
}

func (w *writer) commit(batch []*writeReq) {
	start := time.Now()
	w.mu.Lock()
	series, meta := w.pending, w.metadata
	w.pending, w.metadata = nil, nil
	w.mu.Unlock()

	err := w.tx(series, meta, batch)
	if err != nil {
		w.mu.Lock()
		w.pending = append(series, w.pending...)
		for k, v := range meta {
			if _, newer := w.metadata[k]; !newer {
				if w.metadata == nil {
					w.metadata = map[string]Metadata{}
				}
				w.metadata[k] = v
			}
		}
		w.mu.Unlock()
	}
	samples := 0
	for _, r := range batch {
		samples += r.samples
	}
	// Record the result before answering, so a caller that sees its write
	// fail also sees WriteError say why.
	if w.onResult != nil {
		w.onResult(err, samples, time.Since(start))
	}
	for _, r := range batch {
		r.done <- err
	}
}

func (w *writer) tx(series []*memSeries, meta map[string]Metadata, batch []*writeReq) (err error) {
	ctx := context.Background()
	defer func() { err = classify(err) }()
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if len(series) > 0 {
		stmt, err := tx.PrepareContext(ctx, "INSERT OR REPLACE INTO series (id, labels, first_t, last_t) VALUES (?, ?, ?, ?)")
		if err != nil {
			return err
		}
		var buf []byte
		for _, s := range series {
			buf = encodeLabels(buf[:0], s.lset)
			if _, err := stmt.ExecContext(ctx, int64(s.ref), buf, s.firstT, s.firstT); err != nil {
				stmt.Close()
				return fmt.Errorf("insert series: %w", err)
			}
		}
		stmt.Close()
	}
	for name, m := range meta {
		if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO metadata (metric, type, help, unit) VALUES (?, ?, ?, ?)", name, m.Type, m.Help, m.Unit); err != nil {
			return fmt.Errorf("metadata: %w", err)
		}
	}
	for _, r := range batch {
		if r.job != nil {
			if err := r.job(tx); err != nil {
				return err
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO wal (mint, maxt, data) VALUES (?, ?, ?)", r.mint, r.maxt, r.wal); err != nil {
			return fmt.Errorf("write-ahead: %w", err)
		}
	}
	return tx.Commit()
}

// classify marks a full disk so callers can tell it from other failures.
func classify(err error) error {
	if err == nil || errors.Is(err, ErrDiskFull) {
		return err
	}
	var coded interface{ Code() int }
	if errors.As(err, &coded) && coded.Code()&0xff == sqliteFull {
		return fmt.Errorf("%w: %v", ErrDiskFull, err)
	}
	return err
}

const sqliteFull = 13 // SQLITE_FULL
