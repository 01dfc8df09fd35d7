package store

import (
	"context"
	"database/sql"
	"fmt"
)

// applyRetention drops the day tables that ended more than Retention ago
// and forgets series with no sample left, then gives the freed pages back to
// the file system.
func (s *Store) applyRetention(ctx context.Context, now int64) error {
	cutoff := now - s.opts.Retention.Milliseconds()
	type drop struct {
		kind string
		day  int64
	}
	var drops []drop
	for _, kind := range []string{rawTable, dsTable} {
		for _, d := range s.tables.days(kind) {
			if (d+1)*day <= cutoff {
				drops = append(drops, drop{kind, d})
			}
		}
	}
	var gone []*memSeries
	s.ix.mu.RLock()
	for _, ms := range s.ix.byRef {
		if ms.lastT.Load() < cutoff && ms.firstT < cutoff && !ms.hasHead() {
			gone = append(gone, ms)
		}
	}
	s.ix.mu.RUnlock()
	if len(drops) == 0 && len(gone) == 0 {
		return nil
	}
	for _, d := range drops {
		s.dropRecentBefore((d.day + 1) * day)
	}
	err := s.w.run(ctx, func(tx *sql.Tx) error {
		for _, d := range drops {
			if _, err := tx.Exec("DROP TABLE IF EXISTS " + tableName(d.kind, d.day)); err != nil {
				return err
			}
		}
		st, err := tx.Prepare("DELETE FROM series WHERE id = ?")
		if err != nil {
			return err
		}
		defer st.Close()
		for _, ms := range gone {
			if _, err := st.Exec(int64(ms.ref)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	for _, d := range drops {
		s.tables.set(d.kind, d.day, false)
	}
	s.ix.mu.Lock()
	for _, ms := range gone {
		if ms.lastT.Load() < cutoff && !ms.hasHead() { // not revived meanwhile
			s.ix.remove(ms)
		}
	}
	s.ix.mu.Unlock()
	if err := s.vacuum(ctx); err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	s.opts.Logger.Info("retention applied", "tables_dropped", len(drops), "series_forgotten", len(gone))
	return nil
}

func (s *memSeries) hasHead() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.head) > 0
}
