package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Put stores value under key, durably, for other parts of the aggregator
// (registered agents, alert state).
func (s *Store) Put(ctx context.Context, key string, value []byte) error {
	err := s.w.run(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", key, value)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: put %q: %w", key, err)
	}
	return nil
}

// Delete removes key; deleting a missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	err := s.w.run(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec("DELETE FROM kv WHERE key = ?", key)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: delete %q: %w", key, err)
	}
	return nil
}

// List returns every key with the prefix and its value.
func (s *Store) List(ctx context.Context, prefix string) (map[string][]byte, error) {
	rows, err := s.rdb.QueryContext(ctx, "SELECT key, value FROM kv WHERE key >= ? AND key < ?", prefix, prefix+"\U0010FFFF")
	if err != nil {
		return nil, fmt.Errorf("store: list %q: %w", prefix, err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var k string
		var v []byte
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("store: list %q: %w", prefix, err)
		}
		if strings.HasPrefix(k, prefix) {
			out[k] = v
		}
	}
	return out, rows.Err()
}
