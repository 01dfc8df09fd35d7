package nodes

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

// fleet is two nodes: node-a with 4 H100s (0 busy with a job, 1 allocated
// and idle, 2 hot, 3 idle), node-b with 2 L4s (0 lost, 1 busy).
type fleet struct{ failTemp bool }

func (f fleet) Instant(_ context.Context, expr string, _ time.Time) (promql.Vector, error) {
	gpu := func(inst, host, idx, model string, v float64, extra ...string) promql.Sample {
		kv := append([]string{"instance", inst, "hostname", host, "gpu", idx, "modelName", model, "UUID", "GPU-" + host + idx}, extra...)
		return promql.Sample{Metric: labels.FromStrings(kv...), F: v}
	}
	a := func(idx string, v float64, extra ...string) promql.Sample {
		return gpu("node-a:9400", "node-a", idx, "NVIDIA H100 80GB HBM3", v, extra...)
	}
	b := func(idx string, v float64, extra ...string) promql.Sample {
		return gpu("node-b:9400", "node-b", idx, "NVIDIA L4", v, extra...)
	}
	switch expr {
	case gpuQueries["info"]:
		return promql.Vector{a("0", 1), a("1", 1), a("2", 1), a("3", 1), b("0", 1), b("1", 1)}, nil
	case gpuQueries["up"]:
		return promql.Vector{a("0", 1), a("1", 1), a("2", 1), a("3", 1), b("0", 0), b("1", 1)}, nil
	case gpuQueries["util"]:
		return promql.Vector{a("0", 97), a("1", 0), a("2", 40), a("3", 0), b("1", 55)}, nil
	case gpuQueries["utilAvg"]:
		return promql.Vector{a("0", 90), a("1", 1), a("2", 40), a("3", 0), b("1", 50)}, nil
	case gpuQueries["memUsed"]:
		return promql.Vector{a("0", 40960), a("1", 1024), a("2", 2048), a("3", 0), b("1", 8192)}, nil
	case gpuQueries["memFree"]:
		return promql.Vector{a("0", 40600), a("1", 80536), a("2", 79512), a("3", 81560), b("1", 14843)}, nil
	case gpuQueries["temp"]:
		if f.failTemp {
			return nil, errors.New("query timed out")
		}
		return promql.Vector{a("0", 71), a("1", 35), a("2", 91), a("3", 33), b("1", 60)}, nil
	case gpuQueries["job"]:
		return promql.Vector{a("0", 1, "job_id", "4242", "user", "alice"), a("1", 1, "job_id", "4243", "user", "bob")}, nil
	}
	return nil, nil
}

func (fleet) Range(context.Context, string, time.Time, time.Time, time.Duration) (promql.Matrix, error) {
	return nil, nil
}

func wall(t *testing.T, f fleet, query string) *goquery.Document {
	t.Helper()
	return wallOf(t, &Page{Query: f}, query)
}

