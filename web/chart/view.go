package chart

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// label is a positioned text.
type label struct {
	X, Y, Text string
	Anchor     string // "" for the group's default
}

// seriesView is one drawn series: its line and its hover targets.
type seriesView struct {
	Class string // chart-series-N
	D     string
	Title string
	Hits  []hitView
}

type hitView struct{ X, Y, Title string }

// legendItem is a colour swatch at X,Y and its name at TX,TY.
type legendItem struct {
	Class, X, Y, TX, TY, Text string
}

// view is everything the TimeSeries template prints, precomputed.
type view struct {
	W, H, ViewBox, Label string
	Title                label // Text "" for none
	Empty                label // Text "" when there is data
	Grid                 string
	YLabels, XLabels     []label
	Series               []seriesView
	Legend               []legendItem
	More                 label // "+N more", Text "" for none
}

const (
	fontPx     = 11  // axis and legend text size
	charPx     = 6.2 // estimated advance of one character at fontPx
	titleH     = 20
	xAxisH     = 20
	legendRowH = 16
	padTop     = 8
	padRight   = 16
	padLeft    = 8
	// legendRunes is the longest name the legend shows in full; the
	// series' hover titles keep the whole name.
	legendRunes = 40
)

func textWidth(s string) float64 { return float64(utf8.RuneCountInString(s)) * charPx }

func px(v float64) string { return tenths(toTenths(v)) }

// view lays the chart out.
func (c Chart) view() view {
	w, h := c.Width, c.Height
	if w <= 0 {
		w = defaultWidth
	}
	if h <= 0 {
		h = defaultHeight
	}
	loc := c.Location
	if loc == nil {
		loc = time.UTC
	}
	v := view{W: strconv.Itoa(w), H: strconv.Itoa(h), ViewBox: "0 0 " + strconv.Itoa(w) + " " + strconv.Itoa(h)}
	top := float64(padTop)
	if c.Title != "" {
		v.Title = label{X: px(padLeft), Y: "14", Text: c.Title}
		top += titleH
	}
	name := c.Title
	if name == "" {
		name = "Chart"
	}

	nHover := min(max(hoverTotal/max(len(c.Series), 1), hoverMin), hoverPerSeries)
	scans, t0, t1, ok := scanAll(c, w/bucketPx, nHover)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, sc := range scans {
		lo, hi = min(lo, sc.lo), max(hi, sc.hi)
	}
	if !ok || lo > hi {
		v.Label = name + ", no data"
		msg := c.Empty
		if msg == "" {
			msg = defaultEmpty
		}
		v.Empty = label{X: px(float64(w) / 2), Y: px((top + float64(h)) / 2), Text: msg}
		return v
	}
	span := time.Duration(t1-t0) * time.Millisecond
	v.Label = name + ", " + strconv.Itoa(len(c.Series)) + " series, " + formatSpan(span)

	// Legend, bottom up: it spans the full width.
	legendTop := float64(h)
	if len(c.Series) > 1 {
		legendTop = v.legend(c.Series, float64(w), float64(h))
	}
	bottom := max(legendTop-xAxisH, top+20)
	u := unitFor(c.Unit)
	lo, hi, yt := yAxis(u, lo, hi, c.Min, c.Max, max(2, int((bottom-top)/30)))
	left := 0.0
	for _, t := range yt {
		left = max(left, textWidth(t.label))
	}
	left = max(left+10, 32)
	right := max(float64(w)-padRight, left+20)
	p := newPlot(left, right, top, bottom, t0, t1, lo, hi)
	v.axes(p, yt, timeTicks(time.UnixMilli(t0), time.UnixMilli(t1), max(2, int((right-left)/80)), loc), float64(w))

	layout := hoverTimeLayout(span)
	for i, s := range c.Series {
		sc := &scans[i]
		sname := seriesName(s, i)
		sv := seriesView{Class: seriesClass(i), D: string(p.path(sc)), Title: sname + ": no data"}
		if sc.n > 0 {
			sv.Title = sname + ": last " + u.format(sc.last.v) + " at " + clock(sc.last.t, loc, layout)
		}
		sv.Hits = make([]hitView, len(sc.hover))
		for j, s := range sc.hover {
			sv.Hits[j] = hitView{
				X:     px(p.x(s.t)),
				Y:     px(p.y(s.v)),
				Title: sname + ": " + u.format(s.v) + " at " + clock(s.t, loc, layout),
			}
		}
		v.Series = append(v.Series, sv)
	}
	return v
}

// axes draws the grid (one path) and the tick labels of a w px wide chart.
func (v *view) axes(p *plot, yt, xt []tick, w float64) {
	var grid []byte
	for _, t := range yt {
		y := toTenths(p.y(t.v))
		grid = append(grid, 'M')
		grid = appendTenths(grid, toTenths(p.x0))
		grid = append(grid, ' ')
		grid = appendTenths(grid, y)
		grid = append(grid, 'H')
		grid = appendTenths(grid, toTenths(p.x1))
		v.YLabels = append(v.YLabels, label{X: px(p.x0 - 6), Y: tenths(y + 35), Text: t.label})
	}
	for _, t := range xt {
		x := p.x(int64(t.v))
		grid = append(grid, 'M')
		grid = appendTenths(grid, toTenths(x))
		grid = append(grid, ' ')
		grid = appendTenths(grid, toTenths(p.y0))
		grid = append(grid, 'V')
		grid = appendTenths(grid, toTenths(p.y1))
		l := label{X: px(x), Y: px(p.y1 + 14), Text: t.label}
		half := textWidth(t.label) / 2
		if x+half > w {
			l.Anchor = "end"
		} else if x-half < 0 {
			l.Anchor = "start"
		}
		v.XLabels = append(v.XLabels, l)
	}
	v.Grid = string(grid)
}

func clock(ms int64, loc *time.Location, layout string) string {
	return time.UnixMilli(ms).In(loc).Format(layout)
}

func seriesName(s Series, i int) string {
	if s.Name != "" {
		return s.Name
	}
	return "Series " + strconv.Itoa(i+1)
}

func seriesClass(i int) string { return "chart-series-" + strconv.Itoa(i%Palette) }

// legend lays out up to legendMax names, then "+N more", in rows from the
// bottom of a w×h chart, and returns the legend's top edge.
func (v *view) legend(series []Series, w, h float64) float64 {
	type item struct {
		x    float64
		row  int
		text string
		i    int
	}
	var items []item
	x, row := float64(padLeft), 0
	place := func(text string, width float64, i int) {
		if x > padLeft && x+width > w-padLeft {
			x, row = padLeft, row+1
		}
		items = append(items, item{x: x, row: row, text: text, i: i})
		x += width + 16
	}
	for i, s := range series[:min(len(series), legendMax)] {
		n := seriesName(s, i)
		if r := []rune(n); len(r) > legendRunes {
			n = string(r[:legendRunes-1]) + "…"
		}
		place(n, 14+textWidth(n), i)
	}
	if more := len(series) - legendMax; more > 0 {
		t := "+" + strconv.Itoa(more) + " more"
		place(t, textWidth(t), -1)
	}
	top := h - float64(row+1)*legendRowH - 4
	for _, it := range items {
		base := top + float64(it.row)*legendRowH + 12
		if it.i < 0 {
			v.More = label{X: px(it.x), Y: px(base), Text: it.text}
			continue
		}
		v.Legend = append(v.Legend, legendItem{
			Class: seriesClass(it.i), X: px(it.x), Y: px(base - 5),
			TX: px(it.x + 14), TY: px(base), Text: it.text,
		})
	}
	return top
}
