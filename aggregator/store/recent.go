package store

import (
	"cmp"
	"slices"
)

// recentChunks are the chunks of the last compacted windows, [from, to),
// kept in memory as well as in their day table: dashboards and rules read
// the last hour over and over (a 30-minute average reaches back into a
// compacted window every time), and this way it costs no SQLite query. A
// snapshot is never changed; each compaction publishes a new one.
type recentChunks struct {
	from, to int64                   // window bounds (ms); to is compactedThrough
	segs     map[SeriesRef][]segment // per series, in time order
}

// recentSpan is how much compacted history stays in memory: Options.Recent
// in whole windows.
func (s *Store) recentSpan() int64 {
	w := s.opts.Window.Milliseconds()
	return max(s.opts.Recent.Milliseconds()/w*w, 0)
}

// publishRecent replaces the snapshot after a compaction of the windows
// [prev, end): fresh holds their chunks that start at or after
// end-recentSpan. The caller holds maintainMu and has not yet moved
// compactedThrough to end, so readers see the new snapshot no later than the
// new mark, and use it only once both agree.
func (s *Store) publishRecent(prev, end int64, fresh map[SeriesRef][]segment) {
	span := s.recentSpan()
	if span == 0 {
		return
	}
	from := max(end-span, prev)
	if old := s.recent.Load(); old != nil && old.to == prev {
		from = max(end-span, old.from)
		for ref, segs := range old.segs {
			i, _ := slices.BinarySearchFunc(segs, from, func(sg segment, t int64) int { return cmp.Compare(sg.minT, t) })
			if i < len(segs) {
				// Clip: the old snapshot may still be read; never append to it.
				fresh[ref] = append(slices.Clip(segs[i:]), fresh[ref]...)
			}
		}
	}
	s.recent.Store(&recentChunks{from: from, to: end, segs: fresh})
}

// dropRecentBefore forgets the snapshot if it holds windows before t, for
// downsampling and retention, which change or remove those days' chunks.
func (s *Store) dropRecentBefore(t int64) {
	if r := s.recent.Load(); r != nil && r.from < t {
		s.recent.Store(nil)
	}
}

// recentFor returns the snapshot a reader may use with the compaction mark
// it loaded, or nil.
func (s *Store) recentFor(compacted int64) *recentChunks {
	if r := s.recent.Load(); r != nil && r.to == compacted {
		return r
	}
	return nil
}

// overlapping appends ref's chunks that hold samples in [mint, maxt].
func (r *recentChunks) overlapping(ref SeriesRef, mint, maxt int64, dst []segment) []segment {
	for _, sg := range r.segs[ref] {
		if sg.maxT >= mint && sg.minT <= maxt {
			dst = append(dst, sg)
		}
	}
	return dst
}
