package scrape

import (
	"math"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/store"
)

var staleNaN = math.Float64frombits(value.StaleNaN)

// series is one stored series a target exposes.
type series struct {
	ref  store.SeriesRef
	lset labels.Labels
	hash uint64 // lset.Hash(), computed once
	seen uint64 // scrape that last appended it without an explicit timestamp
	iter uint64 // scrape that last exposed it at all
}

// rawEntry maps one spelling of a series in the exposition to the series.
// Two spellings (labels in another order) share a series.
type rawEntry struct {
	s    *series
	iter uint64 // scrape that last exposed this spelling
	key  string // the spelling (the map's key)
}

// pendingSeries is a series the cache did not know, met during a parse. It
// gets a reference only once the whole page has parsed, so a failed scrape
// creates no series.
type pendingSeries struct {
	raw   []byte // the exposition's text; points into the body
	lset  labels.Labels
	idx   int // its sample in cache.samples
	hasTS bool
	entry *rawEntry // set by resolve
}

// cache is what one target's loop remembers between scrapes. Only the loop
// touches it, except the metadata, which has its own lock.
type cache struct {
	iter   uint64 // the current scrape (every attempt counts)
	okLast uint64 // the last successful scrape
	okPrev uint64 // the successful scrape before that
	lastT  int64  // timestamp of the newest scrape written

	raw    map[string]*rawEntry
	byRef  map[store.SeriesRef]*series
	report []*series // up, scrape_duration_seconds, …; nil until resolved

	// Series appended without a timestamp by the last successful scrape
	// (prev) and by this one (cur): what disappears between them goes stale.
	prev, cur []*series

	// Scratch of one scrape.
	samples       []store.Sample
	pending       []pendingSeries
	drop          []int // indexes into samples of duplicates found late
	rawTouched    int
	seriesTouched int
	dups          int
	order         []keyRef // the page's series lines, for recordLayout
	parsedAs      format
	fast          bool // the page was read with the layout
	keepCache     bool // an empty page: evict nothing

	layout  layout
	lb      *labels.Builder
	lset    labels.Labels
	symbols *labels.SymbolTable
	meta    metadataCache
}

func newCache() *cache {
	return &cache{
		raw:     map[string]*rawEntry{},
		byRef:   map[store.SeriesRef]*series{},
		lb:      labels.NewBuilder(labels.EmptyLabels()),
		symbols: labels.NewSymbolTable(),
		meta:    metadataCache{families: map[string]*metaEntry{}},
	}
}

// begin starts a scrape.
func (c *cache) begin() {
	c.iter++
	c.samples = c.samples[:0]
	c.pending = c.pending[:0]
	c.drop = c.drop[:0]
	c.cur = c.cur[:0]
	c.order = c.order[:0]
	c.fast, c.keepCache = false, false
	c.rawTouched, c.seriesTouched, c.dups = 0, 0, 0
	c.meta.touched = 0
}

// hit records an exposed sample of a known series; false means a duplicate.
func (c *cache) hit(e *rawEntry, t int64, v float64, hasTS bool) bool {
	if e.iter != c.iter {
		e.iter = c.iter
		c.rawTouched++
	}
	s := e.s
	if !c.expose(s, hasTS) {
		return false
	}
	c.samples = append(c.samples, store.Sample{Ref: s.ref, T: t, V: v})
	return true
}

// expose marks s as exposed by this scrape; false means it already was
// (without a timestamp), so this sample is a duplicate.
func (c *cache) expose(s *series, hasTS bool) bool {
	if s.iter != c.iter {
		s.iter = c.iter
		c.seriesTouched++
	}
	if hasTS {
		return true // explicit timestamps are not tracked for staleness
	}
	if s.seen == c.iter {
		c.dups++
		return false
	}
	s.seen = c.iter
	c.cur = append(c.cur, s)
	return true
}

// resolve gives the series met for the first time their references, and
// returns how many series are new to the target.
func (c *cache) resolve(st Storage) (added int, err error) {
	for i := range c.pending {
		p := &c.pending[i]
		e := c.raw[string(p.raw)] // an earlier duplicate of this scrape may have added it
		if e == nil {
			ref, err := st.Ref(p.lset)
			if err != nil {
				return added, err
			}
			s := c.byRef[ref]
			if s == nil {
				s = &series{ref: ref, lset: p.lset, hash: p.lset.Hash()}
				c.byRef[ref] = s
				added++
			}
			k := string(p.raw)
			e = &rawEntry{s: s, key: k}
			c.raw[k] = e
		}
		p.entry = e
		if e.iter != c.iter {
			e.iter = c.iter
			c.rawTouched++
		}
		if !c.expose(e.s, p.hasTS) {
			c.drop = append(c.drop, p.idx)
			continue
		}
		c.samples[p.idx].Ref = e.s.ref
	}
	if len(c.drop) > 0 { // drop is ascending: pending is in page order
		out, d := c.samples[:0], 0
		for i, s := range c.samples {
			if d < len(c.drop) && c.drop[d] == i {
				d++
				continue
			}
			out = append(out, s)
		}
		c.samples = out
	}
	return added, nil
}

// appendStale adds stale markers at t for the series of the last successful
// scrape that this one did not expose (all of them when failed).
func (c *cache) appendStale(t int64, failed bool) {
	for _, s := range c.prev {
		if failed || s.seen != c.iter {
			c.samples = append(c.samples, store.Sample{Ref: s.ref, T: t, V: staleNaN})
		}
	}
}

// succeeded ends a scrape whose samples were stored.
func (c *cache) succeeded(t int64) {
	c.prev, c.cur = c.cur, c.prev[:0]
	c.okPrev, c.okLast = c.okLast, c.iter
	c.lastT = max(c.lastT, t)
	if c.keepCache {
		return
	}
	if c.rawTouched < len(c.raw) {
		for k, e := range c.raw {
			if e.iter < c.okPrev {
				delete(c.raw, k)
			}
		}
	}
	if c.seriesTouched < len(c.byRef) {
		for ref, s := range c.byRef {
			if s.iter < c.okPrev {
				delete(c.byRef, ref)
			}
		}
	}
	c.meta.sweep(c.okLast)
}

// failed ends a failed scrape whose stale markers and report were stored:
// nothing is left to go stale.
func (c *cache) failed(t int64) {
	c.prev = c.prev[:0]
	c.cur = c.cur[:0]
	c.lastT = max(c.lastT, t)
}

// forgetLabels is for a loop taking over with different labels (target
// labels or honor_labels changed): every spelling must be labelled again.
// Series keep their identity, so those whose labels did not change are not
// marked stale. When the target's labels changed, its report series changed
// too: the old ones go stale at the next scrape.
func (c *cache) forgetLabels(report bool) {
	clear(c.raw)
	c.layout.valid = false
	if !report {
		return
	}
	for _, s := range c.report {
		if s != nil {
			c.prev = append(c.prev, s)
		}
	}
	c.report = nil
}
