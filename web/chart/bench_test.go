package chart

import (
	"bytes"
	"context"
	"strconv"
	"testing"
	"time"
)

// fleet7d is 8 GPUs × 7 days at 15 s: 40320 noisy points per series.
func fleet7d() Chart {
	start := time.Date(2025, 6, 23, 0, 0, 0, 0, time.UTC)
	const n = 7 * 24 * 60 * 4
	rnd := lcg(1)
	series := make([]Series, 8)
	for g := range series {
		pts := make([]Point, n)
		for i := range pts {
			pts[i] = Point{T: start.Add(time.Duration(i) * 15 * time.Second), V: float64(30+g*5) + rnd()*20}
		}
		series[g] = Series{Name: "GPU " + strconv.Itoa(g), Points: pts}
	}
	return Chart{Title: "GPU utilisation", Unit: "%", Series: series,
		Start: start, End: start.Add(7 * 24 * time.Hour), Min: ptr(0.0), Max: ptr(100.0)}
}

func BenchmarkTimeSeries7d8Series(b *testing.B) {
	c := fleet7d()
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := TimeSeries(c).Render(context.Background(), &buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "svg-bytes")
}

func BenchmarkSparkline7d(b *testing.B) {
	c := fleet7d()
	s := Spark{Label: "GPU 0", Unit: "%", Points: c.Series[0].Points}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := Sparkline(s).Render(context.Background(), &buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "svg-bytes")
}

// lcg returns a deterministic pseudo-random source of values in [0, 1).
func lcg(seed uint64) func() float64 {
	return func() float64 {
		seed = seed*6364136223846793005 + 1442695040888963407
		return float64(seed>>40) / (1 << 24)
	}
}

func ptr[T any](v T) *T { return &v }
