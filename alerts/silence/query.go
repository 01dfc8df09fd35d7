package silence

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/matcher"
)

// Get returns the silence with this ID, or ErrNotFound.
func (s *Store) Get(id string) (Silence, error) {
	e := s.get(id)
	if e == nil {
		return Silence{}, ErrNotFound
	}
	return clone(e.sil), nil
}

// Query selects silences; the zero Query selects all.
type Query struct {
	// Filter keeps the silences that have, for each of these matchers, an
	// identical matcher (name, type and value), as Alertmanager's API
	// filter does.
	Filter matcher.Matchers
	// States keeps the silences in one of these states; empty keeps all.
	States []State
	// Matching keeps the silences whose matchers match these labels.
	Matching map[string]string
}

// List returns the silences q selects in Alertmanager's order: active ones
// first, soonest to end first; then pending ones, soonest to start first;
// then expired ones, most recently ended first.
func (s *Store) List(q Query) []Silence {
	now := s.now()
	s.mu.RLock()
	var out []Silence
	for _, e := range s.cache {
		if len(q.States) > 0 && !slices.Contains(q.States, e.sil.State(now)) {
			continue
		}
		if q.Matching != nil && !e.matchers.Matches(q.Matching) {
			continue
		}
		if !hasAll(e.sil.Matchers, q.Filter) {
			continue
		}
		out = append(out, clone(e.sil))
	}
	s.mu.RUnlock()
	Sort(out, now)
	return out
}

func hasAll(ms []Matcher, filter matcher.Matchers) bool {
	for _, f := range filter {
		if !slices.ContainsFunc(ms, func(m Matcher) bool {
			return m.Name == f.Name && m.Value == f.Value && m.Type() == f.Type
		}) {
			return false
		}
	}
	return true
}

var stateOrder = map[State]int{StateActive: 0, StatePending: 1, StateExpired: 2}

// Sort orders silences as Alertmanager's API lists them (see List); ties
// are broken by ID so the order is stable.
func Sort(sils []Silence, now time.Time) {
	slices.SortFunc(sils, func(a, b Silence) int {
		sa, sb := a.State(now), b.State(now)
		if sa != sb {
			return stateOrder[sa] - stateOrder[sb]
		}
		var c int
		switch sa {
		case StateActive:
			c = a.EndsAt.Compare(b.EndsAt)
		case StatePending:
			c = a.StartsAt.Compare(b.StartsAt)
		default:
			c = b.EndsAt.Compare(a.EndsAt)
		}
		if c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// Mutes returns the IDs of the active silences that match labels, sorted;
// none means the alert is not silenced.
func (s *Store) Mutes(labels map[string]string) []string {
	now := s.now()
	var ids []string
	s.mu.RLock()
	for id, e := range s.cache {
		if e.sil.State(now) == StateActive && e.matchers.Matches(labels) {
			ids = append(ids, id)
		}
	}
	s.mu.RUnlock()
	slices.Sort(ids)
	return ids
}

// Counts returns how many silences are in each state.
func (s *Store) Counts() map[State]int {
	now := s.now()
	out := map[State]int{StateActive: 0, StatePending: 0, StateExpired: 0}
	s.mu.RLock()
	for _, e := range s.cache {
		out[e.sil.State(now)]++
	}
	s.mu.RUnlock()
	return out
}

// GC deletes the silences that ended more than the retention ago and
// returns how many.
func (s *Store) GC(ctx context.Context) (int, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	cutoff := s.now().Add(-s.ret)
	if _, err := s.db.ExecContext(ctx, `DELETE FROM silence_silences WHERE ends_at <= ?`, nanos(cutoff)); err != nil {
		return 0, fmt.Errorf("silence: gc: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, e := range s.cache {
		if !e.sil.EndsAt.After(cutoff) {
			delete(s.cache, id)
			n++
		}
	}
	return n, nil
}

// Run collects garbage every 15 minutes until ctx ends.
func (s *Store) Run(ctx context.Context) {
	t := time.NewTicker(gcInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.GC(ctx); err != nil {
				s.logger.Error("silence: garbage collection failed", "err", err)
			} else if n > 0 {
				s.logger.Debug("silence: removed expired silences past retention", "count", n)
			}
		}
	}
}
