package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"
)

// Querier implements storage.Queryable for the PromQL engine and the API.
func (s *Store) Querier(mint, maxt int64) (storage.Querier, error) {
	return &querier{s: s, mint: mint, maxt: maxt}, nil
}

type querier struct {
	s          *Store
	mint, maxt int64
}

func (q *querier) Close() error { return nil }

// Select returns the matching series with samples in the range. Persisted
// chunks are read lazily, a batch of series at a time, as the engine walks
// the set.
func (q *querier) Select(ctx context.Context, sortSeries bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	mint, maxt := q.mint, q.maxt
	fn := ""
	if hints != nil {
		mint, maxt, fn = hints.Start, hints.End, hints.Func
	}
	all := q.s.ix.match(ms)
	list := all[:0]
	for _, s := range all {
		if s.newestT() >= mint {
			list = append(list, s)
		}
	}
	if sortSeries {
		slices.SortFunc(list, func(a, b *memSeries) int { return labels.Compare(a.lset, b.lset) })
	}
	if hints != nil && hints.Limit > 0 && len(list) > hints.Limit {
		list = list[:hints.Limit]
	}
	compacted := q.s.compactedThrough.Load()
	return &seriesSet{
		ctx: ctx, s: q.s, list: list, mint: mint, maxt: maxt,
		metadataOnly: fn == "series",
		stream:       streamFor(fn),
		compacted:    compacted,
		recent:       q.s.recentFor(compacted),
	}
}

// streamFor picks the downsampled aggregate a function wants.
func streamFor(fn string) int {
	switch fn {
	case "min_over_time":
		return dsMin
	case "max_over_time":
		return dsMax
	}
	return dsAvg
}

func (q *querier) LabelValues(ctx context.Context, name string, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	var out []string
	if len(ms) == 0 {
		out = q.s.ix.labelValues(name, q.mint)
	} else {
		seen := map[string]bool{}
		for _, s := range q.s.ix.match(ms) {
			if v := s.lset.Get(name); v != "" && !seen[v] && s.newestT() >= q.mint {
				seen[v] = true
				out = append(out, v)
			}
		}
		slices.Sort(out)
	}
	return limit(out, hints), nil, nil
}

func (q *querier) LabelNames(ctx context.Context, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	var out []string
	if len(ms) == 0 {
		out = q.s.ix.labelNames(q.mint)
	} else {
		seen := map[string]bool{}
		for _, s := range q.s.ix.match(ms) {
			if s.newestT() < q.mint {
				continue
			}
			s.lset.Range(func(l labels.Label) {
				if !seen[l.Name] {
					seen[l.Name] = true
					out = append(out, l.Name)
				}
			})
		}
		slices.Sort(out)
	}
	return limit(out, hints), nil, nil
}

func limit(vals []string, hints *storage.LabelHints) []string {
	if hints != nil && hints.Limit > 0 && len(vals) > hints.Limit {
		return vals[:hints.Limit]
	}
	return vals
}

// seriesSet walks the selected series, loading persisted data in batches.
type seriesSet struct {
	ctx          context.Context
	s            *Store
	list         []*memSeries
	mint, maxt   int64
	metadataOnly bool
	stream       int
	compacted    int64
	recent       *recentChunks // nil: every compacted chunk from SQLite

	i        int // index of the current series + 1
	loadedTo int // list[:loadedTo] have their segments loaded
	segs     map[SeriesRef][]segment
	cur      storage.Series
	err      error
}

const selectBatch = 256

func (ss *seriesSet) Next() bool {
	if ss.err != nil || ss.i >= len(ss.list) {
		return false
	}
	if err := ss.ctx.Err(); err != nil {
		ss.err = err
		return false
	}
	if ss.metadataOnly {
		ss.cur = &series{lset: ss.list[ss.i].lset}
		ss.i++
		return true
	}
	if ss.i >= ss.loadedTo {
		end := min(len(ss.list), ss.i+selectBatch)
		segs, err := ss.s.loadSegments(ss.ctx, ss.list[ss.i:end], ss.mint, ss.maxt, ss.compacted, ss.stream, ss.recent)
		if err != nil {
			ss.err = err
			return false
		}
		ss.segs, ss.loadedTo = segs, end
	}
	ms := ss.list[ss.i]
	ss.i++
	segs := ss.segs[ms.ref]
	segs = ms.headOverlappingSegments(ss.mint, ss.maxt, segs)
	if h, ok := ms.heldAfterHead(); ok && h.t >= ss.mint && h.t <= ss.maxt {
		segs = append(segs, heldSegment(h))
	}
	ss.cur = &series{lset: ms.lset, segs: segs, mint: ss.mint, maxt: ss.maxt}
	return true
}

