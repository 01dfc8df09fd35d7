package store

import (
	"math"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/chunk"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// Segment kinds: persisted chunks (package chunk encoding, raw or one
// downsampled stream) and head copies (XOR).
const (
	segRaw = iota
	segDownsampled
	segHead
)

// segment is one piece of a series' data in time order.
type segment struct {
	kind       int
	minT, maxT int64
	data       []byte
}

// series is a storage.Series over its segments.
type series struct {
	lset       labels.Labels
	segs       []segment
	mint, maxt int64
}

func (s *series) Labels() labels.Labels { return s.lset }

func (s *series) Iterator(reuse chunkenc.Iterator) chunkenc.Iterator {
	it, ok := reuse.(*concatIterator)
	if !ok {
		it = &concatIterator{}
	}
	it.reset(s.segs)
	return it
}

// concatIterator reads segments one after the other. Segments may overlap
// while a window is being compacted (it is then both in a chunk and in the
// head); a sample not newer than the last one returned is skipped.
type concatIterator struct {
	segs  []segment
	next  int // next segment to open
	cur   chunkenc.Iterator
	chunk chunk.Iterator
	xor   *chunkenc.XORChunk
	xorIt chunkenc.Iterator
	t     int64
	v     float64
	err   error
}

func (it *concatIterator) reset(segs []segment) {
	it.segs, it.next, it.cur, it.err = segs, 0, nil, nil
	it.t = math.MinInt64
}

// open makes segment i the current one.
func (it *concatIterator) open(i int) {
	seg := it.segs[i]
	if seg.kind == segHead {
		if it.xor == nil {
			it.xor = chunkenc.NewXORChunk()
		}
		it.xor.Reset(seg.data)
		it.xorIt = it.xor.Iterator(it.xorIt)
		it.cur = it.xorIt
		return
	}
	it.chunk.Reset(seg.data)
	it.cur = &it.chunk
}

func (it *concatIterator) Next() chunkenc.ValueType {
	for {
		if it.cur == nil {
			if it.next >= len(it.segs) || it.err != nil {
				return chunkenc.ValNone
			}
			it.open(it.next)
			it.next++
		}
		if it.cur.Next() == chunkenc.ValFloat {
			t, v := it.cur.At()
			if t <= it.t {
				continue
			}
			it.t, it.v = t, v
			return chunkenc.ValFloat
		}
		if err := it.cur.Err(); err != nil {
			it.err = err
			return chunkenc.ValNone
		}
		it.cur = nil
	}
}

func (it *concatIterator) Seek(t int64) chunkenc.ValueType {
	if it.err != nil {
		return chunkenc.ValNone
	}
	if it.t >= t && it.t != math.MinInt64 {
		return chunkenc.ValFloat
	}
	// Skip whole segments that end before t without decoding them.
	if it.cur == nil || it.segs[it.next-1].maxT < t {
		for it.next < len(it.segs) && it.segs[it.next].maxT < t {
			it.next++
		}
		it.cur = nil
		if it.next >= len(it.segs) {
			return chunkenc.ValNone
		}
		it.open(it.next)
		it.next++
	}
	if it.cur.Seek(t) == chunkenc.ValFloat {
		if st, v := it.cur.At(); st > it.t {
			it.t, it.v = st, v
			return chunkenc.ValFloat
		}
	} else if err := it.cur.Err(); err != nil {
		it.err = err
		return chunkenc.ValNone
	}
	for {
		if vt := it.Next(); vt == chunkenc.ValNone || it.t >= t {
			return vt
		}
	}
}

func (it *concatIterator) At() (int64, float64) { return it.t, it.v }
func (it *concatIterator) AtT() int64           { return it.t }
func (it *concatIterator) AtST() int64          { return 0 }
func (it *concatIterator) Err() error           { return it.err }

func (it *concatIterator) AtHistogram(*histogram.Histogram) (int64, *histogram.Histogram) {
	panic("store: no histogram samples")
}

func (it *concatIterator) AtFloatHistogram(*histogram.FloatHistogram) (int64, *histogram.FloatHistogram) {
	panic("store: no histogram samples")
}
