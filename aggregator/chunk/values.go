package chunk

import "math"

// Value modes, the low nibble of a chunk's first byte.
const (
	// modeDecimal: values are x/10^scale for integers x, written as an
	// integer sequence, plus a list of exceptions.
	//
	//	values := byte(scale | hasExceptions<<5) [uvarint(len) exceptions] seq(x)
	modeDecimal = 0
	// modeXOR: Gorilla XOR bit stream to the end of the chunk.
	modeXOR = 1
	// modeConst: every value has the same bits, written once (8 bytes,
	// little-endian).
	modeConst = 2
	numModes  = 3
)

const hasExceptions = 1 << 5

// planValues chooses the value mode and, for modeDecimal, fills e.xs,
// e.exc and e.xsPlan.
func (e *encoder) planValues(vs []float64) byte {
	best, mode := int((xorBits(vs)+7)/8), byte(modeXOR)
	if isConst(vs) && 8 < best {
		best, mode = 8, modeConst
	}

	// The smallest scale of each value; stop early when most are not
	// decimals, as XOR will win.
	n := len(vs)
	e.ds = e.ds[:0]
	var hist [maxScale + 1]int
	bad, hint := 0, 0
	for _, v := range vs {
		d := minScale(v, hint)
		if d < 0 {
			if bad++; 2*bad > n {
				return mode
			}
		} else {
			hint = d
			hist[d]++
		}
		e.ds = append(e.ds, int8(d))
	}
	if bad == n {
		return mode
	}
	// Candidates: the scale that holds every decimal, and the smallest
	// that holds all but a few (those become exceptions: cheaper than
	// another digit on every sample).
	hi := maxScale
	for hist[hi] == 0 {
		hi--
	}
	lo, above := hi, 0
	for lo > 0 && above+hist[lo] <= n/32 {
		above += hist[lo]
		lo--
	}
	scale, size := -1, best
	for _, d := range [2]int{lo, hi} {
		if s := e.planDecimal(vs, d); s < size {
			scale, size = d, s
		}
		if lo == hi {
			break
		}
	}
	switch {
	case scale < 0:
		return mode
	case scale != hi:
		e.planDecimal(vs, scale)
	}
	e.scale = scale
	return modeDecimal
}

func isConst(vs []float64) bool {
	u := math.Float64bits(vs[0])
	for _, v := range vs[1:] {
		if math.Float64bits(v) != u {
			return false
		}
	}
	return true
}

// planDecimal converts vs at scale d into e.xs and e.exc, plans the
// integer sequence and returns the size of the values section.
func (e *encoder) planDecimal(vs []float64, d int) int {
	// An exception holds the place with the previous integer (the first
	// decimal one for leading exceptions), so it costs nothing in the
	// sequence.
	var prev int64
	for i, v := range vs {
		if e.ds[i] >= 0 && int(e.ds[i]) <= d {
			if x, ok := scaled(v, d); ok {
				prev = x
				break
			}
		}
	}
	e.xs, e.exc = e.xs[:0], e.exc[:0]
	last := -1
	for i, v := range vs {
		x, ok := int64(0), false
		if e.ds[i] >= 0 && int(e.ds[i]) <= d {
			x, ok = scaled(v, d)
		}
		if !ok {
			e.exc = appendException(e.exc, i-last-1, v)
			last, x = i, prev
		}
		prev = x
		e.xs = append(e.xs, x)
	}
	e.xsPlan = e.planSeq(e.xs)
	size := 1 + e.xsPlan.size
	if len(e.exc) > 0 {
		size += uvarintLen(uint64(len(e.exc))) + len(e.exc)
	}
	return size
}
