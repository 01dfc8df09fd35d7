package chart

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func ms(t time.Time) int64 { return t.UnixMilli() }

// drawn returns the kept values, with NaN for breaks.
func drawn(sc scanned) []float64 {
	var out []float64
	for _, s := range sc.keep {
		out = append(out, s.v)
	}
	return out
}

func TestScanDownsamplesKeepingSpikes(t *testing.T) {
	const n = 40_000
	s := series("", t0, 15*time.Second, n, func(i int) float64 {
		switch i {
		case 12_345:
			return 1000 // a spike
		case 30_001:
			return -1000 // a dip
		}
		return float64(i % 7)
	})
	end := s.Points[n-1].T
	sc, ok := scan(s.Points, ms(t0), ms(end), 300, 50)
	if !ok {
		t.Fatal("sorted input reported unsorted")
	}
	if len(sc.keep) > 2*300+1 {
		t.Errorf("kept %d points for 300 buckets", len(sc.keep))
	}
	vs := drawn(sc)
	if !slices.Contains(vs, 1000) || !slices.Contains(vs, -1000) {
		t.Error("the spike or the dip was lost")
	}
	if sc.lo != -1000 || sc.hi != 1000 || sc.n != n {
		t.Errorf("lo %g hi %g n %d", sc.lo, sc.hi, sc.n)
	}
	if sc.last.t != ms(end) || sc.last.v != float64((n-1)%7) {
		t.Errorf("last = %+v", sc.last)
	}
	if !slices.IsSortedFunc(sc.keep[:len(sc.keep)-1], func(a, b sample) int { return int(a.t - b.t) }) {
		t.Error("kept points out of time order")
	}
	// Hover: one per slice, the slice's highest; the spike is one of them.
	if len(sc.hover) != 50 {
		t.Errorf("%d hover targets, want 50", len(sc.hover))
	}
	if !slices.ContainsFunc(sc.hover, func(s sample) bool { return s.v == 1000 }) {
		t.Error("spike has no hover target")
	}
}

// Short series are drawn point for point.
func TestScanKeepsSparseSeries(t *testing.T) {
	s := series("", t0, time.Minute, 10, func(i int) float64 { return float64(i * i) })
	sc, _ := scan(s.Points, ms(t0), ms(t0.Add(9*time.Minute)), 360, 200)
	want := []float64{0, 1, 4, 9, 16, 25, 36, 49, 64, 81, math.NaN()}
	if got := drawn(sc); !slices.EqualFunc(got, want, sameFloat) {
		t.Errorf("kept %v, want %v", got, want)
	}
	if len(sc.hover) != 10 {
		t.Errorf("%d hover targets, want 10", len(sc.hover))
	}
}

func sameFloat(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

func TestScanBreaks(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	vals := []float64{1, 2, nan, nan, 3, 4, inf, 5, nan, 6, 7}
	s := series("", t0, time.Minute, len(vals), func(i int) float64 { return vals[i] })
	// Minutes 11-19 are missing: a gap of 10 min against a 1 min interval.
	s.Points = append(s.Points, series("", t0.Add(20*time.Minute), time.Minute, 3, func(i int) float64 { return float64(8 + i) }).Points...)
	sc, _ := scan(s.Points, ms(t0), ms(t0.Add(time.Hour)), 720, 0)
	want := []float64{1, 2, nan, 3, 4, nan, 5, nan, 6, 7, nan, 8, 9, 10, nan}
	if got := drawn(sc); !slices.EqualFunc(got, want, sameFloat) {
		t.Errorf("kept %v, want %v", got, want)
	}
	if sc.hover != nil {
		t.Error("hover targets with nHover 0")
	}
	p := newPlot(0, 720, 0, 100, ms(t0), ms(t0.Add(time.Hour)), 0, 10)
	d := string(p.path(&sc))
	// Four subpaths, of which the lone 5 is a dot.
	if got := strings.Count(d, "M"); got != 5 {
		t.Errorf("%d subpaths in %q, want 5", got, d)
	}
	if want := "M84 50h0"; !strings.Contains(d, want) {
		t.Errorf("lone point not drawn as a dot %q in %q", want, d)
	}
}

func TestScanUnsortedAndRange(t *testing.T) {
	s := series("", t0, time.Minute, 5, func(i int) float64 { return float64(i) })
	s.Points[1], s.Points[3] = s.Points[3], s.Points[1]
	if _, ok := scan(s.Points, ms(t0), ms(t0.Add(time.Hour)), 100, 10); ok {
		t.Error("unsorted input not reported")
	}
	s = series("", t0, time.Minute, 10, func(i int) float64 { return float64(i) })
	sc, ok := scan(s.Points, ms(t0.Add(2*time.Minute)), ms(t0.Add(5*time.Minute)), 100, 10)
	if got := drawn(sc); !ok || !slices.EqualFunc(got, []float64{2, 3, 4, 5, math.NaN()}, sameFloat) {
		t.Errorf("window kept %v", got)
	}
}

func TestPlotEdges(t *testing.T) {
	// A flat domain must not divide by zero; values are clamped to the range.
	p := newPlot(10, 110, 0, 100, 0, 0, 5, 5)
	if y := p.y(5); y != 50 || math.IsNaN(p.x(0)) {
		t.Errorf("flat plot: y %g x %g", y, p.x(0))
	}
	p = newPlot(0, 100, 0, 100, 0, 1000, 0, 100)
	if p.y(150) != 0 || p.y(-5) != 100 {
		t.Errorf("values outside a fixed range are not clamped: %g %g", p.y(150), p.y(-5))
	}
}

func TestTypicalInterval(t *testing.T) {
	s := series("", t0, 15*time.Second, 1000, func(int) float64 { return 0 })
	s.Points = append(s.Points[:500], s.Points[600:]...) // one long hole
	if got := typicalInterval(s.Points); got != 15_000 {
		t.Errorf("typical interval = %d ms", got)
	}
	if got := typicalInterval(s.Points[:2]); got != 0 {
		t.Errorf("two points: %d", got)
	}
}
