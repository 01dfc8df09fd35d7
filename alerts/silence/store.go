package silence

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/matcher"
)

// DefaultRetention is how long expired silences are kept: Alertmanager's
// --data.retention default (120h).
const DefaultRetention = 120 * time.Hour

// gcInterval is how often Run removes silences past retention
// (Alertmanager's maintenance interval).
const gcInterval = 15 * time.Minute

const schema = `
CREATE TABLE IF NOT EXISTS silence_silences (
	id         TEXT PRIMARY KEY,
	matchers   TEXT NOT NULL,    -- JSON: [{"name","value","isRegex","isEqual"}]
	starts_at  INTEGER NOT NULL, -- Unix nanoseconds
	ends_at    INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	created_by TEXT NOT NULL,
	comment    TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS silence_silences_ends_at ON silence_silences (ends_at);
`

// Options configure a Store; all may be left zero.
type Options struct {
	Now       func() time.Time // nil: time.Now
	Retention time.Duration    // 0: DefaultRetention
	Logger    *slog.Logger     // nil: discard
}

// Store keeps silences in alerts.db, with a copy in memory so that Mutes,
// which the dispatcher calls for every alert it flushes, reads no disk.
// Only this Store writes the table; it is safe for concurrent use.
type Store struct {
	db     *sql.DB
	now    func() time.Time
	ret    time.Duration
	logger *slog.Logger

	writeMu sync.Mutex   // serialises writers: read, decide, write, publish
	mu      sync.RWMutex // guards cache
	cache   map[string]*entry
}

type entry struct {
	sil      Silence
	matchers matcher.Matchers
}

// Open creates the table when missing and loads the silences.
func Open(ctx context.Context, db *sql.DB, o Options) (*Store, error) {
	s := &Store{db: db, now: o.Now, ret: o.Retention, logger: o.Logger, cache: map[string]*entry{}}
	if s.now == nil {
		s.now = time.Now
	}
	if s.ret <= 0 {
		s.ret = DefaultRetention
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return nil, fmt.Errorf("silence: create tables: %w", err)
	}
	rows, err := db.QueryContext(ctx, `SELECT id, matchers, starts_at, ends_at, updated_at, created_by, comment FROM silence_silences`)
	if err != nil {
		return nil, fmt.Errorf("silence: load: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			sil            Silence
			ms             string
			start, end, up int64
		)
		if err := rows.Scan(&sil.ID, &ms, &start, &end, &up, &sil.CreatedBy, &sil.Comment); err != nil {
			return nil, fmt.Errorf("silence: load: %w", err)
		}
		sil.StartsAt, sil.EndsAt, sil.UpdatedAt = fromNanos(start), fromNanos(end), fromNanos(up)
		if err := json.Unmarshal([]byte(ms), &sil.Matchers); err != nil {
			return nil, fmt.Errorf("silence: load %s: matchers: %w", sil.ID, err)
		}
		compiled, err := compile(sil.Matchers)
		if err != nil {
			// Stored by an older version with laxer checks: keep it listed,
			// matching nothing, rather than refuse to start.
			s.logger.Warn("silence: stored silence has invalid matchers; it mutes nothing", "id", sil.ID, "err", err)
			compiled = matcher.Matchers{matcher.MustNew(matcher.Regexp, "__never__", "a^")}
		}
		s.cache[sil.ID] = &entry{sil: sil, matchers: compiled}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("silence: load: %w", err)
	}
	return s, nil
}

func nanos(t time.Time) int64         { return t.UnixNano() }
func fromNanos(n int64) time.Time     { return time.Unix(0, n).UTC() }
func clone(s Silence) Silence         { s.Matchers = slices.Clone(s.Matchers); return s }
func (s *Store) get(id string) *entry { s.mu.RLock(); defer s.mu.RUnlock(); return s.cache[id] }

// Set creates a silence, or updates the one with sil.ID, with Alertmanager's
// rules, and returns the silence's ID. A zero StartsAt means now, and a
// StartsAt in the past becomes now. An update that keeps the matchers and
// only moves the times a silence in its state may still move (an active
// silence's end, a pending silence's start and end) is made in place;
// anything else expires the old silence and creates a new one, whose ID is
// returned. An unknown ID is ErrNotFound; an invalid silence an
// *InvalidError.
func (s *Store) Set(ctx context.Context, sil Silence) (string, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	now := s.now().UTC()
	sil = clone(sil)
	if sil.StartsAt.IsZero() {
		sil.StartsAt = now
	}
	compiled, err := validate(&sil)
	if err != nil {
		return "", err
	}
	var prev *entry
	if sil.ID != "" {
		if prev = s.get(sil.ID); prev == nil {
			return "", ErrNotFound
		}
	}
	sil.UpdatedAt = now
	if prev != nil && canUpdate(&prev.sil, &sil, now) {
		if err := s.write(ctx, &sil); err != nil {
			return "", err
		}
		s.publish(nil, &entry{sil: sil, matchers: compiled})
		return sil.ID, nil
	}
	sil.ID = newID()
	if sil.StartsAt.Before(now) {
		sil.StartsAt = now
	}
	var expired *Silence
	if prev != nil && prev.sil.State(now) != StateExpired {
		e := expire(prev.sil, now)
		expired = &e
	}
	if err := s.write(ctx, expired, &sil); err != nil {
		return "", err
	}
	var old *entry
	if expired != nil {
		old = &entry{sil: *expired, matchers: prev.matchers}
	}
	s.publish(old, &entry{sil: sil, matchers: compiled})
	return sil.ID, nil
}

// expire returns sil ended at now: an active silence ends now, a pending
// one starts and ends now.
func expire(sil Silence, now time.Time) Silence {
	if sil.State(now) == StatePending {
		sil.StartsAt = now
	}
	sil.EndsAt = now
	sil.UpdatedAt = now
	return sil
}

// Expire ends the silence now. Expiring an expired silence does nothing.
func (s *Store) Expire(ctx context.Context, id string) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	prev := s.get(id)
	if prev == nil {
		return ErrNotFound
	}
	now := s.now().UTC()
	if prev.sil.State(now) == StateExpired {
		return nil
	}
	e := expire(prev.sil, now)
	if err := s.write(ctx, &e); err != nil {
		return err
	}
	s.publish(nil, &entry{sil: e, matchers: prev.matchers})
	return nil
}

// write upserts the silences (nil ones skipped) in one transaction.
func (s *Store) write(ctx context.Context, sils ...*Silence) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("silence: write: %w", err)
	}
	defer tx.Rollback()
	for _, sil := range sils {
		if sil == nil {
			continue
		}
		ms, err := json.Marshal(sil.Matchers)
		if err != nil {
			return fmt.Errorf("silence: write: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO silence_silences (id, matchers, starts_at, ends_at, updated_at, created_by, comment)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET matchers = excluded.matchers, starts_at = excluded.starts_at,
				ends_at = excluded.ends_at, updated_at = excluded.updated_at,
				created_by = excluded.created_by, comment = excluded.comment`,
			sil.ID, string(ms), nanos(sil.StartsAt), nanos(sil.EndsAt), nanos(sil.UpdatedAt), sil.CreatedBy, sil.Comment)
		if err != nil {
			return fmt.Errorf("silence: write %s: %w", sil.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("silence: write: %w", err)
	}
	return nil
}

func (s *Store) publish(entries ...*entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range entries {
		if e != nil {
			s.cache[e.sil.ID] = e
		}
	}
}
