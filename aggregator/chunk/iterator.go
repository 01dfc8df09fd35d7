package chunk

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// blockSize is how many samples the iterator decodes at a time.
const blockSize = 64

// Iterator reads a chunk's samples in order without materialising them:
// it decodes blocks of 64 samples in tight loops. It implements
// chunkenc.Iterator for float samples. The zero Iterator is exhausted;
// Reset points it at a chunk.
type Iterator struct {
	iterState
	bt [blockSize]int64   // the block's timestamps
	bv [blockSize]float64 // values
	bx [blockSize]int64   // scaled integers (modeDecimal)
}

type iterState struct {
	n         int // samples in the chunk
	done      int // samples decoded into blocks so far
	bi, bn    int // current index in the block; the block's length
	mode      byte
	scale     int
	ts, xs    seqReader
	exc       excReader
	xor       xorReader
	first     float64 // the first value (modeConst, modeXOR)
	exhausted bool
	err       error
}

var _ chunkenc.Iterator = (*Iterator)(nil)

// Reset points the iterator at chunk b without allocating.
func (it *Iterator) Reset(b []byte) {
	it.iterState = iterState{}
	n, mode, err := header(b)
	if err != nil {
		it.fail(err)
		return
	}
	off := 1 + uvarintLen(uint64(n))
	off, ok := it.ts.init(b, off, n, false)
	if !ok {
		it.fail(fmt.Errorf("%w: timestamps", ErrCorrupt))
		return
	}
	it.n, it.mode = n, mode
	switch mode {
	case modeConst:
		if len(b)-off != 8 {
			it.fail(fmt.Errorf("%w: constant value", ErrCorrupt))
			return
		}
		it.first = math.Float64frombits(binary.LittleEndian.Uint64(b[off:]))
	case modeXOR:
		it.xor.init(b, off)
		if it.xor.bad {
			it.fail(fmt.Errorf("%w: XOR values", ErrCorrupt))
			return
		}
		it.first = math.Float64frombits(it.xor.u)
	case modeDecimal:
		if !it.initDecimal(b, off) {
			it.fail(fmt.Errorf("%w: decimal values", ErrCorrupt))
			return
		}
	}
}

func (it *Iterator) initDecimal(b []byte, off int) bool {
	if off >= len(b) {
		return false
	}
	flags := b[off]
	off++
	it.scale = int(flags &^ hasExceptions)
	if it.scale > maxScale {
		return false
	}
	var exc []byte
	if flags&hasExceptions != 0 {
		size, o, ok := uvarintAt(b, off)
		if !ok || size == 0 || size > uint64(len(b)-o) {
			return false
		}
		exc, off = b[o:o+int(size)], o+int(size)
	}
	it.exc.init(exc, it.n)
	end, ok := it.xs.init(b, off, it.n, true)
	return ok && end == len(b) && !it.exc.bad
}

func (it *Iterator) fail(err error) {
	it.err, it.exhausted, it.bi, it.bn = err, true, 0, 0
}

// Next advances to the next sample.
func (it *Iterator) Next() chunkenc.ValueType {
	if it.bi+1 < it.bn {
		it.bi++
		return chunkenc.ValFloat
	}
	return it.nextBlock()
}

// nextBlock decodes the next block and moves to its first sample.
func (it *Iterator) nextBlock() chunkenc.ValueType {
	if it.exhausted {
		return chunkenc.ValNone
	}
	if it.done == it.n {
		it.exhausted, it.bi, it.bn = true, 0, 0
		if it.n > 0 {
			it.finish()
		}
		return chunkenc.ValNone
	}
	k := min(blockSize, it.n-it.done)
	bt, bv := it.bt[:k], it.bv[:k]
	start := 0
	if it.done == 0 {
		start = 1
		bt[0] = it.ts.first()
	}
	it.ts.fill(bt[start:])
	switch it.mode {
	case modeConst:
		for j := range bv {
			bv[j] = it.first
		}
	case modeXOR:
		if start == 1 {
			bv[0] = it.first
		}
		for j := start; j < k; j++ {
			it.xor.next()
			bv[j] = math.Float64frombits(it.xor.u)
		}
	case modeDecimal:
		it.decimals(k, start)
	}
	if it.ts.bad || it.xs.bad || it.xor.bad || it.exc.bad {
		it.fail(fmt.Errorf("%w: samples %d to %d", ErrCorrupt, it.done, it.done+k-1))
		return chunkenc.ValNone
	}
	it.done += k
	it.bi, it.bn = 0, k
	return chunkenc.ValFloat
}

