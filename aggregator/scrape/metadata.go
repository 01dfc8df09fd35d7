package scrape

import (
	"sync"

	"github.com/prometheus/common/model"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/store"
)

// metadataKeep is how many scrapes a family's metadata outlives its last
// appearance, as in Prometheus.
const metadataKeep = 10

// metaEntry is what one target says about one metric family.
type metaEntry struct {
	md    store.Metadata // written under metadataCache.mu
	iter  uint64         // scrape that last mentioned the family; loop only
	dirty bool           // changed since handed to storage; loop only
}

// metadataCache is a target's metric families, as its expositions describe
// them (# TYPE, # HELP, # UNIT). The loop reads it without locking and
// changes it under mu; Manager.Metadata reads it under mu.
type metadataCache struct {
	mu       sync.Mutex
	families map[string]*metaEntry
	dirty    []string
	touched  int
}

// entry returns the family's entry, creating it (type unknown) if new.
func (m *metadataCache) entry(name []byte, iter uint64) *metaEntry {
	e := m.families[string(name)]
	if e == nil {
		e = &metaEntry{md: store.Metadata{Type: string(model.MetricTypeUnknown)}, dirty: true}
		m.mu.Lock()
		m.families[string(name)] = e
		m.mu.Unlock()
		m.dirty = append(m.dirty, string(name))
	}
	if e.iter != iter {
		e.iter = iter
		m.touched++
	}
	return e
}

// update changes an entry's metadata.
func (m *metadataCache) update(e *metaEntry, name []byte, change func(*store.Metadata)) {
	m.mu.Lock()
	change(&e.md)
	m.mu.Unlock()
	if !e.dirty {
		e.dirty = true
		m.dirty = append(m.dirty, string(name))
	}
}

func (m *metadataCache) setType(name []byte, t model.MetricType, iter uint64) {
	if e := m.entry(name, iter); e.md.Type != string(t) {
		m.update(e, name, func(md *store.Metadata) { md.Type = string(t) })
	}
}

func (m *metadataCache) setHelp(name, help []byte, iter uint64) {
	if e := m.entry(name, iter); e.md.Help != string(help) {
		m.update(e, name, func(md *store.Metadata) { md.Help = string(help) })
	}
}

func (m *metadataCache) setUnit(name, unit []byte, iter uint64) {
	if e := m.entry(name, iter); e.md.Unit != string(unit) {
		m.update(e, name, func(md *store.Metadata) { md.Unit = string(unit) })
	}
}

// flush hands what changed to storage (after a successful scrape).
func (m *metadataCache) flush(st Storage, sent *metadataSent) {
	for _, name := range m.dirty {
		if e := m.families[name]; e != nil && e.dirty {
			e.dirty = false
			sent.set(st, name, e.md)
		}
	}
	m.dirty = m.dirty[:0]
}

// sweep forgets families not mentioned for metadataKeep scrapes.
func (m *metadataCache) sweep(iter uint64) {
	if m.touched >= len(m.families) {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for name, e := range m.families {
		if iter-e.iter > metadataKeep {
			delete(m.families, name)
		}
	}
}

// list copies the families out.
func (m *metadataCache) list(into map[string][]store.Metadata) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for name, e := range m.families {
		into[name] = appendUnique(into[name], e.md)
	}
}

func appendUnique(mds []store.Metadata, md store.Metadata) []store.Metadata {
	for _, have := range mds {
		if have == md {
			return mds
		}
	}
	return append(mds, md)
}

// metadataSent is what the Manager last handed to storage per family, so
// that many targets exposing the same family call SetMetadata once.
type metadataSent struct {
	mu   sync.Mutex
	sent map[string]store.Metadata
}

func (s *metadataSent) set(st Storage, name string, md store.Metadata) {
	s.mu.Lock()
	defer s.mu.Unlock() // held across SetMetadata so calls land in order
	if old, ok := s.sent[name]; ok && old == md {
		return
	}
	s.sent[name] = md
	st.SetMetadata(name, md)
}
