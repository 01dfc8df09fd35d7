package chunk

import (
	"encoding/binary"
	"math/bits"
)

// An integer sequence (timestamps, or values as scaled integers) y is
// written as y[0], a multiplier m (the GCD of y[i]-y[0], so counters of
// KiB-granular bytes or second-granular timestamps lose their zero bits),
// and the residuals of a predictor on z[i] = (y[i]-y[0])/m:
//
//	order 1: z[i] = z[i-1] + base + r[i]                  (i >= 1)
//	order 2: z[i] = z[i-1] + d[i], d[i] = d[i-1] + r[i]   (d[1] given, i >= 2)
//
// The residuals, zigzagged, are dense (a classCode bit stream), sparse
// (uvarint pairs: zeros skipped, then a non-zero residual) or absent (all
// zero). The encoder tries order 1 with base 0, order 1 with the most
// common step as base (regular timestamps: no residuals at all) and order 2
// (counters, ramps, jittered timestamps), with and without the multiplier,
// and keeps the smallest. Arithmetic wraps, so any int64 sequence
// round-trips.
//
//	seq   := uvarint(zigzag(y0)) [flags [uvarint(m)] uvarint(|param|) [widths] [uvarint(len)] payload]
//	flags := order2 | sparse<<1 | (k-1)<<2 | negative<<4 | multiplier<<5 | empty<<6
//
// The part in brackets is there iff n > 1; widths (k bytes) iff dense; len
// unless empty or the sequence ends the chunk.
const (
	seqOrder2   = 1 << 0
	seqSparse   = 1 << 1
	seqNegative = 1 << 4
	seqMul      = 1 << 5
	seqEmpty    = 1 << 6
)

// seqPlan is how a sequence is written.
type seqPlan struct {
	order2 bool
	sparse bool
	empty  bool
	mul    uint64 // 1: none
	param  int64  // order 1: base; order 2: the first step
	code   classCode
	dense  uint64 // dense payload bits
	spLen  int    // sparse payload bytes
	size   int    // bytes of the whole sequence, when not last
}

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

func uvarintLen(u uint64) int { return (bits.Len64(u|1) + 6) / 7 }

func absU(v int64) uint64 {
	if v < 0 {
		return uint64(-v) // MinInt64 gives 1<<63
	}
	return uint64(v)
}

// residuals fills rs with the zigzagged residuals of zs under a predictor.
func residuals(rs []uint64, zs []int64, order2 bool, base int64) []uint64 {
	rs = rs[:0]
	if order2 {
		for i := 2; i < len(zs); i++ {
			rs = append(rs, zigzag((zs[i]-zs[i-1])-(zs[i-1]-zs[i-2])))
		}
		return rs
	}
	for i := 1; i < len(zs); i++ {
		rs = append(rs, zigzag(zs[i]-zs[i-1]-base))
	}
	return rs
}

// gcdOffsets returns the GCD of ys[i]-ys[0], or 1 if that is 0 or huge.
func gcdOffsets(ys []int64) uint64 {
	var g uint64
	for _, y := range ys[1:] {
		a := absU(y - ys[0])
		if a == 0 {
			continue
		}
		if g == 0 {
			g = a
			continue
		}
		// Binary GCD.
		shift := bits.TrailingZeros64(g | a)
		a >>= bits.TrailingZeros64(a)
		b := g >> bits.TrailingZeros64(g)
		for a != b {
			if a > b {
				a, b = b, a
			}
			b -= a
			b >>= bits.TrailingZeros64(b)
		}
		if g = a << shift; g == 1 {
			return 1
		}
	}
	if g == 0 || g > 1<<62 {
		return 1
	}
	return g
}

// offsets fills zs with (ys[i]-ys[0])/m.
func offsets(zs, ys []int64, m uint64) []int64 {
	zs = zs[:0]
	if m == 1 {
		for _, y := range ys {
			zs = append(zs, y-ys[0])
		}
		return zs
	}
	for _, y := range ys {
		zs = append(zs, (y-ys[0])/int64(m))
	}
	return zs
}

// seqScratch is planSeq's and appendSeq's working space.
type seqScratch struct {
	zs []int64
	rs []uint64
}

