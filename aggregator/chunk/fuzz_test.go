package chunk

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// FuzzDecode feeds arbitrary bytes to Decode and Iterator: they must agree,
// never panic, and what decodes must survive a round trip.
func FuzzDecode(f *testing.F) {
	sh := shapes(9)
	for _, name := range []string{"constant", "power", "specials", "random bits", "big counter", "constant odd"} {
		f.Add(Encode(nil, regular(1_700_000_000_000, 15000, 9), sh[name]))
	}
	f.Add(Encode(nil, []int64{1, 2, 4, 8, 16}, []float64{0.5, 0.25, 0.125, 0, -1}))
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, vs, err := Decode(b, nil, nil)
		var it Iterator
		it.Reset(b)
		i := 0
		for ; it.Next() == chunkenc.ValFloat; i++ {
			gt, gv := it.At()
			if err == nil && (i >= len(ts) || gt != ts[i] || math.Float64bits(gv) != math.Float64bits(vs[i])) {
				t.Fatalf("Iterator sample %d = (%d, %v), Decode disagrees", i, gt, gv)
			}
		}
		if (err == nil) != (it.Err() == nil) {
			t.Fatalf("Decode error %v, Iterator error %v", err, it.Err())
		}
		if err != nil {
			if len(ts) != 0 || len(vs) != 0 {
				t.Fatal("Decode returned samples with an error")
			}
			return
		}
		if i != len(ts) || NumSamples(b) != len(ts) {
			t.Fatalf("Iterator read %d samples, Decode %d, NumSamples %d", i, len(ts), NumSamples(b))
		}
		roundTrip(t, ts, vs)
	})
}

// FuzzRoundTrip builds samples from the fuzzer's bytes: each sample takes
// an op byte saying how its timestamp and value move, and the bytes after.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0})
	f.Add([]byte{0x04, 1, 2, 0x44, 3, 0x25, 9, 9, 0x0c, 0x10, 0x14, 0x18, 0x1c, 7, 8, 9, 10, 11, 12, 13, 14})
	f.Add([]byte{0x03, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x08, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, vs := samplesFrom(data)
		if len(ts) == 0 {
			return
		}
		roundTrip(t, ts, vs)
	})
}

// samplesFrom turns fuzz bytes into samples.
func samplesFrom(data []byte) ([]int64, []float64) {
	take := func(n int) uint64 {
		var buf [8]byte
		k := copy(buf[:n], data)
		data = data[k:]
		return binary.LittleEndian.Uint64(buf[:])
	}
	var ts []int64
	var vs []float64
	t, v := int64(1_700_000_000_000), 0.0
	for len(data) > 0 && len(ts) < 2*MaxSamples/blockSize {
		op := data[0]
		data = data[1:]
		switch op & 3 {
		case 0:
			t += 15000
		case 1:
			t += 15000 + int64(int8(take(1)))
		case 2:
			t += int64(take(2))
		case 3:
			t += int64(take(8))
		}
		scale := int(op>>5) * 3 % (maxScale + 1)
		switch op >> 2 & 7 {
		case 0: // unchanged
		case 1:
			v = float64(int16(take(2))) / pow10[scale]
		case 2:
			v = math.Float64frombits(take(8))
		case 3:
			v = staleNaN
		case 4:
			v = math.Inf(1 - 2*int(op>>5&1))
		case 5:
			v = math.Copysign(0, -1)
		case 6:
			x, _ := scaled(v, scale)
			v = float64(x+int64(int8(take(1)))) / pow10[scale]
		case 7:
			v = float64(int64(take(8))>>11) / pow10[scale]
		}
		ts, vs = append(ts, t), append(vs, v)
	}
	return ts, vs
}
