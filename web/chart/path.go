package chart

import "math"

// plot maps times and values onto the plot rectangle.
type plot struct {
	x0, x1, y0, y1 float64 // left, right, top, bottom in px
	t0, t1         int64   // time range, unix ms
	lo, hi         float64 // value range
	kx, ky         float64 // px per ms, px per value unit
}

func newPlot(x0, x1, y0, y1 float64, t0, t1 int64, lo, hi float64) *plot {
	p := &plot{x0: x0, x1: x1, y0: y0, y1: y1, t0: t0, t1: t1, lo: lo, hi: hi}
	p.kx = (x1 - x0) / float64(max(t1-t0, 1))
	p.ky = (y1 - y0) / (hi - lo)
	if hi <= lo || math.IsInf(p.ky, 0) || math.IsNaN(p.ky) {
		p.ky = 0
	}
	return p
}

func (p *plot) x(t int64) float64 { return p.x0 + float64(t-p.t0)*p.kx }

// y clamps v to the value range, so fixed axes never draw outside the plot.
func (p *plot) y(v float64) float64 {
	v = min(max(v, p.lo), p.hi)
	if p.ky == 0 {
		return (p.y0 + p.y1) / 2
	}
	return p.y1 - (v-p.lo)*p.ky
}

// path draws the kept points: an absolute move starting each subpath, then
// relative line-tos (shorter numbers), all rounded to tenths of a pixel; a
// lone point gets a zero-length segment, which round caps draw as a dot.
func (p *plot) path(sc *scanned) []byte {
	d := make([]byte, 0, 7*len(sc.keep)+16)
	var px, py int64
	n := 0 // points in the current subpath
	for _, s := range sc.keep {
		if math.IsNaN(s.v) {
			if n == 1 {
				d = append(d, 'h', '0')
			}
			n = 0
			continue
		}
		x := toTenths(p.x(s.t))
		y := toTenths(p.y(s.v))
		switch {
		case n == 0:
			d = append(d, 'M')
			d = appendTenths(d, x)
			d = append(d, ' ')
			d = appendTenths(d, y)
		case x == px && y == py:
			continue
		default:
			if n == 1 {
				d = append(d, 'l')
			} else {
				d = append(d, ' ')
			}
			d = appendTenths(d, x-px)
			if y >= py {
				d = append(d, ' ')
			}
			d = appendTenths(d, y-py)
		}
		px, py = x, y
		n++
	}
	return d
}
