package query

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
)

// clockEngine answers every query with two series whose value is the
// evaluation time in seconds, and counts its evaluations.
type clockEngine struct {
	instants, ranges atomic.Int32
	fail             atomic.Bool   // the next evaluation fails
	gate             chan struct{} // when set, evaluations wait for it to close
}

var clockSeries = []labels.Labels{labels.FromStrings("gpu", "0"), labels.FromStrings("gpu", "1")}

func (e *clockEngine) Instant(_ context.Context, _ string, t time.Time) (promql.Vector, error) {
	e.instants.Add(1)
	if e.gate != nil {
		<-e.gate
	}
	if e.fail.Swap(false) {
		return nil, errors.New("query timed out")
	}
	var v promql.Vector
	for i, l := range clockSeries {
		v = append(v, promql.Sample{Metric: l, T: t.UnixMilli(), F: float64(t.Unix() + int64(i))})
	}
	return v, nil
}

func (e *clockEngine) Range(_ context.Context, _ string, start, end time.Time, step time.Duration) (promql.Matrix, error) {
	e.ranges.Add(1)
	if e.fail.Swap(false) {
		return nil, errors.New("query timed out")
	}
	var m promql.Matrix
	for i, l := range clockSeries {
		s := promql.Series{Metric: l}
		for t := start; !t.After(end); t = t.Add(step) {
			s.Floats = append(s.Floats, promql.FPoint{T: t.UnixMilli(), F: float64(t.Unix() + int64(i))})
		}
		m = append(m, s)
	}
	return m, nil
}

var minute = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func TestCacheSharesAnAnswerForASlot(t *testing.T) {
	e := &clockEngine{}
	c := NewCache(e, 15*time.Second, time.Hour)
	ctx := context.Background()
	first := minute.Add(3 * time.Second)
	a, _ := c.Instant(ctx, "x", first)
	b, _ := c.Instant(ctx, "x", minute.Add(17*time.Second))
	if n := e.instants.Load(); n != 1 {
		t.Fatalf("%d evaluations within one slot, want 1", n)
	}
	if a[0].T != first.UnixMilli() || !reflect.DeepEqual(a, b) {
		t.Errorf("got %v and %v, want both at the first viewer's time", a, b)
	}
	if v, _ := c.Instant(ctx, "x", minute.Add(18*time.Second)); v[0].T != minute.Add(18*time.Second).UnixMilli() {
		t.Errorf("a slot after the first viewer: %v, want a new evaluation", v)
	}
	if _, err := c.Instant(ctx, "y", minute.Add(18*time.Second)); err != nil {
		t.Fatal(err)
	}
	// An earlier time is evaluated as asked, not shared.
	if v, _ := c.Instant(ctx, "x", minute); v[0].T != minute.UnixMilli() {
		t.Errorf("the past: %v", v)
	}
	if n := e.instants.Load(); n != 4 {
		t.Errorf("%d evaluations, want 4: a new slot, another query and the past each evaluate", n)
	}
}

func TestCacheViewersShareOneEvaluation(t *testing.T) {
	e := &clockEngine{gate: make(chan struct{})}
	c := NewCache(e, 15*time.Second, time.Hour)
	var wg sync.WaitGroup
	res := make([]promql.Vector, 8)
	for i := range res {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i], _ = c.Instant(context.Background(), "x", minute)
		}()
	}
	// A viewer who leaves does not cancel the evaluation for the others.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Instant(ctx, "x", minute); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled viewer got %v", err)
	}
	close(e.gate)
	wg.Wait()
	if n := e.instants.Load(); n != 1 {
		t.Errorf("%d evaluations for concurrent viewers, want 1", n)
	}
	for _, r := range res {
		if len(r) != 2 {
			t.Fatalf("a viewer got %v", r)
		}
	}
}

func TestCacheRetriesAFailedEvaluation(t *testing.T) {
	e := &clockEngine{}
	e.fail.Store(true)
	c := NewCache(e, 15*time.Second, time.Hour)
	if _, err := c.Instant(context.Background(), "x", minute); err == nil {
		t.Fatal("the failure was not returned")
	}
	if v, err := c.Instant(context.Background(), "x", minute); err != nil || len(v) != 2 {
		t.Errorf("after a failure: %v, %v; want a new evaluation", v, err)
	}
}

