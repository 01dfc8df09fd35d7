package chart

import (
	"math"
	"slices"
	"sync"
)

// parallelPoints is the size from which the series of a chart are scanned
// concurrently.
const parallelPoints = 50_000

// sample is a kept point: unix ms and a finite value, or a NaN value to
// break the line.
type sample struct {
	t int64
	v float64
}

// scanned is what one pass over a series keeps: the points to draw and the
// hover targets, chosen by time alone, so the pass needs no layout. Points
// are copied out so that drawing does not reach back into a large series.
type scanned struct {
	keep   []sample // drawn points in time order; NaN breaks the line
	hover  []sample
	last   sample // the last finite point in range
	lo, hi float64
	n      int // finite points in range
}

// scan reads pts once, keeping the points within [t0, t1] that are drawn:
// the time range is cut into nb buckets, each keeping its min and max in
// time order (so spikes survive); the line breaks at non-finite values and
// at time gaps over twice the series' usual interval. Hover targets are the
// highest point of each of nHover equal slices of the range. ok is false,
// and nothing kept, when pts is not in time order.
func scan(pts []Point, t0, t1 int64, nb, nHover int) (scanned, bool) {
	keep := make([]sample, 0, 2*nb+8)
	var hover []sample
	gap := 2 * typicalInterval(pts)
	if gap <= 0 {
		gap = math.MaxInt64
	}
	sb := newSlicer(t0, t1, nb)        // downsampling buckets
	sh := newSlicer(t0, t1, nHover)    // hover slices
	var bmin, bmax, hbest, last sample // the bucket's min and max, the slice's max
	lo, hi := math.Inf(1), math.Inf(-1)
	n := 0
	seg := false // a segment is in progress
	prevT, prevAny := int64(0), int64(math.MinInt64)
	for i := range pts {
		t := pts[i].T.UnixMilli()
		if t < prevAny {
			return scanned{}, false
		}
		prevAny = t
		if t < t0 || t > t1 {
			continue
		}
		v := pts[i].V
		finite := v-v == 0 // not NaN nor ±Inf
		if !finite || seg && t-prevT > gap {
			keep = breakLine(flushBucket(keep, sb.k, bmin, bmax))
			sb.reset()
			seg = false
			if !finite {
				continue
			}
		}
		seg, prevT = true, t
		cur := sample{t, v}
		n++
		last = cur
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
		if t >= sb.end {
			keep = flushBucket(keep, sb.k, bmin, bmax)
			sb.next(t)
			bmin, bmax = cur, cur
		} else if v < bmin.v {
			bmin = cur
		} else if v > bmax.v {
			bmax = cur
		}
		if t >= sh.end {
			if sh.k >= 0 {
				hover = append(hover, hbest)
			}
			sh.next(t)
			hbest = cur
		} else if v > hbest.v {
			hbest = cur
		}
	}
	keep = breakLine(flushBucket(keep, sb.k, bmin, bmax))
	if sh.k >= 0 {
		hover = append(hover, hbest)
	}
	return scanned{keep: keep, hover: hover, last: last, lo: lo, hi: hi, n: n}, true
}

// slicer cuts [t0, t1] into n equal slices and tracks the current one, in
// integer arithmetic so that slice edges are exact.
type slicer struct {
	t0, span int64
	n        int64
	k        int   // current slice, -1 for none
	end      int64 // first ms after the current slice
}

// newSlicer returns a slicer before its first slice; with n < 1 it never
// starts one.
func newSlicer(t0, t1 int64, n int) slicer {
	s := slicer{t0: t0, span: max(t1-t0, 1), n: int64(n)}
	s.reset()
	if n < 1 {
		s.end = math.MaxInt64
	}
	return s
}

// reset forgets the current slice: the next point starts one.
func (s *slicer) reset() { s.k, s.end = -1, math.MinInt64 }

// next moves to the slice holding t.
func (s *slicer) next(t int64) {
	k := min((t-s.t0)*s.n/s.span, s.n-1)
	s.k = int(k)
	if k == s.n-1 {
		s.end = math.MaxInt64
		return
	}
	s.end = s.t0 + ((k+1)*s.span+s.n-1)/s.n
}

