package query

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
)

// Cache is an Engine that lets the viewers of a page share evaluations.
//
// Instant evaluates an expression at the time the first viewer asks, and
// every viewer asking in the next slot (the page's refresh interval) gets
// that answer: a page read by many people at once costs one evaluation a
// slot, and no number is older than a slot.
//
// Range is assembled from points at its steps, each evaluated once, when
// first asked for, and kept like a recording rule's: a trend over the last
// hour that moves on by a step costs one evaluation, not a whole range
// query. That needs steps that are whole multiples of the slot and a range
// aligned to them; other ranges, and expressions whose value at a step
// depends on the range (@ start(), @ end()), go to the engine as asked.
//
// Results are shared between callers: read them, never change them.
type Cache struct {
	engine     Engine
	slot, keep int64 // ms

	mu       sync.Mutex
	instants map[string]*instant // expr → its latest instant evaluation
	points   map[pointKey]*point // the steps of ranges
	steps    map[string]int64    // expr → the step of ranges asked over it (ms)
	newest   int64               // the latest time asked for (ms)
}

// instant is an evaluation at a viewer's time, shared for a slot after.
type instant struct {
	at int64 // ms
	*point
}

// NewCache shares e's instant answers for slot (the page's refresh
// interval) and keeps the points of ranges for keep (the longest range a
// page shows).
func NewCache(e Engine, slot, keep time.Duration) *Cache {
	return &Cache{engine: e, slot: max(slot.Milliseconds(), 1), keep: keep.Milliseconds(),
		instants: map[string]*instant{}, points: map[pointKey]*point{}, steps: map[string]int64{}}
}

type pointKey struct {
	expr string
	t    int64 // ms
}

// point is one evaluation, shared by everyone who asks for it.
type point struct {
	done chan struct{} // closed once vec and err are set
	vec  promql.Vector
	err  error
}

// Instant returns expr at t, or the answer evaluated for someone else in
// the slot before t.
func (c *Cache) Instant(ctx context.Context, expr string, t time.Time) (promql.Vector, error) {
	at := t.UnixMilli()
	c.mu.Lock()
	c.advance(at)
	in := c.instants[expr]
	switch {
	case in != nil && at >= in.at && at-in.at < c.slot:
		c.mu.Unlock()
		return wait(ctx, in.point)
	case in != nil && at < in.at:
		c.mu.Unlock() // the past: not what viewers share
		return c.engine.Instant(ctx, expr, t)
	}
	in = &instant{at: at, point: &point{done: make(chan struct{})}}
	c.instants[expr] = in
	c.mu.Unlock()
	go func() {
		vec, err := c.engine.Instant(context.WithoutCancel(ctx), expr, t)
		c.mu.Lock()
		defer c.mu.Unlock()
		in.vec, in.err = vec, err
		if err != nil && c.instants[expr] == in {
			delete(c.instants, expr) // the next viewer tries again
		}
		close(in.done)
	}()
	return wait(ctx, in.point)
}

// Range returns expr over [start, end], from cached points when it can.
func (c *Cache) Range(ctx context.Context, expr string, start, end time.Time, step time.Duration) (promql.Matrix, error) {
	return c.rangeOf(ctx, expr, start, end, step, true)
}

// Trend is Range for a line that moves on by a step while people watch:
// when its newest point is not evaluated yet, it is evaluated in the
// background and the line returned without it, so no viewer waits for a
// new step. The next viewer gets it.
func (c *Cache) Trend(ctx context.Context, expr string, start, end time.Time, step time.Duration) (promql.Matrix, error) {
	return c.rangeOf(ctx, expr, start, end, step, false)
}

