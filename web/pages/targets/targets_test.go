package targets

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"
)

type fixed []Target

func (f fixed) Targets() []Target { return append([]Target(nil), f...) }

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func get(t *testing.T, src Source) *goquery.Document {
	t.Helper()
	e := echo.New()
	(&Page{Source: src, Version: "test", Now: func() time.Time { return now }}).Register(e)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/targets", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /targets: %d %s", rec.Code, rec.Body)
	}
	doc, err := goquery.NewDocumentFromReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestTargetsWorstFirstWithTheirErrors(t *testing.T) {
	doc := get(t, fixed{
		{Job: "gpuwd-agent", Instance: "node-1:9400", Health: "up", LastScrape: now.Add(-5 * time.Second), LastDuration: 3 * time.Millisecond, Interval: 15 * time.Second},
		{Job: "gpuwd-agent", Instance: "node-2:9400", Health: "down", LastError: "connection refused", LastScrape: now.Add(-20 * time.Second), Interval: 15 * time.Second},
		{Job: "gpuwd", Instance: "127.0.0.1:8080", Health: "unknown", Interval: 15 * time.Second},
	})
	if got := strings.Join(strings.Fields(doc.Find(`[data-testid=targets-summary]`).Text()), " "); got != "3 targets in 2 jobs: 1 up, 1 down." {
		t.Errorf("summary %q", got)
	}
	rows := doc.Find(`[data-testid=target]`)
	var order []string
	rows.Each(func(_ int, r *goquery.Selection) { order = append(order, r.AttrOr("data-health", "")) })
	if strings.Join(order, ",") != "down,unknown,up" {
		t.Errorf("rows in order %v, want down first", order)
	}
	first := rows.First()
	if !strings.Contains(first.Text(), "node-2:9400") || first.Find(`[data-testid=target-error]`).Text() != "connection refused" {
		t.Errorf("the down target does not say why: %q", first.Text())
	}
	if !strings.Contains(first.Text(), "20s ago") || !strings.Contains(rows.Eq(1).Text(), "never") {
		t.Errorf("last scrape times: %q / %q", first.Text(), rows.Eq(1).Text())
	}
	if doc.Find(`nav a[aria-current=page]`).Text() != "Targets" {
		t.Error("the navigation does not mark the page")
	}
}

func TestNoTargetsSaysWhatToDo(t *testing.T) {
	doc := get(t, fixed{})
	if !strings.Contains(doc.Find(`[data-testid=targets-empty]`).Text(), "GPUWD_AGGREGATOR_URL") {
		t.Error("an empty page does not say how agents join")
	}
}