// decimals fills the block's values from scaled integers and exceptions.
func (it *Iterator) decimals(k, start int) {
	bx, bv := it.bx[:k], it.bv[:k]
	if start == 1 {
		bx[0] = it.xs.first()
	}
	it.xs.fill(bx[start:])
	if it.scale == 0 {
		for j, x := range bx {
			bv[j] = float64(x)
		}
	} else {
		// One correctly rounded division, exactly what parsing the decimal
		// text does; multiplying by 10^-scale would not be.
		div := pow10[it.scale]
		for j, x := range bx {
			bv[j] = float64(x) / div
		}
	}
	for end := it.done + k; it.exc.next >= 0 && it.exc.next < end; {
		bv[it.exc.next-it.done] = it.exc.v
		it.exc.load(it.exc.next)
	}
}

// finish checks, once every sample is read, that nothing is left over.
func (it *Iterator) finish() {
	ok := it.ts.done()
	switch it.mode {
	case modeDecimal:
		ok = ok && it.xs.done() && it.exc.next < 0 && !it.exc.bad
	case modeXOR:
		ok = ok && it.xor.done()
	}
	if !ok {
		it.fail(fmt.Errorf("%w: trailing data", ErrCorrupt))
	}
}

// Seek advances to the first sample with a timestamp at or after t. It
// never moves backwards: if the current sample qualifies, it stays. Blocks
// that end before t are skipped without a look at their samples.
func (it *Iterator) Seek(t int64) chunkenc.ValueType {
	if it.exhausted {
		return chunkenc.ValNone
	}
	if it.bn > 0 && it.bt[it.bi] >= t {
		return chunkenc.ValFloat
	}
	for it.bn == 0 || it.bt[it.bn-1] < t {
		if it.nextBlock() == chunkenc.ValNone {
			return chunkenc.ValNone
		}
	}
	for it.bt[it.bi] < t {
		it.bi++
	}
	return chunkenc.ValFloat
}

// At returns the current sample.
func (it *Iterator) At() (int64, float64) {
	i := it.bi & (blockSize - 1)
	return it.bt[i], it.bv[i]
}

// AtT returns the current timestamp.
func (it *Iterator) AtT() int64 { return it.bt[it.bi&(blockSize-1)] }

// AtST returns 0: chunks hold no start timestamps.
func (it *Iterator) AtST() int64 { return 0 }

// AtHistogram panics: chunks hold floats only.
func (it *Iterator) AtHistogram(*histogram.Histogram) (int64, *histogram.Histogram) {
	panic("chunk: AtHistogram on a float chunk")
}

// AtFloatHistogram panics: chunks hold floats only.
func (it *Iterator) AtFloatHistogram(*histogram.FloatHistogram) (int64, *histogram.FloatHistogram) {
	panic("chunk: AtFloatHistogram on a float chunk")
}

// Err returns the error that stopped the iterator, if any.
func (it *Iterator) Err() error { return it.err }

// Decode appends the samples of chunk b to ts and vs. On error it returns
// them unchanged.
func Decode(b []byte, ts []int64, vs []float64) ([]int64, []float64, error) {
	var it Iterator
	it.Reset(b)
	lt, lv := len(ts), len(vs)
	ts, vs = slices.Grow(ts, it.n), slices.Grow(vs, it.n)
	for it.nextBlock() == chunkenc.ValFloat {
		ts, vs = append(ts, it.bt[:it.bn]...), append(vs, it.bv[:it.bn]...)
	}
	if it.err != nil {
		return ts[:lt], vs[:lv], it.err
	}
	return ts, vs, nil
}
