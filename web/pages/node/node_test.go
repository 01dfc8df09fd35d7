package node

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
)

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// gpuNode is node-7 with two GPUs; the power history fails.
type gpuNode struct {
	mu     sync.Mutex
	ranges []string // the spans the charts asked for
}

func (g *gpuNode) Instant(_ context.Context, expr string, t time.Time) (promql.Vector, error) {
	gpu := func(i string, v float64, kv ...string) promql.Sample {
		return promql.Sample{Metric: labels.FromStrings(append([]string{"instance", "node-7:9400", "hostname", "node-7", "gpu", i}, kv...)...), F: v}
	}
	switch {
	case !strings.Contains(expr, `hostname="node-7"`) && !strings.Contains(expr, `instance="node-7:9400"`):
		return nil, nil
	case strings.HasPrefix(expr, "max by (instance)"):
		return promql.Vector{{Metric: labels.FromStrings("instance", "node-7:9400"), F: 1}}, nil
	case strings.HasPrefix(expr, "gpuwd_gpu_info"):
		return promql.Vector{gpu("0", 1), gpu("1", 1)}, nil
	case strings.Contains(expr, "gpuwd_xid_errors_total"):
		return promql.Vector{gpu("1", 2, "xid", "79")}, nil
	case strings.HasPrefix(expr, "gpuwd_gpu_job_info"):
		return promql.Vector{gpu("0", 1, "job_id", "4242", "user", "alice", "partition", "gpu")}, nil
	case strings.HasPrefix(expr, "up{"):
		return promql.Vector{{Metric: labels.FromStrings("instance", "node-7:9400"), F: 1}}, nil
	case strings.HasPrefix(expr, "gpuwd_slurm_daemon_up"):
		return promql.Vector{{Metric: labels.FromStrings("daemon", "slurmd"), F: 0}}, nil
	}
	return nil, nil
}

func (g *gpuNode) Range(_ context.Context, expr string, start, end time.Time, step time.Duration) (promql.Matrix, error) {
	g.mu.Lock()
	g.ranges = append(g.ranges, end.Sub(start).String())
	g.mu.Unlock()
	if strings.Contains(expr, "POWER") {
		return nil, errors.New("query timed out")
	}
	var m promql.Matrix
	for _, i := range []string{"0", "1"} {
		s := promql.Series{Metric: labels.FromStrings("hostname", "node-7", "gpu", i)}
		for t := start; !t.After(end); t = t.Add(step) {
			s.Floats = append(s.Floats, promql.FPoint{T: t.UnixMilli(), F: 50})
		}
		m = append(m, s)
	}
	return m, nil
}

func get(t *testing.T, path string) (*goquery.Document, int, *gpuNode) {
	t.Helper()
	g := &gpuNode{}
	e := echo.New()
	(&Page{Query: g, Now: func() time.Time { return now }}).Register(e)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	doc, err := goquery.NewDocumentFromReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	return doc, rec.Code, g
}

func TestNodePageShowsHistoryEventsJobsAndHealth(t *testing.T) {
	doc, code, g := get(t, "/nodes/node-7?range=24h")
	if code != 200 {
		t.Fatalf("GET: %d", code)
	}
	if n := doc.Find(`[data-testid=chart-util] svg[data-testid=chart]`).Length(); n != 1 {
		t.Errorf("%d utilisation charts", n)
	}
	if !strings.Contains(doc.Find(`[data-testid=chart-power] [data-testid=panel-error]`).Text(), "query timed out") {
		t.Error("the failed power chart does not say why")
	}
	for _, r := range g.ranges {
		if r != "24h0m0s" {
			t.Fatalf("a chart queried %s, want 24h", r)
		}
	}
	if ev := cells(doc.Find(`[data-testid=event]`)); ev != "1 XID 79 2" {
		t.Errorf("events %q", ev)
	}
	if j := cells(doc.Find(`[data-testid=job]`)); j != "0 4242 alice gpu" {
		t.Errorf("jobs %q", j)
	}
	health := doc.Find(`[data-testid=health-item]`)
	if !strings.Contains(health.Text(), "agent scraped: up") || !strings.Contains(health.Text(), "slurmd: down") {
		t.Errorf("health %q", health.Text())
	}
	if doc.Find(`[data-testid=range][aria-current]`).Text() != "24h" {
		t.Error("the chosen range is not marked")
	}
}

func TestUnknownOrBadNodeNames(t *testing.T) {
	if _, code, _ := get(t, "/nodes/node-9"); code != http.StatusNotFound {
		t.Errorf("unknown node: %d", code)
	}
	if _, code, _ := get(t, `/nodes/a%22%7D%20or%20up%7B`); code != http.StatusBadRequest {
		t.Errorf("a name that would break out of the query: %d", code)
	}
}

// cells is a row's cells as a person reads them, apart.
func cells(row *goquery.Selection) string {
	var parts []string
	row.First().Find("td").Each(func(_ int, c *goquery.Selection) { parts = append(parts, strings.TrimSpace(c.Text())) })
	return strings.Join(parts, " ")
}
