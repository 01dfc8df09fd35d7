package store

import (
	"encoding/binary"
	"errors"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/prometheus/prometheus/model/labels"
)

// memSeries is one series as the store holds it in memory: its labels, the
// time bounds of its samples, and its head (the windows not yet compacted).
type memSeries struct {
	ref  SeriesRef
	lset labels.Labels

	firstT int64        // first sample ever stored (ms)
	lastT  atomic.Int64 // newest sample, head or persisted (ms)

	mu   sync.Mutex
	head []*headChunk // oldest first

	held atomic.Pointer[heldSample] // refused by a failing disk; see hold
}

// index maps label sets to series and label pairs to the series carrying
// them, entirely in memory (rebuilt from the series table at Open).
type index struct {
	mu       sync.RWMutex
	byHash   map[uint64][]*memSeries
	byRef    map[SeriesRef]*memSeries
	postings map[string]map[string][]SeriesRef // name → value → refs, ascending
	nextRef  SeriesRef
}

func newIndex() *index {
	return &index{
		byHash:   map[uint64][]*memSeries{},
		byRef:    map[SeriesRef]*memSeries{},
		postings: map[string]map[string][]SeriesRef{},
		nextRef:  1,
	}
}

// get returns the series with exactly these labels, if any.
func (ix *index) get(hash uint64, lset labels.Labels) *memSeries {
	for _, s := range ix.byHash[hash] {
		if labels.Equal(s.lset, lset) {
			return s
		}
	}
	return nil
}

// add registers s; the caller holds ix.mu for writing. Refs only grow, so
// appending keeps every postings list sorted.
func (ix *index) add(s *memSeries) {
	h := s.lset.Hash()
	ix.byHash[h] = append(ix.byHash[h], s)
	ix.byRef[s.ref] = s
	if s.ref >= ix.nextRef {
		ix.nextRef = s.ref + 1
	}
	s.lset.Range(func(l labels.Label) {
		vals := ix.postings[l.Name]
		if vals == nil {
			vals = map[string][]SeriesRef{}
			ix.postings[l.Name] = vals
		}
		list := vals[l.Value]
		if n := len(list); n > 0 && list[n-1] > s.ref {
			i, _ := slices.BinarySearch(list, s.ref)
			vals[l.Value] = slices.Insert(list, i, s.ref)
			return
		}
		vals[l.Value] = append(list, s.ref)
	})
}

// remove forgets s; the caller holds ix.mu for writing.
func (ix *index) remove(s *memSeries) {
	h := s.lset.Hash()
	ix.byHash[h] = slices.DeleteFunc(ix.byHash[h], func(o *memSeries) bool { return o == s })
	if len(ix.byHash[h]) == 0 {
		delete(ix.byHash, h)
	}
	delete(ix.byRef, s.ref)
	s.lset.Range(func(l labels.Label) {
		vals := ix.postings[l.Name]
		list := vals[l.Value]
		if i, ok := slices.BinarySearch(list, s.ref); ok {
			list = slices.Delete(list, i, i+1)
		}
		if len(list) == 0 {
			delete(vals, l.Value)
			if len(vals) == 0 {
				delete(ix.postings, l.Name)
			}
			return
		}
		vals[l.Value] = list
	})
}

// encodeLabels is the series table's canonical form of a label set:
// (uvarint length, bytes) for each name and value, in label order.
func encodeLabels(dst []byte, lset labels.Labels) []byte {
	lset.Range(func(l labels.Label) {
		dst = binary.AppendUvarint(dst, uint64(len(l.Name)))
		dst = append(dst, l.Name...)
		dst = binary.AppendUvarint(dst, uint64(len(l.Value)))
		dst = append(dst, l.Value...)
	})
	return dst
}

var errCorruptLabels = errors.New("corrupt label encoding")

func decodeLabels(b []byte, builder *labels.ScratchBuilder) (labels.Labels, error) {
	builder.Reset()
	next := func() (string, error) {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return "", errCorruptLabels
		}
		s := string(b[k : k+int(n)])
		b = b[k+int(n):]
		return s, nil
	}
	for len(b) > 0 {
		name, err := next()
		if err != nil {
			return labels.EmptyLabels(), err
		}
		value, err := next()
		if err != nil {
			return labels.EmptyLabels(), err
		}
		builder.Add(name, value)
	}
	builder.Sort()
	return builder.Labels(), nil
}