// breakLine ends the line at the last kept point, unless already ended.
func breakLine(keep []sample) []sample {
	if n := len(keep); n > 0 && !math.IsNaN(keep[n-1].v) {
		keep = append(keep, sample{v: math.NaN()})
	}
	return keep
}

// flushBucket appends a bucket's min and max in time order (one point when
// they are the same); bkt < 0 means no bucket.
func flushBucket(keep []sample, bkt int, lo, hi sample) []sample {
	switch {
	case bkt < 0:
		return keep
	case lo.t == hi.t:
		return append(keep, lo)
	case lo.t < hi.t:
		return append(keep, lo, hi)
	}
	return append(keep, hi, lo)
}

// typicalInterval is the median spacing of up to 64 sampled neighbours, in
// ms; 0 when there are too few points to tell.
func typicalInterval(pts []Point) int64 {
	if len(pts) < 3 {
		return 0
	}
	n := min(len(pts)-1, 64)
	ds := make([]int64, 0, n)
	for j := range n {
		i := j * (len(pts) - 1) / n
		if d := pts[i+1].T.UnixMilli() - pts[i].T.UnixMilli(); d > 0 {
			ds = append(ds, d)
		}
	}
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// scanAll scans every series over the chart's time range (see scan),
// sorting the series that are not in time order first.
func scanAll(c Chart, nb, nHover int) (scans []scanned, t0, t1 int64, ok bool) {
	pts := make([][]Point, len(c.Series))
	for i, s := range c.Series {
		pts[i] = s.Points
	}
	for {
		t0, t1, ok = timeRange(c, pts)
		if !ok {
			return nil, 0, 0, false
		}
		scans = make([]scanned, len(pts))
		inOrder := make([]bool, len(pts))
		total := 0
		for _, p := range pts {
			total += len(p)
		}
		if total < parallelPoints || len(pts) < 2 {
			for i := range pts {
				scans[i], inOrder[i] = scan(pts[i], t0, t1, nb, nHover)
			}
		} else { // series are independent: scan them side by side
			var wg sync.WaitGroup
			for i := range pts {
				wg.Go(func() { scans[i], inOrder[i] = scan(pts[i], t0, t1, nb, nHover) })
			}
			wg.Wait()
		}
		sorted := true
		for i, ok := range inOrder {
			if !ok {
				pts[i], sorted = sortedCopy(pts[i]), false
			}
		}
		if sorted {
			return scans, t0, t1, true
		}
	}
}

// timeRange is [Start, End] in unix ms, each end taken from the (sorted)
// data when zero; ok is false when the data has no finite point.
func timeRange(c Chart, pts [][]Point) (t0, t1 int64, ok bool) {
	if !c.Start.IsZero() && !c.End.IsZero() && c.End.After(c.Start) {
		return c.Start.UnixMilli(), c.End.UnixMilli(), true
	}
	t0, t1, ok = timeExtent(pts)
	if !ok {
		return 0, 0, false
	}
	if !c.Start.IsZero() && c.Start.UnixMilli() < t1 {
		t0 = c.Start.UnixMilli()
	}
	if !c.End.IsZero() && c.End.UnixMilli() > t0 {
		t1 = c.End.UnixMilli()
	}
	if t1 <= t0 {
		t0, t1 = t0-30_000, t1+30_000
	}
	return t0, t1, true
}

// sortedCopy returns pts in time order (stable for equal times).
func sortedCopy(pts []Point) []Point {
	pts = slices.Clone(pts)
	slices.SortStableFunc(pts, func(a, b Point) int { return a.T.Compare(b.T) })
	return pts
}

// timeExtent returns the times of the first and last finite points of the
// series, assuming time order; ok is false when there is no finite value.
func timeExtent(series [][]Point) (tmin, tmax int64, ok bool) {
	tmin, tmax = math.MaxInt64, math.MinInt64
	for _, pts := range series {
		for i := range pts {
			if v := pts[i].V; v-v == 0 {
				tmin = min(tmin, pts[i].T.UnixMilli())
				break
			}
		}
		for i := len(pts) - 1; i >= 0; i-- {
			if v := pts[i].V; v-v == 0 {
				tmax = max(tmax, pts[i].T.UnixMilli())
				break
			}
		}
	}
	return tmin, tmax, tmin <= tmax
}
