package chunk

import (
	"sync"
	"testing"

	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// benchSet is the benchmarks' data: 8 GPUs × 6 h at 15 s, every kind, in
// 30-minute windows (ours) and 120-sample chunks (XOR), already encoded.
type benchSet struct {
	windows []sample // one per 30-minute chunk
	xorWin  []sample // one per 120-sample chunk
	samples int
}

// sample is the samples of one chunk and their encodings.
type sample struct {
	ts  []int64
	vs  []float64
	enc []byte // ours
	xor []byte
}

var benchData = sync.OnceValue(func() *benchSet {
	bs := &benchSet{}
	for _, s := range dcgmData(8, 6*3600, 15) {
		bs.samples += len(s.ts)
		for _, c := range s.chunks(window, 0) {
			ts, vs := s.ts[c[0]:c[1]], s.vs[c[0]:c[1]]
			bs.windows = append(bs.windows, sample{ts: ts, vs: vs, enc: Encode(nil, ts, vs)})
		}
		for _, c := range s.chunks(0, 120) {
			ts, vs := s.ts[c[0]:c[1]], s.vs[c[0]:c[1]]
			x := chunkenc.NewXORChunk()
			app, _ := x.Appender()
			for i := range ts {
				app.Append(0, ts[i], vs[i])
			}
			bs.xorWin = append(bs.xorWin, sample{ts: ts, vs: vs, xor: x.Bytes()})
		}
	}
	return bs
})

// perSample reports the benchmark's time per sample and size per sample.
func perSample(b *testing.B, samples, bytes int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(samples), "ns/sample")
	b.ReportMetric(float64(bytes)/float64(samples), "B/sample")
}

func BenchmarkEncode(b *testing.B) {
	bs := benchData()
	b.Run("chunk", func(b *testing.B) {
		var buf []byte
		size := 0
		for b.Loop() {
			size = 0
			for _, w := range bs.windows {
				buf = Encode(buf[:0], w.ts, w.vs)
				size += len(buf)
			}
		}
		perSample(b, bs.samples, size)
	})
	b.Run("xor", func(b *testing.B) {
		size := 0
		for b.Loop() {
			size = 0
			for _, w := range bs.xorWin {
				x := chunkenc.NewXORChunk()
				app, _ := x.Appender()
				for i := range w.ts {
					app.Append(0, w.ts[i], w.vs[i])
				}
				size += len(x.Bytes())
			}
		}
		perSample(b, bs.samples, size)
	})
}

func BenchmarkDecode(b *testing.B) {
	bs := benchData()
	ts, vs := make([]int64, 0, 2000), make([]float64, 0, 2000)
	b.Run("chunk", func(b *testing.B) {
		for b.Loop() {
			for _, w := range bs.windows {
				var err error
				if ts, vs, err = Decode(w.enc, ts[:0], vs[:0]); err != nil {
					b.Fatal(err)
				}
			}
		}
		perSample(b, bs.samples, 0)
	})
	b.Run("xor", func(b *testing.B) {
		var it chunkenc.Iterator
		x := chunkenc.NewXORChunk()
		for b.Loop() {
			for _, w := range bs.xorWin {
				x.Reset(w.xor)
				it = x.Iterator(it)
				ts, vs = ts[:0], vs[:0]
				for it.Next() == chunkenc.ValFloat {
					t, v := it.At()
					ts, vs = append(ts, t), append(vs, v)
				}
				if err := it.Err(); err != nil {
					b.Fatal(err)
				}
			}
		}
		perSample(b, bs.samples, 0)
	})
}

// BenchmarkIterate reads every sample through the chunkenc.Iterator
// interface, as a query does.
func BenchmarkIterate(b *testing.B) {
	bs := benchData()
	var sink float64
	b.Run("chunk", func(b *testing.B) {
		ours := new(Iterator)
		var it chunkenc.Iterator = ours
		for b.Loop() {
			for _, w := range bs.windows {
				ours.Reset(w.enc)
				for it.Next() == chunkenc.ValFloat {
					_, v := it.At()
					sink += v
				}
			}
		}
		perSample(b, bs.samples, 0)
	})
	b.Run("xor", func(b *testing.B) {
		var it chunkenc.Iterator
		x := chunkenc.NewXORChunk()
		for b.Loop() {
			for _, w := range bs.xorWin {
				x.Reset(w.xor)
				it = x.Iterator(it)
				for it.Next() == chunkenc.ValFloat {
					_, v := it.At()
					sink += v
				}
			}
		}
		perSample(b, bs.samples, 0)
	})
	_ = sink
}
