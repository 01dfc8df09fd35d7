package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/chunk"
)

func (s *Store) maintainLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.MaintenanceInterval)
	defer t.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.stop
		cancel()
	}()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if err := s.Maintain(ctx); err != nil && ctx.Err() == nil {
				s.opts.Logger.Error("storage maintenance failed; retrying", "err", err)
			}
		}
	}
}

// Maintain runs one round of background work now: compaction of closed
// windows, downsampling of old days, and retention. The store runs it every
// MaintenanceInterval; tests and benchmarks call it directly.
func (s *Store) Maintain(ctx context.Context) error {
	s.maintainMu.Lock()
	defer s.maintainMu.Unlock()
	// Compaction follows the wall clock (early is harmless); what drops
	// data follows the steady clock (a clock stepped forward drops nothing).
	now, steady := s.opts.Now().UnixMilli(), s.steady.Now().UnixMilli()
	start := time.Now()
	err := s.compact(ctx, s.windowStart(now-s.opts.Grace.Milliseconds()))
	if err == nil {
		err = s.downsample(ctx, steady)
	}
	if err == nil {
		err = s.applyRetention(ctx, steady)
	}
	s.m.maintenance.Observe(time.Since(start).Seconds())
	if err != nil {
		s.m.maintenanceFailures.Inc()
	}
	return err
}

// chunkRow is one compressed chunk on its way to a day table.
type chunkRow struct {
	ref        SeriesRef
	mint, maxt int64
	data       []byte
}

const compactBatch = 2000

// compact moves every head window that starts before end into the chunk
// tables. Chunks are written in small transactions, so appends keep
// committing in between; the write-ahead rows are dropped and the mark moved
// in a last transaction. A crash part-way leaves the mark where it was: the
// head is replayed and the same chunks are written again (INSERT OR REPLACE).
func (s *Store) compact(ctx context.Context, end int64) error {
	if end <= s.compactedThrough.Load() {
		return nil
	}
	s.flushMu.Lock()
	s.minValidT.Store(max(s.minValidT.Load(), end))
	s.flushMu.Unlock()

	s.ix.mu.RLock()
	all := make([]*memSeries, 0, len(s.ix.byRef))
	for _, ms := range s.ix.byRef {
		all = append(all, ms)
	}
	s.ix.mu.RUnlock()

	prev := s.compactedThrough.Load()
	rows := make([]chunkRow, 0, compactBatch)
	written := 0
	keepFrom, fresh := end-s.recentSpan(), map[SeriesRef][]segment{}
	for _, ms := range all {
		for _, ws := range ms.headBefore(end) {
			for ts, vs := ws.ts, ws.vs; len(ts) > 0; {
				n := min(len(ts), chunk.MaxSamples)
				r := chunkRow{ref: ms.ref, mint: ts[0], maxt: ts[n-1], data: chunk.Encode(nil, ts[:n], vs[:n])}
				rows = append(rows, r)
				if r.mint >= keepFrom {
					fresh[ms.ref] = append(fresh[ms.ref], segment{kind: segRaw, minT: r.mint, maxT: r.maxt, data: r.data})
				}
				ts, vs = ts[n:], vs[n:]
			}
		}
		if len(rows) >= compactBatch {
			if err := s.writeChunks(ctx, rows); err != nil {
				return err
			}
			written += len(rows)
			rows = rows[:0]
		}
	}
	if err := s.writeChunks(ctx, rows); err != nil {
		return err
	}
	written += len(rows)
	// The mark moves first: replay skips write-ahead rows before it, so
	// they are dead and can go in small steps (a crash leaves some for
	// the next compaction), with appends committing in between.
	if err := s.w.run(ctx, func(tx *sql.Tx) error { return writeState(tx, stateCompactedThrough, end) }); err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	s.publishRecent(prev, end, fresh)
	s.compactedThrough.Store(end)
	for _, ms := range all {
		ms.dropHeadBefore(end)
	}
	s.m.chunksWritten.Add(float64(written))
	if err := s.dropWAL(ctx, end); err != nil {
		return err
	}
	// The dropped write-ahead rows' pages go back to the file system.
	return s.vacuum(ctx)
}

// Maintenance deletes and frees in steps of this many rows or pages, each
// its own transaction, so no append waits behind a long one.
const (
	walDropStep = 256
	vacuumStep  = 2048 // pages: 8 MiB
)

// dropWAL deletes the write-ahead rows that end before end.
func (s *Store) dropWAL(ctx context.Context, end int64) error {
	for {
		var n int64
		err := s.w.run(ctx, func(tx *sql.Tx) error {
			res, err := tx.Exec("DELETE FROM wal WHERE id IN (SELECT id FROM wal WHERE maxt < ? ORDER BY id LIMIT ?)", end, walDropStep)
			if err == nil {
				n, err = res.RowsAffected()
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("compact: drop write-ahead rows: %w", err)
		}
		if n < walDropStep {
			return nil
		}
	}
}

// writeChunks stores rows in their day tables and moves each series'
// persisted last_t forward, in one transaction.
func (s *Store) writeChunks(ctx context.Context, rows []chunkRow) error {
	if len(rows) == 0 {
		return nil
	}
	var created []int64
	err := s.w.run(ctx, func(tx *sql.Tx) error {
		created = created[:0]
		stmts := map[int64]*sql.Stmt{}
		defer func() {
			for _, st := range stmts {
				st.Close()
			}
		}()
		last, err := tx.Prepare("UPDATE series SET last_t = ? WHERE id = ? AND last_t < ?")
		if err != nil {
			return err
		}
		defer last.Close()
		for _, r := range rows {
			d := dayOf(r.mint)
			st := stmts[d]
			if st == nil {
				if err := s.tables.ensure(tx, rawTable, d); err != nil {
					return err
				}
				created = append(created, d)
				if st, err = tx.Prepare("INSERT OR REPLACE INTO " + tableName(rawTable, d) + " (series_id, mint, maxt, data) VALUES (?, ?, ?, ?)"); err != nil {
					return err
				}
				stmts[d] = st
			}
			if _, err := st.Exec(int64(r.ref), r.mint, r.maxt, r.data); err != nil {
				return err
			}
			if _, err := last.Exec(r.maxt, int64(r.ref), r.maxt); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrDiskFull) {
			return fmt.Errorf("compact: %w", err)
		}
		return fmt.Errorf("compact: write chunks: %w", err)
	}
	for _, d := range created {
		s.tables.set(rawTable, d, true)
	}
	return nil
}

// vacuum gives free pages back to the file system (the database is in
// incremental auto-vacuum mode): the write-ahead rows a compaction dropped,
// tables that retention or downsampling dropped.
func (s *Store) vacuum(ctx context.Context) error {
	for {
		var free int64
		err := s.w.run(ctx, func(tx *sql.Tx) error {
			if _, err := tx.Exec(fmt.Sprintf("PRAGMA incremental_vacuum(%d)", vacuumStep)); err != nil {
				return err
			}
			return tx.QueryRow("PRAGMA freelist_count").Scan(&free)
		})
		if err != nil {
			return fmt.Errorf("vacuum: %w", err)
		}
		if free == 0 {
			return nil
		}
	}
}