// planSeq picks the smallest predictor and residual coding for ys.
func (sc *seqScratch) planSeq(ys []int64) seqPlan {
	head := uvarintLen(zigzag(ys[0]))
	if len(ys) < 2 {
		return seqPlan{mul: 1, size: head}
	}
	if step, ok := constStep(ys); ok {
		// Regular timestamps, constant values: nothing beats no residuals.
		return seqPlan{empty: true, mul: 1, param: step, size: head + 1 + uvarintLen(absU(step))}
	}
	var best seqPlan
	try := func(m uint64, order2 bool, param int64) {
		base := int64(0)
		if !order2 {
			base = param
		}
		sc.rs = residuals(sc.rs, sc.zs, order2, base)
		var h widthHist
		sparse, gap := 0, uint64(0)
		for _, r := range sc.rs {
			h[bits.Len64(r)]++
			if r == 0 {
				gap++
				continue
			}
			sparse += uvarintLen(gap) + uvarintLen(r)
			gap = 0
		}
		code, dbits := planClasses(&h)
		p := seqPlan{order2: order2, mul: m, param: param, code: code, dense: dbits, spLen: sparse}
		size := head + 1 + uvarintLen(absU(param))
		if m > 1 {
			size += uvarintLen(m)
		}
		dbytes := int((dbits + 7) / 8)
		sparseSize := uvarintLen(uint64(sparse)) + sparse
		denseSize := code.k + uvarintLen(uint64(dbytes)) + dbytes
		switch {
		case sparse == 0:
			p.empty = true
		case sparseSize <= denseSize:
			p.sparse = true
			size += sparseSize
		default:
			size += denseSize
		}
		p.size = size
		if best.size == 0 || p.size < best.size {
			best = p
		}
	}
	g := gcdOffsets(ys)
	for _, m := range [2]uint64{1, g} {
		sc.zs = offsets(sc.zs, ys, m)
		try(m, false, 0)
		if step := commonStep(sc.zs); step != 0 {
			try(m, false, step)
		}
		if len(ys) > 2 {
			try(m, true, sc.zs[1])
		}
		if g == 1 {
			break
		}
	}
	return best
}

// constStep reports whether ys moves by the same step throughout.
func constStep(ys []int64) (int64, bool) {
	step := ys[1] - ys[0]
	for i := 2; i < len(ys); i++ {
		if ys[i]-ys[i-1] != step {
			return 0, false
		}
	}
	return step, true
}

// commonStep returns the majority step of zs if there is one (Boyer-Moore),
// else some frequent step.
func commonStep(zs []int64) int64 {
	var cand int64
	votes := 0
	for i := 1; i < len(zs); i++ {
		d := zs[i] - zs[i-1]
		switch {
		case votes == 0:
			cand, votes = d, 1
		case d == cand:
			votes++
		default:
			votes--
		}
	}
	return cand
}

// appendSeq writes ys as planned; last says the sequence ends the chunk.
func (sc *seqScratch) appendSeq(dst []byte, ys []int64, p seqPlan, last bool) []byte {
	dst = binary.AppendUvarint(dst, zigzag(ys[0]))
	if len(ys) < 2 {
		return dst
	}
	flags := byte(0)
	base := p.param
	if p.order2 {
		flags |= seqOrder2
		base = 0
	}
	if p.param < 0 {
		flags |= seqNegative
	}
	if p.mul > 1 {
		flags |= seqMul
	}
	switch {
	case p.empty:
		flags |= seqEmpty
	case p.sparse:
		flags |= seqSparse
	default:
		flags |= byte(p.code.k-1) << 2
	}
	dst = append(dst, flags)
	if p.mul > 1 {
		dst = binary.AppendUvarint(dst, p.mul)
	}
	dst = binary.AppendUvarint(dst, absU(p.param))
	if p.empty {
		return dst
	}
	sc.zs = offsets(sc.zs, ys, p.mul)
	sc.rs = residuals(sc.rs, sc.zs, p.order2, base)
	if p.sparse {
		if !last {
			dst = binary.AppendUvarint(dst, uint64(p.spLen))
		}
		gap := uint64(0)
		for _, r := range sc.rs {
			if r == 0 {
				gap++
				continue
			}
			dst = binary.AppendUvarint(dst, gap)
			dst = binary.AppendUvarint(dst, r)
			gap = 0
		}
		return dst
	}
	dst = append(dst, p.code.w[:p.code.k]...)
	if !last {
		dst = binary.AppendUvarint(dst, (p.dense+7)/8)
	}
	enc := p.code.encoder()
	w := bitWriter{b: dst}
	for _, r := range sc.rs {
		enc.put(&w, r)
	}
	return w.flush()
}
