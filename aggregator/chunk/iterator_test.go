package chunk

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// sliceIter is the reference for Iterator: chunkenc semantics over slices.
type sliceIter struct {
	ts []int64
	vs []float64
	i  int // index of the current sample; -1 before the first
}

func (s *sliceIter) Next() chunkenc.ValueType {
	if s.i < len(s.ts) {
		s.i++
	}
	if s.i == len(s.ts) {
		return chunkenc.ValNone
	}
	return chunkenc.ValFloat
}

func (s *sliceIter) Seek(t int64) chunkenc.ValueType {
	if s.i == len(s.ts) {
		return chunkenc.ValNone
	}
	if s.i < 0 {
		s.i = 0
	}
	for s.i < len(s.ts) && s.ts[s.i] < t {
		s.i++
	}
	if s.i == len(s.ts) {
		return chunkenc.ValNone
	}
	return chunkenc.ValFloat
}

// TestIteratorSeek runs random Next/Seek sequences against the reference.
func TestIteratorSeek(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 2, 63, 64, 65, 130, 1800} {
		ts := regular(1_000_000, 1000, n)
		for i := range ts {
			ts[i] += int64(rng.IntN(300)) // irregular, still increasing
		}
		vs := shapes(n)["specials"]
		b := Encode(nil, ts, vs)
		var it Iterator
		for round := range 200 {
			it.Reset(b)
			ref := sliceIter{ts: ts, vs: vs, i: -1}
			for step := range 20 {
				var got, want chunkenc.ValueType
				var op string
				switch rng.IntN(4) {
				case 0:
					op = "Next"
					got, want = it.Next(), ref.Next()
				default:
					target := ts[0] - 500 + rng.Int64N(ts[n-1]-ts[0]+1000)
					op = "Seek"
					got, want = it.Seek(target), ref.Seek(target)
				}
				if got != want {
					t.Fatalf("n=%d round %d step %d: %s = %v, want %v", n, round, step, op, got, want)
				}
				if got == chunkenc.ValNone {
					break
				}
				gt, gv := it.At()
				if gt != ts[ref.i] || math.Float64bits(gv) != math.Float64bits(vs[ref.i]) || it.AtT() != gt {
					t.Fatalf("n=%d round %d step %d: %s at (%d, %v), want (%d, %v)", n, round, step, op, gt, gv, ts[ref.i], vs[ref.i])
				}
			}
			if err := it.Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestIteratorSeekEdges(t *testing.T) {
	ts := []int64{10, 20, 30}
	b := Encode(nil, ts, []float64{1, 2, 3})
	var it Iterator
	it.Reset(b)
	if it.Seek(math.MinInt64) != chunkenc.ValFloat || it.AtT() != 10 {
		t.Fatal("Seek before the first sample does not land on it")
	}
	if it.Seek(25) != chunkenc.ValFloat || it.AtT() != 30 {
		t.Fatal("Seek between samples does not land on the next one")
	}
	if it.Seek(5) != chunkenc.ValFloat || it.AtT() != 30 {
		t.Fatal("Seek moved backwards")
	}
	if it.Seek(31) != chunkenc.ValNone || it.Next() != chunkenc.ValNone || it.Seek(0) != chunkenc.ValNone {
		t.Fatal("Seek past the end did not exhaust the iterator")
	}
	if it.Err() != nil || it.AtST() != 0 {
		t.Fatal(it.Err())
	}
	var zero Iterator
	if zero.Next() != chunkenc.ValNone || zero.Seek(0) != chunkenc.ValNone || zero.Err() != nil {
		t.Fatal("zero Iterator is not exhausted")
	}
}

// TestIteratorReuse checks that Reset forgets the previous chunk, midway
// or after an error, and does not allocate.
func TestIteratorReuse(t *testing.T) {
	sh := shapes(200)
	ts := regular(0, 15000, 200)
	a, b := Encode(nil, ts, sh["power"]), Encode(nil, ts, sh["specials"])
	var it Iterator
	it.Reset(a)
	for range 70 {
		it.Next()
	}
	it.Reset(b[:len(b)/2])
	for it.Next() == chunkenc.ValFloat {
	}
	if !errors.Is(it.Err(), ErrCorrupt) {
		t.Fatalf("truncated chunk: Err = %v", it.Err())
	}
	it.Reset(b)
	for i := 0; it.Next() == chunkenc.ValFloat; i++ {
		if gt, gv := it.At(); gt != ts[i] || math.Float64bits(gv) != math.Float64bits(sh["specials"][i]) {
			t.Fatalf("sample %d after reuse = (%d, %v)", i, gt, gv)
		}
	}
	if it.Err() != nil {
		t.Fatal(it.Err())
	}
	allocs := testing.AllocsPerRun(100, func() {
		it.Reset(a)
		for it.Next() == chunkenc.ValFloat {
		}
	})
	if allocs != 0 {
		t.Fatalf("Reset and iteration allocate %.0f times", allocs)
	}
}

func TestIteratorHistogramPanics(t *testing.T) {
	var it Iterator
	for name, f := range map[string]func(){
		"AtHistogram":      func() { it.AtHistogram(nil) },
		"AtFloatHistogram": func() { it.AtFloatHistogram(nil) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			f()
		})
	}
}
