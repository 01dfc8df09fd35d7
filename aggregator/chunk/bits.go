package chunk

import "encoding/binary"

// bitWriter appends a big-endian bit stream to a byte slice.
type bitWriter struct {
	b   []byte
	acc uint64 // pending bits in the low n bits (higher bits are stale)
	n   uint
}

// write appends the low nb bits of v (nb <= 64, v < 1<<nb).
func (w *bitWriter) write(v uint64, nb uint) {
	if nb > 56 {
		w.write(v>>32, nb-32)
		v, nb = v&(1<<32-1), 32
	}
	w.acc = w.acc<<nb | v
	w.n += nb
	for w.n >= 8 {
		w.n -= 8
		w.b = append(w.b, byte(w.acc>>w.n))
	}
}

// flush pads the last byte with zeros and returns the bytes.
func (w *bitWriter) flush() []byte {
	if w.n > 0 {
		w.b = append(w.b, byte(w.acc<<(8-w.n)))
		w.n = 0
	}
	return w.b
}

// bitReader reads the bit stream b[pos/8:] up to bit end. Reads past end
// return zero bits; callers check overrun() once per sample.
type bitReader struct {
	b   []byte // the whole chunk: peeks may look past end, never past b
	pos uint   // bit offset in b
	end uint   // bit offset where the stream ends
}

// peek returns the next 64 bits of b, of which at least 57 are valid.
func (r *bitReader) peek() uint64 {
	i := r.pos >> 3
	if i+8 <= uint(len(r.b)) {
		return binary.BigEndian.Uint64(r.b[i:i+8]) << (r.pos & 7)
	}
	return r.peekSlow()
}

func (r *bitReader) peekSlow() uint64 {
	var x uint64
	for j := r.pos >> 3; j < r.pos>>3+8; j++ {
		x <<= 8
		if j < uint(len(r.b)) {
			x |= uint64(r.b[j])
		}
	}
	return x << (r.pos & 7)
}

// read returns the next nb bits (nb <= 64).
func (r *bitReader) read(nb uint) uint64 {
	if nb > 57 {
		hi := r.read(nb - 32)
		return hi<<32 | r.read(32)
	}
	v := r.peek() >> 1 >> (63 - nb)
	r.pos += nb
	return v
}

// overrun reports whether reads went past the end of the stream.
func (r *bitReader) overrun() bool { return r.pos > r.end }
