package chunk

import (
	"encoding/binary"
	"math"

	"github.com/prometheus/prometheus/model/value"
)

// maxScale is the largest decimal scale: 10^22 is the largest power of ten
// a float64 holds exactly, so float64(x)/10^d is one correctly rounded
// division, the same number strconv.ParseFloat gives for the decimal text.
const maxScale = 22

var pow10 = [maxScale + 1]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// scaled returns the integer x, |x| <= 2^53, with float64(x)/10^d == v bit
// for bit, if there is one.
func scaled(v float64, d int) (int64, bool) {
	p := pow10[d]
	f := math.Round(v * p)
	if !(math.Abs(f) <= 1<<53) { // also NaN and ±Inf
		return 0, false
	}
	x := int64(f)
	want := math.Float64bits(v)
	if math.Float64bits(float64(x)/p) == want {
		return x, true
	}
	// v*p is within half a unit of x below 2^51; above, try the neighbours.
	if math.Abs(f) >= 1<<51 {
		for _, c := range [2]int64{x - 1, x + 1} {
			if math.Float64bits(float64(c)/p) == want {
				return c, true
			}
		}
	}
	return 0, false
}

// minScale returns the smallest scale at which v is a decimal, or -1.
// hint, the previous value's scale, is tried first.
func minScale(v float64, hint int) int {
	if math.Trunc(v) == v && math.Abs(v) <= 1<<53 && (v != 0 || !math.Signbit(v)) {
		return 0 // an integer (not -0)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) || v == 0 {
		return -1 // NaN, ±Inf, -0
	}
	if _, ok := scaled(v, hint); ok {
		d := hint
		for d > 0 {
			if _, ok := scaled(v, d-1); !ok {
				break
			}
			d--
		}
		return d
	}
	for d := 1; d <= maxScale; d++ {
		if d == hint {
			continue
		}
		if _, ok := scaled(v, d); ok {
			return d
		}
	}
	return -1
}

// Exceptions are values a decimal chunk cannot hold. The common ones take a
// byte; others take nine.
//
//	exception := uvarint(gap<<3 | kind) [8 bytes little-endian, kind raw]
//
// gap is the number of samples since the previous exception.
const (
	excRaw = iota
	excStale
	excNaN
	excPosInf
	excNegInf
	excNegZero
	numExcKinds
)

var excBits = [numExcKinds]uint64{
	excStale:   value.StaleNaN,
	excNaN:     value.NormalNaN,
	excPosInf:  0x7ff0000000000000,
	excNegInf:  0xfff0000000000000,
	excNegZero: 1 << 63,
}

func excKind(u uint64) uint64 {
	for k := excStale; k < numExcKinds; k++ {
		if excBits[k] == u {
			return uint64(k)
		}
	}
	return excRaw
}

func appendException(dst []byte, gap int, v float64) []byte {
	u := math.Float64bits(v)
	k := excKind(u)
	dst = binary.AppendUvarint(dst, uint64(gap)<<3|k)
	if k == excRaw {
		dst = binary.LittleEndian.AppendUint64(dst, u)
	}
	return dst
}

// excReader walks the exception list of a decimal chunk.
type excReader struct {
	b      []byte // the list
	p      int
	next   int // sample index of the next exception; -1: none
	v      float64
	bad    bool
	nTotal int
}

func (r *excReader) init(b []byte, n int) {
	*r = excReader{b: b, next: -1, nTotal: n}
	r.load(-1)
}

// load reads the exception after the one at sample index prev.
func (r *excReader) load(prev int) {
	r.next = -1
	if r.p == len(r.b) {
		return
	}
	u, p, ok := uvarintAt(r.b, r.p)
	gap, k := u>>3, u&7
	if !ok || k >= numExcKinds || gap >= uint64(r.nTotal-prev-1) {
		r.bad = true
		return
	}
	bits := excBits[k]
	if k == excRaw {
		if len(r.b)-p < 8 {
			r.bad = true
			return
		}
		bits = binary.LittleEndian.Uint64(r.b[p:])
		p += 8
	}
	r.p, r.next, r.v = p, prev+1+int(gap), math.Float64frombits(bits)
}
