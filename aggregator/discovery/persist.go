package discovery

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/target"
)

// KV is the persistence registered agents need; the SQLite store implements
// it. List returns every key starting with prefix.
type KV interface {
	Put(ctx context.Context, key string, value []byte) error
	Delete(ctx context.Context, key string) error
	List(ctx context.Context, prefix string) (map[string][]byte, error)
}

// agentKeyPrefix precedes the agent's canonical URL in KV keys.
const agentKeyPrefix = "agent/"

// load restores the agents saved by an earlier run. Records that cannot be
// decoded are logged and left alone; agents past forget_after are deleted.
func (r *registry) load(ctx context.Context) error {
	if r.kv == nil {
		return nil
	}
	stored, err := r.kv.List(ctx, agentKeyPrefix)
	if err != nil {
		return fmt.Errorf("load registered agents: %w", err)
	}
	now := r.now()
	s := r.settingsNow()
	var stale []string
	r.mu.Lock()
	for _, key := range slices.Sorted(maps.Keys(stored)) {
		var a Agent
		if err := json.Unmarshal(stored[key], &a); err != nil {
			r.log.Error("stored agent record is unreadable; ignored", "key", key, "err", err)
			continue
		}
		if _, err := target.FromURL(s.job, a.URL); err != nil || key != agentKeyPrefix+a.URL {
			r.log.Error("stored agent record has a bad URL; ignored", "key", key, "url", a.URL)
			continue
		}
		if now.Sub(a.LastSeen) > s.forgetAfter {
			stale = append(stale, a.URL)
			continue
		}
		r.agents[a.URL] = &agentState{Agent: a, version: 1, savedVersion: 1, savedLastSeen: a.LastSeen}
	}
	n := len(r.agents)
	r.mu.Unlock()
	for _, url := range stale {
		r.mu.Lock()
		r.pendingDeletes[url] = true
		r.mu.Unlock()
		_ = r.deleteStored(ctx, url)
	}
	r.log.Info("registered agents restored", "agents", n, "forgotten", len(stale))
	return nil
}

// save writes one agent if it has unsaved facts, or (lastSeen) a last-seen
// time more than persistEvery newer than the saved one, or (final) any
// newer last-seen time at all.
//
// kvMu is held from the snapshot to the end of the write, so writes reach
// the store in the order their snapshots were taken and an older record
// never overwrites a newer one.
func (r *registry) save(ctx context.Context, url string, final bool) error {
	if r.kv == nil {
		return nil
	}
	r.kvMu.Lock()
	defer r.kvMu.Unlock()
	r.mu.Lock()
	st := r.agents[url]
	if st == nil || !r.needsSave(st, final) {
		r.mu.Unlock()
		return nil
	}
	a, version := st.Agent, st.version
	b, err := json.Marshal(a)
	r.mu.Unlock()
	if err == nil {
		err = r.kv.Put(ctx, agentKeyPrefix+url, b)
	}
	if err != nil {
		r.m.persistErrors.Inc()
		return fmt.Errorf("save registered agent %s: %w", url, err)
	}
	r.mu.Lock()
	if r.agents[url] == st {
		st.savedVersion = version
		st.savedLastSeen = a.LastSeen
	}
	r.mu.Unlock()
	return nil
}

// needsSave is called with mu held.
func (r *registry) needsSave(st *agentState, final bool) bool {
	if st.version != st.savedVersion {
		return true
	}
	if final {
		return st.LastSeen.After(st.savedLastSeen)
	}
	return st.LastSeen.Sub(st.savedLastSeen) >= r.persistEvery
}

// deleteStored removes a forgotten agent from the store, unless it has
// registered again meanwhile (its new record was then written, in order,
// by save). A failed delete stays pending and is retried by flush.
func (r *registry) deleteStored(ctx context.Context, url string) error {
	if r.kv == nil {
		return nil
	}
	r.kvMu.Lock()
	defer r.kvMu.Unlock()
	r.mu.Lock()
	pending := r.pendingDeletes[url] && r.agents[url] == nil
	r.mu.Unlock()
	if !pending {
		return nil
	}
	if err := r.kv.Delete(ctx, agentKeyPrefix+url); err != nil {
		r.m.persistErrors.Inc()
		return fmt.Errorf("delete registered agent %s: %w", url, err)
	}
	r.mu.Lock()
	if r.agents[url] == nil {
		delete(r.pendingDeletes, url)
	}
	r.mu.Unlock()
	return nil
}

// flush retries failed writes and deletes and catches up last-seen times;
// final (at shutdown) saves every newer last-seen time.
func (r *registry) flush(ctx context.Context, final bool) {
	if r.kv == nil {
		return
	}
	r.mu.Lock()
	var saves, deletes []string
	for url, st := range r.agents {
		if r.needsSave(st, final) {
			saves = append(saves, url)
		}
	}
	for url := range r.pendingDeletes {
		deletes = append(deletes, url)
	}
	r.mu.Unlock()
	var failed []string
	for _, url := range saves {
		if err := r.save(ctx, url, final); err != nil {
			failed = append(failed, err.Error())
		}
	}
	for _, url := range deletes {
		if err := r.deleteStored(ctx, url); err != nil {
			failed = append(failed, err.Error())
		}
	}
	if len(failed) > 0 {
		r.log.Error("registered agents not saved; will retry", "failures", len(failed), "first", failed[0])
	}
}

// maintain drops the agents past forget_after and flushes the store.
func (r *registry) maintain(ctx context.Context, now time.Time) {
	gone := r.expired(now)
	for _, a := range gone {
		r.m.forgotten.Inc()
		r.log.Info("registered agent forgotten: no heartbeat",
			"url", a.URL, "node", a.Node, "last_seen", a.LastSeen.Format(time.RFC3339))
	}
	if len(gone) > 0 {
		r.onChange()
	}
	r.flush(ctx, false)
}
