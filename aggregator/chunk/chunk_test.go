package chunk

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

var staleNaN = math.Float64frombits(value.StaleNaN)

// regular returns n timestamps step ms apart from start.
func regular(start, step int64, n int) []int64 {
	ts := make([]int64, n)
	for i := range ts {
		ts[i] = start + int64(i)*step
	}
	return ts
}

// roundTrip encodes, decodes and iterates ts/vs, failing on any difference
// in timestamps or value bits. It returns the encoding.
func roundTrip(t testing.TB, ts []int64, vs []float64) []byte {
	t.Helper()
	b := Encode(nil, ts, vs)
	if got := NumSamples(b); got != len(ts) {
		t.Fatalf("NumSamples = %d, want %d", got, len(ts))
	}
	gt, gv, err := Decode(b, nil, nil)
	if err != nil {
		t.Fatalf("Decode: %v (mode %d)", err, b[0]&15)
	}
	checkSamples(t, "Decode", ts, vs, gt, gv)

	var it Iterator
	it.Reset(b)
	gt, gv = gt[:0], gv[:0]
	for it.Next() == chunkenc.ValFloat {
		t, v := it.At()
		gt, gv = append(gt, t), append(gv, v)
	}
	if err := it.Err(); err != nil {
		t.Fatalf("Iterator: %v", err)
	}
	checkSamples(t, "Iterator", ts, vs, gt, gv)
	return b
}

func checkSamples(t testing.TB, what string, ts []int64, vs []float64, gt []int64, gv []float64) {
	t.Helper()
	if len(gt) != len(ts) || len(gv) != len(vs) {
		t.Fatalf("%s: %d/%d samples, want %d", what, len(gt), len(gv), len(ts))
	}
	for i := range ts {
		if gt[i] != ts[i] || math.Float64bits(gv[i]) != math.Float64bits(vs[i]) {
			t.Fatalf("%s: sample %d = (%d, %v %#x), want (%d, %v %#x)", what, i,
				gt[i], gv[i], math.Float64bits(gv[i]), ts[i], vs[i], math.Float64bits(vs[i]))
		}
	}
}

// shapes are value series worth a round trip, by name.
func shapes(n int) map[string][]float64 {
	rng := rand.New(rand.NewPCG(1, 2))
	gen := func(f func(i int) float64) []float64 {
		vs := make([]float64, n)
		for i := range vs {
			vs[i] = f(i)
		}
		return vs
	}
	round := func(v float64, d int) float64 { return math.Round(v*pow10[d]) / pow10[d] }
	counter := 0.0
	resets := 0.0
	return map[string][]float64{
		"constant":     gen(func(int) float64 { return 700 }),
		"zero":         gen(func(int) float64 { return 0 }),
		"constant NaN": gen(func(int) float64 { return math.NaN() }),
		"constant odd": gen(func(int) float64 { return 1.0 / 3 }),
		"integers":     gen(func(int) float64 { return float64(rng.IntN(100)) }),
		"temperature":  gen(func(i int) float64 { return float64(60 + i/17%5) }),
		"power":        gen(func(int) float64 { return float64(300000+rng.IntN(100000)) / 1000 }),
		"ratios":       gen(func(int) float64 { return round(rng.Float64(), 4) }),
		"mixed scales": gen(func(i int) float64 { return round(rng.Float64()*100, i%5) }),
		"one long":     gen(func(i int) float64 { return [2]float64{72, 72.123456789}[min(i%97, 1)^1] }),
		"negative":     gen(func(int) float64 { return -float64(rng.IntN(1e6)) / 100 }),
		"big counter":  gen(func(i int) float64 { counter += float64(rng.IntN(1e7)); return 123456789012 + counter }),
		"near 2^53":    gen(func(i int) float64 { return 1<<53 - float64(i) }),
		"above 2^53":   gen(func(i int) float64 { return 1<<60 + float64(i)*1024 }),
		"tiny":         gen(func(i int) float64 { return float64(i) * 1e-20 }),
		"ramp":         gen(func(i int) float64 { return float64(i) * 0.25 }),
		"arithmetic":   gen(func(int) float64 { return rng.Float64() * 0.97 }),
		"random bits":  gen(func(int) float64 { return math.Float64frombits(rng.Uint64()) }),
		"minus zero":   gen(func(i int) float64 { return [3]float64{math.Copysign(0, -1), 0, 1.5}[i%3] }),
		"all minus 0":  gen(func(int) float64 { return math.Copysign(0, -1) }),
		"extremes": gen(func(i int) float64 {
			return [4]float64{math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, 1}[i%4]
		}),
		"counter reset": gen(func(i int) float64 { resets += 15; return float64(int(resets) % 1000) }),
		"specials": gen(func(i int) float64 {
			switch i % 11 {
			case 3:
				return staleNaN
			case 5:
				return math.Inf(1)
			case 7:
				return math.Inf(-1)
			case 9:
				return math.NaN()
			case 10:
				return math.Float64frombits(0x7ff8000000000123) // a NaN payload
			}
			return round(rng.Float64()*500, 3)
		}),
		"stale at end": gen(func(i int) float64 {
			if i == n-1 {
				return staleNaN
			}
			return 64
		}),
		"stale first": gen(func(i int) float64 {
			if i == 0 {
				return staleNaN
			}
			return float64(i) / 10
		}),
	}
}

func TestRoundTripShapes(t *testing.T) {
	for _, n := range []int{1, 2, 3, 120, 1800} {
		for name, vs := range shapes(n) {
			t.Run(fmt.Sprintf("%s/%d", name, n), func(t *testing.T) {
				roundTrip(t, regular(1_700_000_000_000, 15000, n), vs)
			})
		}
	}
}

