package overview

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
)

// fakeEngine answers the tiles' queries by the metric they read.
type fakeEngine map[string]float64

func (f fakeEngine) Instant(_ context.Context, expr string, t time.Time) (promql.Vector, error) {
	if strings.Contains(expr, "DCGM_FI_DEV_POWER_USAGE") {
		return nil, errors.New("query timed out")
	}
	for key, v := range f {
		if strings.Contains(expr, key) {
			return promql.Vector{{Metric: labels.EmptyLabels(), T: t.UnixMilli(), F: v}}, nil
		}
	}
	return nil, nil
}

// Range has history at 60 for every query.
func (fakeEngine) Range(_ context.Context, expr string, start, end time.Time, step time.Duration) (promql.Matrix, error) {
	s := promql.Series{Metric: labels.EmptyLabels()}
	for t := start; !t.After(end); t = t.Add(step) {
		s.Floats = append(s.Floats, promql.FPoint{T: t.UnixMilli(), F: 60})
	}
	return promql.Matrix{s}, nil
}

type firing []Alert

func (f firing) Firing() []Alert { return f }

func TestOverviewShowsTheFleetAndAFailedTileSaysWhy(t *testing.T) {
	e := echo.New()
	(&Page{
		Query: fakeEngine{
			`== 1)`:                             12, // nodes up (and allocated: the same suffix)
			`gpuwd_gpu_info`:                    96,
			`avg(DCGM_FI_DEV_GPU_UTIL)`:         63.27,
			`gpuwd_node_cost_per_hour_dollars)`: 258.24,
		},
		Alerts: firing{{Name: "GPUTemperatureHigh", Severity: "critical", Summary: "GPU 3 on node-7 is hot: 94°C", Since: time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC)}},
		// Between the trends' minutes: the fake's history is not its now.
		Now: func() time.Time { return time.Date(2026, 11, 23, 12, 0, 20, 0, time.UTC) },
	}).Register(e)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /: %d %s", rec.Code, rec.Body)
	}
	doc, err := goquery.NewDocumentFromReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	value := func(id string) string {
		return strings.TrimSpace(doc.Find(`[data-testid=` + id + `] [data-testid=tile-value]`).Text())
	}
	for id, want := range map[string]string{
		"nodes-up":       "12",
		"nodes-down":     "0", // nothing matched: a count of nothing
		"gpus-total":     "96",
		"fleet-util":     "63.3 %",
		"cost-hour":      "$258.24",
		"idle-cost-hour": "–", // no data is not $0
	} {
		if got := value(id); got != want {
			t.Errorf("tile %s = %q, want %q", id, got, want)
		}
	}
	for _, id := range []string{"fleet-util", "gpus-busy", "cost-hour", "idle-cost-hour"} {
		if doc.Find(`[data-testid=`+id+`] svg[data-testid=sparkline]`).Length() != 1 {
			t.Errorf("%s has no trend line", id)
		}
	}
	if doc.Find(`[data-testid=nodes-up] svg`).Length() != 0 {
		t.Error("a tile without history draws a trend")
	}
	power := doc.Find(`[data-testid=fleet-power]`)
	if !strings.Contains(power.Find(`[data-testid=panel-error]`).Text(), "query timed out") {
		t.Errorf("the failed tile does not say why: %q", power.Text())
	}
	if n := doc.Find(`[data-testid=firing-alert]`).Length(); n != 1 {
		t.Fatalf("%d firing alerts listed, want 1", n)
	}
	if row := doc.Find(`[data-testid=firing-alert]`).Text(); !strings.Contains(row, "GPU 3 on node-7 is hot") {
		t.Errorf("alert row %q", row)
	}
}

// countingEngine answers every query, 63.27 now and 60 before, and counts
// the evaluations that reach it.
type countingEngine struct{ instants, ranges atomic.Int32 }

func (c *countingEngine) Instant(_ context.Context, _ string, t time.Time) (promql.Vector, error) {
	c.instants.Add(1)
	return promql.Vector{{Metric: labels.EmptyLabels(), T: t.UnixMilli(), F: 63.27}}, nil
}

func (c *countingEngine) Range(ctx context.Context, expr string, start, end time.Time, step time.Duration) (promql.Matrix, error) {
	c.ranges.Add(1)
	return fakeEngine{}.Range(ctx, expr, start, end, step)
}

// Viewers within a slot share the numbers; a minute later each trend
// evaluates its new point only, and every trend ends with its tile's
// number.
func TestOverviewSharesEvaluationsAndTrendsEndAtTheNumber(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 20, 0, time.UTC)
	f := &countingEngine{}
	e := echo.New()
	(&Page{Query: f, Now: func() time.Time { return now }}).Register(e)
	get := func() *goquery.Document {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		if rec.Code != 200 {
			t.Fatalf("GET /: %d %s", rec.Code, rec.Body)
		}
		doc, err := goquery.NewDocumentFromReader(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		return doc
	}
	doc := get()
	label, _ := doc.Find(`[data-testid=fleet-util] svg[data-testid=sparkline]`).Attr("aria-label")
	if !strings.Contains(label, "last 63.3%, min 60%") {
		t.Errorf("the trend %q does not end at the tile's number", label)
	}
	if n := f.ranges.Load(); n != 5 {
		t.Errorf("%d range queries for 5 trends", n)
	}
	count := func() (int32, int32) { return f.instants.Swap(0), f.ranges.Swap(0) }
	count()
	now = now.Add(5 * time.Second) // the same slot
	get()
	if i, r := count(); i != 0 || r != 0 {
		t.Errorf("the same slot evaluated %d instants and %d ranges again", i, r)
	}
	now = now.Add(40 * time.Second) // 12:01:05: the trends' next point
	get()
	// The new points are evaluated in the background; wait for them.
	for deadline := time.Now().Add(10 * time.Second); f.instants.Load() < int32(len(tiles))+5 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if i, r := count(); i != int32(len(tiles))+5 || r != 0 {
		t.Errorf("a minute on: %d instants and %d ranges, want the tiles and the 5 trends' new points", i, r)
	}
	label, _ = get().Find(`[data-testid=fleet-util] svg[data-testid=sparkline]`).Attr("aria-label")
	if !strings.Contains(label, "last 63.3%") {
		t.Errorf("a minute on, the trend %q does not end at the tile's number", label)
	}
}
