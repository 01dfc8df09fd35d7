package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// A write-ahead record is one Append call:
//
//	version byte (1) | uvarint count | varint t0 |
//	count × (varint ref delta | varint t−t0 | 8 bytes float64 bits, little endian)
//
// Samples of one scrape share a timestamp, so t−t0 is one zero byte and refs
// of a target are close together, so their deltas are one byte too: about 10
// bytes a sample.
const walVersion = 1

func encodeWAL(dst []byte, samples []Sample) (b []byte, mint, maxt int64) {
	mint, maxt = math.MaxInt64, math.MinInt64
	for _, s := range samples {
		mint, maxt = min(mint, s.T), max(maxt, s.T)
	}
	dst = append(dst, walVersion)
	dst = binary.AppendUvarint(dst, uint64(len(samples)))
	dst = binary.AppendVarint(dst, mint)
	var prev SeriesRef
	for _, s := range samples {
		dst = binary.AppendVarint(dst, int64(s.Ref)-int64(prev))
		prev = s.Ref
		dst = binary.AppendVarint(dst, s.T-mint)
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(s.V))
	}
	return dst, mint, maxt
}

var errCorruptWAL = errors.New("corrupt write-ahead record")

func decodeWAL(b []byte, dst []Sample) ([]Sample, error) {
	if len(b) == 0 || b[0] != walVersion {
		return dst, fmt.Errorf("%w: unknown version", errCorruptWAL)
	}
	b = b[1:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return dst, errCorruptWAL
	}
	b = b[k:]
	t0, k := binary.Varint(b)
	if k <= 0 {
		return dst, errCorruptWAL
	}
	b = b[k:]
	var prev int64
	for range n {
		d, k := binary.Varint(b)
		if k <= 0 {
			return dst, errCorruptWAL
		}
		b = b[k:]
		dt, k := binary.Varint(b)
		if k <= 0 || len(b[k:]) < 8 {
			return dst, errCorruptWAL
		}
		b = b[k:]
		prev += d
		dst = append(dst, Sample{Ref: SeriesRef(prev), T: t0 + dt, V: math.Float64frombits(binary.LittleEndian.Uint64(b))})
		b = b[8:]
	}
	return dst, nil
}
