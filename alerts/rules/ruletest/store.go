package ruletest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"
)

// Store is an in-memory series store: the storage.Queryable the PromQL
// engine reads and the rules.Sink rules write to. Appends follow the TSDB's
// rules with out-of-order ingestion off: a sample older than its series'
// last is refused (storage.ErrOutOfOrderSample), one at the same time is
// accepted only with the same value (storage.ErrDuplicateSampleForTimestamp
// otherwise). A stale marker (value.StaleNaN) is stored like any sample;
// the engine treats the series as ended from there.
type Store struct {
	mu     sync.RWMutex
	series map[string]*memSeries // by the labels' bytes
}

type memSeries struct {
	lset labels.Labels
	ts   []int64
	vs   []float64
}

// NewStore returns an empty store.
func NewStore() *Store { return &Store{series: map[string]*memSeries{}} }

// Append adds one sample, t in Unix milliseconds.
func (s *Store) Append(lset labels.Labels, t int64, v float64) error {
	if lset.IsEmpty() {
		return errors.New("empty labelset")
	}
	if name, dup := lset.HasDuplicateLabelNames(); dup {
		return fmt.Errorf("label name %q is not unique", name)
	}
	key := string(lset.Bytes(nil))
	s.mu.Lock()
	defer s.mu.Unlock()
	ms, ok := s.series[key]
	if !ok {
		ms = &memSeries{lset: lset}
		s.series[key] = ms
	}
	if n := len(ms.ts); n > 0 {
		last := ms.ts[n-1]
		switch {
		case t < last:
			return fmt.Errorf("%w: series %s at %d, last sample at %d", storage.ErrOutOfOrderSample, lset, t, last)
		case t == last && math.Float64bits(v) == math.Float64bits(ms.vs[n-1]):
			return nil
		case t == last:
			return storage.NewDuplicateFloatErr(t, ms.vs[n-1], v)
		}
	}
	ms.ts = append(ms.ts, t)
	ms.vs = append(ms.vs, v)
	return nil
}

// Write implements rules.Sink. Every sample is tried; the error is the
// first refusal. As in Prometheus, a stale marker that cannot be written
// (another rule wrote the series at the same time) is not an error.
func (s *Store) Write(_ context.Context, vec promql.Vector) error {
	var first error
	for _, smpl := range vec {
		var err error
		if smpl.H != nil {
			err = ErrHistogram
		} else {
			err = s.Append(smpl.Metric, smpl.T, smpl.F)
		}
		if err != nil && first == nil && !value.IsStaleNaN(smpl.F) {
			first = err
		}
	}
	return first
}

// Querier implements storage.Queryable.
func (s *Store) Querier(mint, maxt int64) (storage.Querier, error) {
	return &querier{s: s, mint: mint, maxt: maxt}, nil
}

type querier struct {
	s          *Store
	mint, maxt int64
}

// matching returns the series ms select that have samples in [mint, maxt],
// clipped to it and sorted by labels.
func (q *querier) matching(mint, maxt int64, ms []*labels.Matcher) []storage.Series {
	q.s.mu.RLock()
	defer q.s.mu.RUnlock()
	var out []storage.Series
	for _, s := range q.s.series {
		ok := true
		for _, m := range ms {
			ok = ok && m.Matches(s.lset.Get(m.Name))
		}
		if !ok {
			continue
		}
		lo, _ := slices.BinarySearch(s.ts, mint)
		hi, found := slices.BinarySearch(s.ts, maxt)
		if found {
			hi++
		}
		if lo < hi {
			// Appends only grow the slices past hi, so the view stays valid.
			out = append(out, &memSeries{lset: s.lset, ts: s.ts[lo:hi:hi], vs: s.vs[lo:hi:hi]})
		}
	}
	slices.SortFunc(out, func(a, b storage.Series) int { return labels.Compare(a.Labels(), b.Labels()) })
	return out
}

func (q *querier) Select(_ context.Context, _ bool, h *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	mint, maxt := q.mint, q.maxt
	if h != nil {
		mint, maxt = max(mint, h.Start), min(maxt, h.End)
	}
	return &seriesSet{series: q.matching(mint, maxt, ms), i: -1}
}

func (q *querier) LabelValues(_ context.Context, name string, _ *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	var vals []string
	for _, s := range q.matching(q.mint, q.maxt, ms) {
		if v := s.Labels().Get(name); v != "" && !slices.Contains(vals, v) {
			vals = append(vals, v)
		}
	}
	slices.Sort(vals)
	return vals, nil, nil
}

func (q *querier) LabelNames(_ context.Context, _ *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	var names []string
	for _, s := range q.matching(q.mint, q.maxt, ms) {
		s.Labels().Range(func(l labels.Label) {
			if !slices.Contains(names, l.Name) {
				names = append(names, l.Name)
			}
		})
	}
	slices.Sort(names)
	return names, nil, nil
}

func (*querier) Close() error { return nil }

type seriesSet struct {
	series []storage.Series
	i      int
}

func (l *seriesSet) Next() bool                      { l.i++; return l.i < len(l.series) }
func (l *seriesSet) At() storage.Series              { return l.series[l.i] }
func (*seriesSet) Err() error                        { return nil }
func (*seriesSet) Warnings() annotations.Annotations { return nil }

func (s *memSeries) Labels() labels.Labels { return s.lset }
func (s *memSeries) Iterator(chunkenc.Iterator) chunkenc.Iterator {
	return storage.NewListSeriesIterator(s)
}

// Get and Len make memSeries a storage.Samples for the list iterator.
func (s *memSeries) Get(i int) chunks.Sample { return fpoint{s.ts[i], s.vs[i]} }
func (s *memSeries) Len() int                { return len(s.ts) }

type fpoint struct {
	t int64
	f float64
}

func (p fpoint) T() int64                    { return p.t }
func (fpoint) ST() int64                     { return 0 }
func (p fpoint) F() float64                  { return p.f }
func (fpoint) H() *histogram.Histogram       { return nil }
func (fpoint) FH() *histogram.FloatHistogram { return nil }
func (fpoint) Type() chunkenc.ValueType      { return chunkenc.ValFloat }
func (p fpoint) Copy() chunks.Sample         { return p }
