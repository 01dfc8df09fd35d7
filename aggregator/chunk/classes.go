package chunk

import "math/bits"

// classCode packs unsigned integers into up to four classes of fixed width.
// Each number is written as its class's prefix and then its value in the
// class's width. The classes are chosen per sequence from the histogram of
// bit lengths, so a chunk of ±1 jitter costs 2-3 bits a sample and a chunk
// of 17-bit noise costs 17-18.
//
// Prefixes, by number of classes k (classes listed in prefix order):
//
//	k=1: none
//	k=2: 0, 1
//	k=3: 0, 10, 11
//	k=4: 00, 01, 10, 11
type classCode struct {
	k int      // 1..4
	w [4]uint8 // widths in prefix order, each <= 64
}

// widthHist counts numbers by bit length (bits.Len64).
type widthHist [65]uint32

var (
	prefixLen  = [5][4]uint8{1: {0}, 2: {1, 1}, 3: {1, 2, 2}, 4: {2, 2, 2, 2}}
	prefixBits = [5][4]uint8{1: {0}, 2: {0, 1}, 3: {0, 2, 3}, 4: {0, 1, 2, 3}}
)

// planClasses returns the cheapest code for the numbers counted in h and its
// size in bits. It tries every choice of up to four widths among the bit
// lengths present (the widest is always a class).
func planClasses(h *widthHist) (classCode, uint64) {
	var ws [65]uint64 // bit lengths present, ascending
	var cum [65]uint64
	m := 0
	var n uint64
	for w, c := range h {
		if c > 0 {
			n += uint64(c)
			ws[m], cum[m] = uint64(w), n
			m++
		}
	}
	if m == 0 {
		return classCode{k: 1}, 0
	}
	top := ws[m-1]
	best, code := n*top, classCode{k: 1, w: [4]uint8{uint8(top)}}
	for a := 0; a < m-1; a++ {
		na := cum[a]
		wa := na * ws[a]
		if c := wa + (n-na)*top + n; c < best {
			best, code = c, classCode{k: 2, w: [4]uint8{uint8(ws[a]), uint8(top)}}
		}
		for b := a + 1; b < m-1; b++ {
			nb := cum[b] - na
			wab := wa + nb*ws[b]
			nt := n - cum[b]
			if c := wab + nt*top + 2*n - max(na, nb, nt); c < best {
				best, code = c, order3(ws[a], ws[b], top, na, nb, nt)
			}
			for c := b + 1; c < m-1; c++ {
				nc := cum[c] - cum[b]
				if cost := wab + nc*ws[c] + (n-cum[c])*top + 2*n; cost < best {
					best, code = cost, classCode{k: 4, w: [4]uint8{uint8(ws[a]), uint8(ws[b]), uint8(ws[c]), uint8(top)}}
				}
			}
		}
	}
	return code, best
}

// order3 gives the one-bit prefix to the most frequent of three classes.
func order3(wa, wb, wc, na, nb, nc uint64) classCode {
	switch {
	case na >= nb && na >= nc:
		return classCode{k: 3, w: [4]uint8{uint8(wa), uint8(wb), uint8(wc)}}
	case nb >= nc:
		return classCode{k: 3, w: [4]uint8{uint8(wb), uint8(wa), uint8(wc)}}
	default:
		return classCode{k: 3, w: [4]uint8{uint8(wc), uint8(wa), uint8(wb)}}
	}
}

// classEncoder maps a bit length to the prefix and width that write it.
type classEncoder [65]struct {
	prefix, plen, w uint8
}

func (c classCode) encoder() *classEncoder {
	var e classEncoder
	for bl := range e {
		best := -1
		for i := range c.k {
			if int(c.w[i]) >= bl && (best < 0 || c.w[i] < c.w[best]) {
				best = i
			}
		}
		if best >= 0 {
			e[bl].prefix, e[bl].plen, e[bl].w = prefixBits[c.k][best], prefixLen[c.k][best], c.w[best]
		}
	}
	return &e
}

// put writes x, whose bit length must fit the code's widest class.
func (e *classEncoder) put(w *bitWriter, x uint64) {
	c := &e[bits.Len64(x)]
	if c.plen+c.w <= 64 {
		w.write(uint64(c.prefix)<<c.w|x, uint(c.plen+c.w))
		return
	}
	w.write(uint64(c.prefix), uint(c.plen))
	w.write(x, uint(c.w))
}

// classEntry is what the top two bits of a symbol say: the prefix length
// and the width of the value after it.
type classEntry struct{ plen, w uint8 }

// decoder returns the lookup table indexed by a symbol's top two bits.
func (c classCode) decoder() (t [4]classEntry) {
	for top := range t {
		var i int
		switch c.k {
		case 1:
			i = 0
		case 2:
			i = top >> 1
		case 3:
			i = max(top-1, 0)
		case 4:
			i = top
		}
		t[top] = classEntry{prefixLen[c.k][i], c.w[i]}
	}
	return t
}