// A trend over the last hour that moves on by a step evaluates that step
// only, and reads the same as the engine's range query.
func TestCacheRangeMovesOnByAStep(t *testing.T) {
	e := &clockEngine{}
	c := NewCache(e, 15*time.Second, time.Hour)
	ctx := context.Background()
	for i, end := range []time.Time{minute, minute.Add(time.Minute)} {
		got, err := c.Range(ctx, "x", end.Add(-time.Hour), end, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := (&clockEngine{}).Range(ctx, "x", end.Add(-time.Hour), end, time.Minute)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("range %d from the cache differs from the engine's:\n%v\n%v", i, got, want)
		}
	}
	if r, i := e.ranges.Load(), e.instants.Load(); r != 1 || i != 1 {
		t.Errorf("%d range and %d instant evaluations, want the first hour and then the new step", r, i)
	}
}

func TestCachePassesOtherRangesToTheEngine(t *testing.T) {
	e := &clockEngine{}
	c := NewCache(e, 15*time.Second, time.Hour)
	ctx := context.Background()
	for _, q := range []struct {
		expr       string
		start, end time.Time
		step       time.Duration
	}{
		{"x", minute.Add(-time.Hour + time.Second), minute.Add(time.Second), time.Minute}, // not on steps
		{"x @ end()", minute.Add(-time.Hour), minute, time.Minute},
		{"max_over_time(x[5m:1m] @ start())", minute.Add(-time.Hour), minute, time.Minute},
	} {
		for range 2 {
			if _, err := c.Range(ctx, q.expr, q.start, q.end, q.step); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := e.ranges.Load(); n != 6 {
		t.Errorf("%d range evaluations, want every one of the 6 passed on", n)
	}
}

func TestCacheForgetsPastSlots(t *testing.T) {
	e := &clockEngine{}
	c := NewCache(e, 15*time.Second, time.Hour)
	ctx := context.Background()
	if _, err := c.Range(ctx, "trend", minute.Add(-time.Hour), minute, time.Minute); err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		if _, err := c.Instant(ctx, "tile", minute.Add(time.Duration(i)*15*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	later := minute.Add(2 * time.Hour)
	if _, err := c.Instant(ctx, "tile", later); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.points) != 0 || len(c.steps) != 0 || len(c.instants) != 1 {
		t.Errorf("%d points, %d trends and %d instants kept two hours on, want the current slot's only", len(c.points), len(c.steps), len(c.instants))
	}
}

// A trend that moves on by a step does not wait for the new point: it is
// evaluated in the background and there for the next viewer.
func TestCacheTrendLeavesTheNewPointToTheNextViewer(t *testing.T) {
	e := &clockEngine{}
	c := NewCache(e, 15*time.Second, time.Hour)
	ctx := context.Background()
	first, err := c.Trend(ctx, "x", minute.Add(-time.Hour), minute, time.Minute)
	if err != nil || len(first) != 2 || len(first[0].Floats) != 61 {
		t.Fatalf("the first view: %v, %v; want the whole hour", first, err)
	}
	e.gate = make(chan struct{})
	next := minute.Add(time.Minute)
	got, err := c.Trend(ctx, "x", next.Add(-time.Hour), next, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if pts := got[0].Floats; len(pts) != 60 || pts[len(pts)-1].T != minute.UnixMilli() {
		t.Errorf("a step on, while the new point is evaluated: %d points ending at %v", len(pts), pts[len(pts)-1].T)
	}
	close(e.gate)
	got, err = c.Range(ctx, "x", next.Add(-time.Hour), next, time.Minute)
	if err != nil || got[0].Floats[len(got[0].Floats)-1].T != next.UnixMilli() {
		t.Errorf("the next viewer: %v, %v; want the new point", got, err)
	}
	if r, i := e.ranges.Load(), e.instants.Load(); r != 1 || i != 1 {
		t.Errorf("%d range and %d instant evaluations, want the first hour and then the new step", r, i)
	}
}