func (c *Cache) rangeOf(ctx context.Context, expr string, start, end time.Time, step time.Duration, waitNewest bool) (promql.Matrix, error) {
	s, e, st := start.UnixMilli(), end.UnixMilli(), step.Milliseconds()
	if st <= 0 || s%st != 0 || e%st != 0 || e < s || (e-s)/st > maxSteps || !splittable(expr) {
		return c.engine.Range(ctx, expr, start, end, step)
	}
	n := int((e-s)/st) + 1
	ts, pts := make([]int64, n), make([]*point, n)
	mine := make([]bool, n)
	for i := range n {
		ts[i] = s + int64(i)*st
		pts[i], mine[i] = c.claim(expr, ts[i], st)
	}
	// Evaluate the points no one else is evaluating, a run of consecutive
	// steps at a time.
	for i := 0; i < n; {
		if !mine[i] {
			i++
			continue
		}
		j := i
		for j < n && mine[j] {
			j++
		}
		go c.eval(ctx, expr, ts[i:j], pts[i:j], st)
		i = j
	}
	var m promql.Matrix
	index := map[string]int{}
	var buf []byte
	if !waitNewest && n > 1 && !settled(pts[n-1]) && settled(pts[n-2]) {
		pts = pts[:n-1] // a step on from the last view: leave the new point to the next
	}
	for _, p := range pts {
		vec, err := wait(ctx, p)
		if err != nil {
			return nil, err
		}
		for _, smp := range vec {
			buf = smp.Metric.Bytes(buf)
			k, ok := index[string(buf)]
			if !ok {
				k = len(m)
				index[string(buf)] = k
				m = append(m, promql.Series{Metric: smp.Metric})
			}
			if smp.H != nil {
				m[k].Histograms = append(m[k].Histograms, promql.HPoint{T: smp.T, H: smp.H})
			} else {
				m[k].Floats = append(m[k].Floats, promql.FPoint{T: smp.T, F: smp.F})
			}
		}
	}
	slices.SortFunc(m, func(a, b promql.Series) int { return labels.Compare(a.Metric, b.Metric) })
	return m, nil
}

// maxSteps bounds the points one range may add to the cache (the engine's
// own limit on a range query's steps).
const maxSteps = 11000

// claim returns the point of expr at step t of a range of step ms, and
// whether the caller must evaluate it (no one has yet).
func (c *Cache) claim(expr string, t, step int64) (*point, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.advance(t)
	c.steps[expr] = step
	k := pointKey{expr, t}
	if p := c.points[k]; p != nil {
		return p, false
	}
	p := &point{done: make(chan struct{})}
	c.points[k] = p
	return p, true
}

// advance notes the latest time asked for, and forgets what is no longer
// asked for when it moves on. The caller holds mu.
func (c *Cache) advance(t int64) {
	if t <= c.newest {
		return
	}
	c.newest = t
	for expr, in := range c.instants {
		if in.at <= t-c.slot {
			delete(c.instants, expr)
		}
	}
	// The steps of ranges are kept for keep; a trend's points are
	// forgotten with the last of them.
	live := map[string]bool{}
	for k := range c.points {
		if st := c.steps[k.expr]; k.t >= floor(c.newest, st)-c.keep {
			live[k.expr] = true
			continue
		}
		delete(c.points, k)
	}
	for expr := range c.steps {
		if !live[expr] {
			delete(c.steps, expr)
		}
	}
}

// eval evaluates expr at ts, consecutive steps of step ms, and settles
// pts. The evaluation is shared, so a caller that goes away
// neither waits for it nor cancels it; the engine bounds its time. A
// failed point is forgotten, so the next caller tries again.
func (c *Cache) eval(ctx context.Context, expr string, ts []int64, pts []*point, step int64) {
	ctx = context.WithoutCancel(ctx)
	var err error
	if len(ts) == 1 {
		pts[0].vec, err = c.engine.Instant(ctx, expr, time.UnixMilli(ts[0]))
	} else {
		var m promql.Matrix
		m, err = c.engine.Range(ctx, expr, time.UnixMilli(ts[0]), time.UnixMilli(ts[len(ts)-1]), time.Duration(step)*time.Millisecond)
		at := func(t int64) *point {
			if i := (t - ts[0]) / step; t >= ts[0] && (t-ts[0])%step == 0 && int(i) < len(pts) {
				return pts[i]
			}
			return &point{} // not a step: cannot happen
		}
		for _, s := range m {
			for _, f := range s.Floats {
				p := at(f.T)
				p.vec = append(p.vec, promql.Sample{Metric: s.Metric, T: f.T, F: f.F})
			}
			for _, h := range s.Histograms {
				p := at(h.T)
				p.vec = append(p.vec, promql.Sample{Metric: s.Metric, T: h.T, H: h.H})
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, p := range pts {
		if err != nil {
			p.vec, p.err = nil, err
			if k := (pointKey{expr, ts[i]}); c.points[k] == p {
				delete(c.points, k)
			}
		}
		close(p.done)
	}
}

func settled(p *point) bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func wait(ctx context.Context, p *point) (promql.Vector, error) {
	select {
	case <-p.done:
		return p.vec, p.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// floor rounds t down to a multiple of d (ms), before the epoch too.
func floor(t, d int64) int64 { return t - ((t%d)+d)%d }

// splittable reports whether expr's value at a step of a range is its
// value at that time alone: no @ start() or @ end().
func splittable(expr string) bool {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return false // the engine says why
	}
	ok := true
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.VectorSelector:
			ok = ok && n.StartOrEnd == 0
		case *parser.SubqueryExpr:
			ok = ok && n.StartOrEnd == 0
		}
		return nil
	})
	return ok
}