func TestRoundTripTimestamps(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	n := 240
	jitter := make([]int64, n)
	gaps := make([]int64, n)
	random := make([]int64, n)
	for i := range n {
		jitter[i] = 1_700_000_000_000 + int64(i)*15000 + int64(rng.IntN(40)) - 20
		gaps[i] = 1_700_000_000_000 + int64(i)*15000
		if i > 100 {
			gaps[i] += 3600_000 // an hour's outage
		}
		if i%17 == 0 && i > 0 {
			gaps[i] += 15000 // a missed scrape; later ones are shifted, still on the grid
		}
		random[i] = int64(rng.Uint64() >> 1)
	}
	tss := map[string][]int64{
		"regular":    regular(0, 15000, n),
		"1s":         regular(1_700_000_000_000, 1000, n),
		"jitter":     jitter,
		"gaps":       gaps,
		"min":        regular(math.MinInt64, 1, n),
		"max":        regular(math.MaxInt64-int64(n-1), 1, n),
		"extremes":   {math.MinInt64, -1, 0, 1, math.MaxInt64},
		"wide steps": {math.MinInt64, math.MinInt64 + 1, math.MaxInt64 - 1, math.MaxInt64},
		"unsorted":   random,
		"equal":      {5, 5, 5, 5},
	}
	vs := shapes(n)
	for name, ts := range tss {
		for vname, v := range vs {
			if len(v) > len(ts) {
				v = v[:len(ts)]
			}
			t.Run(name+"/"+vname, func(t *testing.T) { roundTrip(t, ts, v) })
		}
	}
}

func TestEncodeAppends(t *testing.T) {
	ts, vs := regular(1000, 1000, 50), shapes(50)["power"]
	prefix := []byte("prefix")
	b := Encode(prefix, ts, vs)
	if string(b[:len(prefix)]) != "prefix" {
		t.Fatal("Encode overwrote dst")
	}
	roundTrip(t, ts, vs)
	gt, gv, err := Decode(b[len(prefix):], []int64{1}, []float64{2})
	if err != nil || len(gt) != 51 || gt[0] != 1 || gv[0] != 2 {
		t.Fatalf("Decode did not append: %v %d", err, len(gt))
	}
	checkSamples(t, "Decode", ts, vs, gt[1:], gv[1:])
}

func TestEncodePanics(t *testing.T) {
	for name, f := range map[string]func(){
		"empty":    func() { Encode(nil, nil, nil) },
		"mismatch": func() { Encode(nil, []int64{1, 2}, []float64{1}) },
		"too many": func() { Encode(nil, make([]int64, MaxSamples+1), make([]float64, MaxSamples+1)) },
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

func TestMaxSamples(t *testing.T) {
	n := MaxSamples
	vs := make([]float64, n)
	for i := range vs {
		vs[i] = float64(i % 100)
	}
	roundTrip(t, regular(0, 100, n), vs)
}

func TestCorrupt(t *testing.T) {
	ts, vs := regular(1_700_000_000_000, 15000, 120), shapes(120)["specials"]
	b := Encode(nil, ts, vs)
	// Every truncation and every single-byte change must either decode
	// to an error or to n samples; never panic.
	for i := range b {
		if _, _, err := Decode(b[:i], nil, nil); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d bytes: err = %v", i, err)
		}
	}
	for i := range b {
		for _, x := range []byte{1, 0x80, 0xff} {
			c := append([]byte(nil), b...)
			c[i] ^= x
			gt, _, err := Decode(c, nil, nil)
			if err == nil && len(gt) != NumSamples(c) {
				t.Fatalf("byte %d ^ %#x: %d samples, header says %d", i, x, len(gt), NumSamples(c))
			}
		}
	}
	if _, _, err := Decode(append(b, 0), nil, nil); err == nil {
		t.Fatal("trailing byte accepted")
	}
	if NumSamples(nil) != 0 || NumSamples([]byte{0x20, 1}) != 0 {
		t.Fatal("NumSamples of a bad header is not 0")
	}
}

// TestSizes pins the cost of the common shapes.
func TestSizes(t *testing.T) {
	const t0 = 1_735_689_600_000
	n := 120
	ts := regular(t0, 15000, n)
	sh := shapes(n)
	size := func(ts []int64, vs []float64) int { return len(roundTrip(t, ts, vs)) }
	constant := size(ts, sh["constant"])

	withGap := append(append([]int64(nil), ts[:60]...), regular(ts[60]+15000, 15000, n-60)...)
	stale := append(append([]float64(nil), sh["constant"][:n-1]...), staleNaN)
	jitter := append([]int64(nil), ts...)
	jitter[50] += 3
	for _, c := range []struct {
		name string
		got  int
		max  int
	}{
		{"constant, 120 samples at 15 s", constant, 18},
		{"constant, 1800 samples at 1 s", size(regular(t0, 1000, 1800), make([]float64, 1800)), 18},
		{"a missed scrape", size(withGap, sh["constant"]) - constant, 4},
		{"one late scrape", size(jitter, sh["constant"]) - constant, 5},
		{"a stale marker", size(ts, stale) - constant, 3},
		{"temperature", size(ts, sh["temperature"]), 30},
		{"counter ramp", size(ts, sh["ramp"]), 18},
	} {
		if c.got > c.max {
			t.Errorf("%s: %d bytes, want <= %d", c.name, c.got, c.max)
		}
	}

	// Noisy 3-decimal power: under 40% of XOR's size.
	x := chunkenc.NewXORChunk()
	app, err := x.Appender()
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range sh["power"] {
		app.Append(0, ts[i], v)
	}
	if got, xor := size(ts, sh["power"]), len(x.Bytes()); 5*got > 2*xor {
		t.Errorf("power: %d bytes, XOR %d", got, xor)
	}
}
