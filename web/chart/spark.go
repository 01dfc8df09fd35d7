package chart

import "strconv"

// sparkView is everything the Sparkline template prints.
type sparkView struct {
	Class, ViewBox, W, H, Label string
	D                           string // line path; "" when there is no data
	DotX, DotY                  string // the last point
	MidY                        string // baseline drawn when there is no data
}

const sparkPad = 2.5

func (s Spark) view() sparkView {
	w, h := s.Width, s.Height
	if w <= 0 {
		w = defaultSparkWidth
	}
	if h <= 0 {
		h = defaultSparkHeight
	}
	ws, hs := strconv.Itoa(w), strconv.Itoa(h)
	v := sparkView{
		Class:   "chart-spark " + seriesClass(max(s.Color, 0)),
		ViewBox: "0 0 " + ws + " " + hs, W: ws, H: hs,
	}
	name := s.Label
	if name == "" {
		name = "Trend"
	}
	pts := s.Points
	t0, t1, ok := timeExtent([][]Point{pts})
	sc, inOrder := scan(pts, t0, t1, w/bucketPx, 0)
	if !inOrder {
		pts = sortedCopy(pts)
		t0, t1, ok = timeExtent([][]Point{pts})
		sc, _ = scan(pts, t0, t1, w/bucketPx, 0)
	}
	if !ok {
		v.Label = name + ": no data"
		v.MidY = px(float64(h) / 2)
		return v
	}
	if t1 <= t0 {
		t0, t1 = t0-30_000, t1+30_000
	}
	lo, hi := sc.lo, sc.hi
	if s.Min != nil {
		lo = *s.Min
	}
	if s.Max != nil {
		hi = *s.Max
	}
	if hi <= lo { // constant (or inverted) range: a flat line in the middle
		lo, hi = lo-1, lo+1
	}
	p := newPlot(sparkPad, float64(w)-sparkPad, sparkPad, float64(h)-sparkPad, t0, t1, lo, hi)
	v.D = string(p.path(&sc))
	v.DotX, v.DotY = px(p.x(sc.last.t)), px(p.y(sc.last.v))
	u := unitFor(s.Unit)
	v.Label = name + ": last " + u.format(sc.last.v) + ", min " + u.format(sc.lo) + ", max " + u.format(sc.hi)
	return v
}