func (ss *seriesSet) At() storage.Series                { return ss.cur }
func (ss *seriesSet) Err() error                        { return ss.err }
func (ss *seriesSet) Warnings() annotations.Annotations { return nil }
func (ss *seriesSet) String() string                    { return fmt.Sprintf("series %d/%d", ss.i, len(ss.list)) }
func (s *memSeries) headOverlappingSegments(mint, maxt int64, dst []segment) []segment {
	for _, c := range s.headOverlapping(mint, maxt, nil) {
		dst = append(dst, segment{kind: segHead, minT: c.minT, maxT: c.maxT, data: c.data})
	}
	return dst
}

// loadSegments reads the persisted chunks and downsampled rows of a batch of
// series overlapping [mint, maxt], one query per day table; the windows that
// rec holds come from memory instead.
func (s *Store) loadSegments(ctx context.Context, batch []*memSeries, mint, maxt, compacted int64, stream int, rec *recentChunks) (map[SeriesRef][]segment, error) {
	out := map[SeriesRef][]segment{}
	if mint >= compacted || len(batch) == 0 {
		return out, nil // all in the head
	}
	// Chunks starting before sqlTo are read from SQLite.
	sqlTo, upTo := compacted, ""
	if rec != nil {
		sqlTo, upTo = rec.from, " AND mint < ?"
	}
	ids := make([]any, 0, len(batch)+2)
	for _, ms := range batch {
		ids = append(ids, int64(ms.ref))
	}
	in := "(?" + strings.Repeat(",?", len(batch)-1) + ")"
	lo := mint - s.opts.Window.Milliseconds()
	last := dayOf(min(maxt, compacted))
	if rec != nil {
		last = dayOf(min(maxt, sqlTo-1))
	}
	for d := dayOf(lo); mint < sqlTo && d <= last; d++ {
		var query string
		var args []any
		kind := segRaw
		switch {
		case s.tables.has(rawTable, d):
			query = "SELECT series_id, mint, maxt, data FROM " + tableName(rawTable, d) + " WHERE series_id IN " + in + " AND mint >= ? AND mint <= ? AND maxt >= ?" + upTo + " ORDER BY series_id, mint"
			args = append(append(args, ids...), lo, maxt, mint)
			if rec != nil {
				args = append(args, sqlTo)
			}
		case s.tables.has(dsTable, d):
			kind = segDownsampled
			query = "SELECT series_id, mint, maxt, data FROM " + tableName(dsTable, d) + " WHERE series_id IN " + in
			args = ids
		default:
			continue
		}
		if err := s.scanSegments(ctx, query, args, kind, stream, out); err != nil {
			return nil, err
		}
	}
	if rec != nil && maxt >= rec.from {
		for _, ms := range batch {
			if segs := rec.overlapping(ms.ref, mint, maxt, out[ms.ref]); len(segs) > 0 {
				out[ms.ref] = segs
			}
		}
	}
	return out, nil
}

func (s *Store) scanSegments(ctx context.Context, query string, args []any, kind, stream int, out map[SeriesRef][]segment) error {
	rows, err := s.rdb.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("store: read chunks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, lo, hi int64
		var data []byte
		if err := rows.Scan(&id, &lo, &hi, &data); err != nil {
			return fmt.Errorf("store: read chunks: %w", err)
		}
		seg := segment{kind: kind, minT: lo, maxT: hi, data: data}
		if kind == segDownsampled {
			k, st, err := dsStream(data, stream)
			if err != nil {
				s.opts.Logger.Error("skipping corrupt downsampled row", "series", id, "err", err)
				continue
			}
			seg.data = st
			if k == dsKindCounter {
				seg.kind = segRaw
			}
		}
		out[SeriesRef(id)] = append(out[SeriesRef(id)], seg)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: read chunks: %w", err)
	}
	return nil
}
