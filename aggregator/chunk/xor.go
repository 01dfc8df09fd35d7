package chunk

import (
	"math"
	"math/bits"
)

// The XOR mode is Gorilla's value coding, as in Prometheus' XOR chunks, for
// chunks of values that are not short decimals (results of arithmetic,
// rates). Each value is XORed with the previous one:
//
//	0                                  same value
//	10 <bits>                          the XOR fits the previous window
//	11 <5: leading zeros> <6: width> <bits>   a new window (width 0 means 64)
//
// The first value is 64 raw bits.

// xorBits returns the size of vs in the XOR coding, in bits.
func xorBits(vs []float64) uint64 {
	n := uint64(64)
	prev := math.Float64bits(vs[0])
	lead, trail := uint8(0xff), uint8(0)
	for _, v := range vs[1:] {
		u := math.Float64bits(v)
		x := u ^ prev
		prev = u
		if x == 0 {
			n++
			continue
		}
		l, t := uint8(min(bits.LeadingZeros64(x), 31)), uint8(bits.TrailingZeros64(x))
		if lead != 0xff && l >= lead && t >= trail {
			n += 2 + uint64(64-lead-trail)
			continue
		}
		lead, trail = l, t
		n += 2 + 5 + 6 + uint64(64-l-t)
	}
	return n
}

func appendXOR(dst []byte, vs []float64) []byte {
	w := bitWriter{b: dst}
	prev := math.Float64bits(vs[0])
	w.write(prev, 64)
	lead, trail := uint8(0xff), uint8(0)
	for _, v := range vs[1:] {
		u := math.Float64bits(v)
		x := u ^ prev
		prev = u
		if x == 0 {
			w.write(0, 1)
			continue
		}
		l, t := uint8(min(bits.LeadingZeros64(x), 31)), uint8(bits.TrailingZeros64(x))
		if lead != 0xff && l >= lead && t >= trail {
			w.write(0b10, 2)
			w.write(x>>trail, uint(64-lead-trail))
			continue
		}
		lead, trail = l, t
		sig := 64 - l - t
		w.write(0b11<<11|uint64(l)<<6|uint64(sig&63), 13)
		w.write(x>>t, uint(sig))
	}
	return w.flush()
}

// xorReader yields the values of an XOR payload.
type xorReader struct {
	br          bitReader
	u           uint64 // current value's bits
	lead, trail uint8
	bad         bool
}

func (r *xorReader) init(b []byte, off int) {
	*r = xorReader{br: bitReader{b: b, pos: uint(off) * 8, end: uint(len(b)) * 8}, lead: 0xff}
	r.u = r.br.read(64)
	r.bad = r.br.overrun()
}

func (r *xorReader) next() {
	x := r.br.peek()
	switch {
	case x>>63 == 0:
		r.br.pos++
		return
	case x>>62 == 0b10:
		if r.lead == 0xff {
			r.bad = true
			return
		}
		sig := uint(64 - r.lead - r.trail)
		if sig <= 55 {
			r.u ^= x << 2 >> 1 >> (63 - sig) << r.trail
			r.br.pos += 2 + sig
		} else {
			r.br.pos += 2
			r.u ^= r.br.read(sig) << r.trail
		}
	default:
		l, sig := uint8(x>>57&31), uint(x>>51&63)
		if sig == 0 {
			sig = 64
		}
		if uint(l)+sig > 64 {
			r.bad = true
			return
		}
		r.lead, r.trail = l, uint8(64-uint(l)-sig)
		r.br.pos += 13
		r.u ^= r.br.read(sig) << r.trail
	}
	if r.br.overrun() {
		r.bad = true
	}
}

// done reports whether the payload was used up exactly.
func (r *xorReader) done() bool {
	return !r.bad && r.br.pos <= r.br.end && r.br.end-r.br.pos < 8
}
