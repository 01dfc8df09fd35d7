package chunk

import "encoding/binary"

// seqReader yields a sequence written by appendSeq one element at a time.
type seqReader struct {
	y0, m  int64 // element = y0 + m*z
	z, d   int64 // current offset; step (order 2) or base (order 1)
	order2 bool
	sparse bool // sparse or empty
	skip   bool // order 2: the first step has no residual
	bad    bool // the payload ended early or is malformed

	// dense
	br  bitReader
	tab [4]classEntry

	// sparse
	b         []byte
	sp, spEnd int
	left      int // zero residuals before nextR; -1: no more non-zero ones
	nextR     int64
}

// uvarintAt reads a uvarint at b[off:].
func uvarintAt(b []byte, off int) (uint64, int, bool) {
	v, n := binary.Uvarint(b[off:])
	if n <= 0 {
		return 0, off, false
	}
	return v, off + n, true
}

// init parses a sequence of n elements at b[off:] and returns the offset
// after it. A last sequence runs to the end of b.
func (s *seqReader) init(b []byte, off, n int, last bool) (int, bool) {
	*s = seqReader{b: b, left: -1, m: 1, sparse: true}
	u, off, ok := uvarintAt(b, off)
	if !ok {
		return off, false
	}
	s.y0 = unzigzag(u)
	if n < 2 {
		return off, true
	}
	if off >= len(b) {
		return off, false
	}
	flags := b[off]
	off++
	empty := flags&seqEmpty != 0
	s.order2, s.sparse = flags&seqOrder2 != 0, empty || flags&seqSparse != 0
	s.skip = s.order2
	if flags&seqMul != 0 {
		if u, off, ok = uvarintAt(b, off); !ok || u < 2 {
			return off, false
		}
		s.m = int64(u)
	}
	if u, off, ok = uvarintAt(b, off); !ok {
		return off, false
	}
	s.d = int64(u)
	if flags&seqNegative != 0 {
		s.d = -s.d
	}
	if flags>>7 != 0 || empty && flags&(seqSparse|3<<2) != 0 || flags&seqSparse != 0 && flags&(3<<2) != 0 {
		return off, false
	}
	if empty {
		return off, true
	}
	if !s.sparse {
		code := classCode{k: int(flags>>2&3) + 1}
		if off+code.k > len(b) {
			return off, false
		}
		for i := range code.k {
			if b[off+i] > 64 {
				return off, false
			}
			code.w[i] = b[off+i]
		}
		off += code.k
		s.tab = code.decoder()
	}
	end := len(b)
	if !last {
		size, o, ok := uvarintAt(b, off)
		if !ok || size > uint64(len(b)-o) {
			return off, false
		}
		off, end = o, o+int(size)
	}
	if s.sparse {
		s.sp, s.spEnd = off, end
		s.load()
	} else {
		s.br = bitReader{b: b, pos: uint(off) * 8, end: uint(end) * 8}
	}
	return end, !s.bad
}

// load reads the next (gap, residual) pair of a sparse payload.
func (s *seqReader) load() {
	if s.sp == s.spEnd {
		s.left = -1
		return
	}
	gap, sp, ok1 := uvarintAt(s.b[:s.spEnd], s.sp)
	r, sp, ok2 := uvarintAt(s.b[:s.spEnd], sp)
	if !ok1 || !ok2 || r == 0 || gap > MaxSamples {
		s.bad, s.left = true, -1
		return
	}
	s.sp, s.left, s.nextR = sp, int(gap), unzigzag(r)
}

// first returns the first element.
func (s *seqReader) first() int64 { return s.y0 }

// fill writes the following len(out) elements to out.
func (s *seqReader) fill(out []int64) {
	if len(out) == 0 {
		return
	}
	if s.skip {
		s.skip = false
		s.z += s.d
		out[0] = s.y0 + s.m*s.z
		out = out[1:]
	}
	switch {
	case s.sparse:
		s.fillSparse(out)
	case s.order2:
		s.fillDense(out, true)
	default:
		s.fillDense(out, false)
	}
}

func (s *seqReader) fillSparse(out []int64) {
	y0, m, z, d := s.y0, s.m, s.z, s.d
	for i := 0; i < len(out); {
		if s.left != 0 {
			// A run of zero residuals: z moves by d each step in both orders.
			run := len(out) - i
			if s.left > 0 && s.left < run {
				run = s.left
			}
			for k := i; k < i+run; k++ {
				z += d
				out[k] = y0 + m*z
			}
			if s.left > 0 {
				s.left -= run
			}
			i += run
			continue
		}
		if s.order2 {
			d += s.nextR
			z += d
		} else {
			z += d + s.nextR
		}
		out[i] = y0 + m*z
		i++
		s.load()
	}
	s.z, s.d = z, d
}

// fillDense decodes classCode residuals; each is one 64-bit load and a
// lookup of its top two bits.
func (s *seqReader) fillDense(out []int64, order2 bool) {
	b, pos, tab := s.br.b, s.br.pos, &s.tab
	y0, m, z, d := s.y0, s.m, s.z, s.d
	for i := range out {
		var x uint64
		if p := pos >> 3; p+8 <= uint(len(b)) {
			x = binary.BigEndian.Uint64(b[p:p+8]) << (pos & 7)
		} else {
			s.br.pos = pos
			x = s.br.peekSlow()
		}
		e := tab[x>>62]
		var u uint64
		if n := uint(e.plen) + uint(e.w); n <= 57 {
			u = x << (e.plen & 63) >> 1 >> ((63 - e.w) & 63)
			pos += n
		} else {
			s.br.pos = pos + uint(e.plen)
			u = s.br.read(uint(e.w))
			pos = s.br.pos
		}
		r := unzigzag(u)
		if order2 {
			d += r
			z += d
		} else {
			z += d + r
		}
		out[i] = y0 + m*z
	}
	s.br.pos, s.z, s.d = pos, z, d
	if s.br.overrun() {
		s.bad = true
	}
}

// done reports whether the payload was used up exactly, once every element
// has been read.
func (s *seqReader) done() bool {
	if s.bad {
		return false
	}
	if s.sparse {
		return s.left < 0
	}
	return s.br.pos <= s.br.end && s.br.end-s.br.pos < 8
}
