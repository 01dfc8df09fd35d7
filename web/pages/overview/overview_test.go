package overview

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
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

// Range has an hour of history for fleet utilisation only.
func (fakeEngine) Range(_ context.Context, expr string, start, end time.Time, step time.Duration) (promql.Matrix, error) {
	if expr != `avg(DCGM_FI_DEV_GPU_UTIL)` {
		return nil, nil
	}
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
	if doc.Find(`[data-testid=fleet-util] svg[data-testid=sparkline]`).Length() != 1 {
		t.Error("fleet utilisation has no trend line")
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
