package chunk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"
)

// version is the high nibble of a chunk's first byte.
const version = 1

// MaxSamples is the most samples one chunk holds.
const MaxSamples = 1 << 16

// ErrCorrupt is wrapped by every error about malformed or truncated input.
var ErrCorrupt = errors.New("chunk: corrupt or truncated")

// encoder is scratch space for Encode, pooled so encoding does not allocate.
type encoder struct {
	seqScratch
	xs     []int64
	ds     []int8
	exc    []byte
	scale  int
	xsPlan seqPlan
}

var encoders = sync.Pool{New: func() any { return new(encoder) }}

// Encode appends the encoding of the samples to dst. ts and vs must have the
// same length, between 1 and MaxSamples; timestamps should increase (any
// order round-trips, but Seek assumes it).
func Encode(dst []byte, ts []int64, vs []float64) []byte {
	n := len(ts)
	if n == 0 || n != len(vs) || n > MaxSamples {
		panic("chunk: Encode needs 1 to MaxSamples samples and as many values as timestamps")
	}
	e := encoders.Get().(*encoder)
	defer encoders.Put(e)

	tsPlan := e.planSeq(ts)
	mode := e.planValues(vs)

	dst = append(dst, version<<4|mode)
	dst = binary.AppendUvarint(dst, uint64(n))
	dst = e.appendSeq(dst, ts, tsPlan, false)
	switch mode {
	case modeConst:
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(vs[0]))
	case modeXOR:
		dst = appendXOR(dst, vs)
	case modeDecimal:
		if len(e.exc) == 0 {
			dst = append(dst, byte(e.scale))
		} else {
			dst = append(dst, byte(e.scale)|hasExceptions)
			dst = binary.AppendUvarint(dst, uint64(len(e.exc)))
			dst = append(dst, e.exc...)
		}
		dst = e.appendSeq(dst, e.xs, e.xsPlan, true)
	}
	return dst
}

// NumSamples returns the number of samples in the chunk b, read from its
// header, or 0 if the header is malformed.
func NumSamples(b []byte) int {
	n, _, err := header(b)
	if err != nil {
		return 0
	}
	return n
}

// header checks a chunk's first byte and returns its sample count and mode.
func header(b []byte) (n int, mode byte, err error) {
	if len(b) == 0 {
		return 0, 0, ErrCorrupt
	}
	if b[0]>>4 != version {
		return 0, 0, fmt.Errorf("%w: unknown version %d", ErrCorrupt, b[0]>>4)
	}
	mode = b[0] & 15
	u, _, ok := uvarintAt(b, 1)
	if !ok || mode >= numModes || u == 0 || u > MaxSamples {
		return 0, 0, ErrCorrupt
	}
	return int(u), mode, nil
}