func wallOf(t *testing.T, p *Page, query string) *goquery.Document {
	t.Helper()
	e := echo.New()
	p.Register(e)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/nodes"+query, nil))
	if rec.Code != 200 {
		t.Fatalf("GET /nodes%s: %d %s", query, rec.Code, rec.Body)
	}
	doc, err := goquery.NewDocumentFromReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func tiles(doc *goquery.Document) []string {
	var out []string
	doc.Find(`[data-testid=gpu-tile]`).Each(func(_ int, s *goquery.Selection) {
		out = append(out, s.AttrOr("data-node", "")+"/"+s.AttrOr("data-gpu", "")+"="+s.AttrOr("data-state", ""))
	})
	return out
}

func TestWallShowsEveryGPUWorstFirst(t *testing.T) {
	doc := wall(t, fleet{}, "")
	got := strings.Join(tiles(doc), " ")
	want := "node-a/2=unhealthy node-b/0=unhealthy node-a/1=idle-allocated node-a/0=busy node-b/1=busy node-a/3=idle"
	if got != want {
		t.Fatalf("tiles\n got %s\nwant %s", got, want)
	}
	busy := doc.Find(`[data-node=node-a][data-gpu="0"]`)
	if j := busy.Find(`[data-testid=gpu-job]`).Text(); j != "job 4242 · alice" {
		t.Errorf("job on node-a GPU 0: %q", j)
	}
	if u := busy.Find(`[data-testid=gpu-util]`).Text(); u != "97 %" {
		t.Errorf("util: %q", u)
	}
	if !strings.Contains(busy.Text(), "40 / 79.6 GiB") {
		t.Errorf("memory: %q", busy.Text())
	}
	for sel, why := range map[string]string{
		`[data-node=node-b][data-gpu="0"]`: "fell off the bus",
		`[data-node=node-a][data-gpu="2"]`: "hot",
		`[data-node=node-a][data-gpu="1"]`: "allocated, idle for 30 min",
	} {
		if got := doc.Find(sel + ` [data-testid=gpu-why]`).Text(); got != why {
			t.Errorf("%s says %q, want %q", sel, got, why)
		}
	}
	summary := strings.Join(strings.Fields(doc.Find(`[data-testid=gpu-summary]`).Text()), " ")
	if summary != "6 of 6 GPUs shown · 2 unhealthy · 1 allocated but idle · 2 busy · 1 idle" {
		t.Errorf("summary %q", summary)
	}
}

func TestWallFiltersAndSorts(t *testing.T) {
	if got := strings.Join(tiles(wall(t, fleet{}, "?user=bob")), " "); got != "node-a/1=idle-allocated" {
		t.Errorf("user=bob: %s", got)
	}
	if got := strings.Join(tiles(wall(t, fleet{}, "?model=NVIDIA+L4&sort=node")), " "); got != "node-b/0=unhealthy node-b/1=busy" {
		t.Errorf("model=L4: %s", got)
	}
	if got := tiles(wall(t, fleet{}, "?sort=util"))[0]; got != "node-a/0=busy" {
		t.Errorf("sort=util starts with %s", got)
	}
	doc := wall(t, fleet{}, "?state=busy")
	if doc.Find(`select[name=state] option[selected]`).AttrOr("value", "") != "busy" {
		t.Error("the filter form does not show the chosen state")
	}
}

func TestAFailedQueryLeavesTheRestOfTheWall(t *testing.T) {
	doc := wall(t, fleet{failTemp: true}, "")
	if n := len(tiles(doc)); n != 6 {
		t.Fatalf("%d tiles with the temperature query failing, want 6", n)
	}
	if !strings.Contains(doc.Find(`[data-testid=partial-error]`).Text(), "temp: query timed out") {
		t.Errorf("the page does not say what is missing: %q", doc.Find(`[data-testid=partial-error]`).Text())
	}
}

// A wall longer than a page is cut into pages, worst first; the links keep
// the filter, and a page past the end shows the last.
func TestWallPages(t *testing.T) {
	p := &Page{Query: fleet{}, PerPage: 4}
	pager := func(doc *goquery.Document) string {
		return strings.Join(strings.Fields(doc.Find(`[data-testid=pager]`).First().Text()), " ")
	}
	doc := wallOf(t, p, "")
	if got := strings.Join(tiles(doc), " "); got != "node-a/2=unhealthy node-b/0=unhealthy node-a/1=idle-allocated node-a/0=busy" {
		t.Errorf("page 1: %s", got)
	}
	if got := pager(doc); got != "Page 1 of 2 · GPUs 1–4 of 6 Next →" {
		t.Errorf("page 1's pager: %q", got)
	}
	if href := doc.Find(`[data-testid=pager] a[rel=next]`).AttrOr("href", ""); href != "/nodes?page=2" {
		t.Errorf("next: %q", href)
	}
	if n := doc.Find(`[data-testid=pager]`).Length(); n != 2 {
		t.Errorf("%d pagers, want one above and one below the wall", n)
	}
	if s := strings.Join(strings.Fields(doc.Find(`[data-testid=gpu-summary]`).Text()), " "); !strings.HasPrefix(s, "6 of 6 GPUs shown") {
		t.Errorf("summary %q", s)
	}

	doc = wallOf(t, p, "?sort=node&page=2")
	if got := strings.Join(tiles(doc), " "); got != "node-b/0=unhealthy node-b/1=busy" {
		t.Errorf("page 2 by node: %s", got)
	}
	if href := doc.Find(`[data-testid=pager] a[rel=prev]`).AttrOr("href", ""); href != "/nodes?sort=node" {
		t.Errorf("previous keeps the sort: %q", href)
	}
	if doc.Find(`[data-testid=pager] a[rel=next]`).Length() != 0 {
		t.Error("the last page links a next one")
	}
	if got := pager(wallOf(t, p, "?page=99")); got != "← Previous Page 2 of 2 · GPUs 5–6 of 6" {
		t.Errorf("page 99 shows %q, want the last page", got)
	}
	if wallOf(t, p, "?user=bob").Find(`[data-testid=pager]`).Length() != 0 {
		t.Error("a wall of one page has a pager")
	}
}
