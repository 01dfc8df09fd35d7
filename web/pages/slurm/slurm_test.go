package slurm

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

// cluster answers the page's queries for a small cluster: partition gpu
// with 3 nodes (one drained, one down), a pending and two running jobs.
type cluster struct{ failUtil bool }

func s(v float64, kv ...string) promql.Sample {
	return promql.Sample{Metric: labels.FromStrings(kv...), F: v}
}

func (c cluster) Instant(_ context.Context, expr string, _ time.Time) (promql.Vector, error) {
	switch expr {
	case queries["partNodes"]:
		return promql.Vector{s(3, "partition", "gpu")}, nil
	case queries["partGPUs"]:
		return promql.Vector{s(24, "partition", "gpu")}, nil
	case queries["partAlloc"]:
		return promql.Vector{s(6, "partition", "gpu")}, nil
	case queries["partIdle"]:
		return promql.Vector{s(2, "partition", "gpu")}, nil
	case queries["partPending"]:
		return promql.Vector{s(1, "partition", "gpu")}, nil
	case queries["nodes"]:
		return promql.Vector{
			s(1, "node", "w1", "status", "mixed", "reason", ""),
			s(1, "node", "w2", "status", "drained", "reason", "fan replacement"),
			s(1, "node", "w3", "status", "down*", "reason", "Not responding"),
		}, nil
	case queries["jobs"]:
		return promql.Vector{
			s(1, "job_id", "10", "user", "alice", "account", "", "partition", "gpu", "state", "RUNNING", "reason", ""),
			s(1, "job_id", "9", "user", "bob", "account", "", "partition", "gpu", "state", "RUNNING", "reason", ""),
			s(1, "job_id", "11", "user", "carol", "account", "", "partition", "gpu", "state", "PENDING", "reason", "Resources"),
		}, nil
	case queries["jobGPUs"]:
		return promql.Vector{s(4, "job_id", "10"), s(2, "job_id", "9"), s(8, "job_id", "11")}, nil
	case queries["jobUtil"]:
		if c.failUtil {
			return nil, errors.New("query timed out")
		}
		return promql.Vector{s(88.4, "job_id", "10"), s(1, "job_id", "9")}, nil
	case queries["jobHosts"]:
		return promql.Vector{s(4, "job_id", "10", "hostname", "w1"), s(2, "job_id", "9", "hostname", "w1")}, nil
	}
	return nil, nil
}

func (cluster) Range(context.Context, string, time.Time, time.Time, time.Duration) (promql.Matrix, error) {
	return nil, nil
}

func get(t *testing.T, c cluster) *goquery.Document {
	t.Helper()
	e := echo.New()
	(&Page{Query: c}).Register(e)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/slurm", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /slurm: %d", rec.Code)
	}
	doc, err := goquery.NewDocumentFromReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// text is what a person reads: the cells of a row apart, spaces folded.
func text(s *goquery.Selection) string {
	if cells := s.First().Find("td"); cells.Length() > 0 {
		var parts []string
		cells.Each(func(_ int, c *goquery.Selection) { parts = append(parts, strings.Join(strings.Fields(c.Text()), " ")) })
		return strings.Join(parts, " ")
	}
	return strings.Join(strings.Fields(s.Text()), " ")
}

func TestSlurmPageShowsPartitionsNodesQueueAndJobs(t *testing.T) {
	doc := get(t, cluster{})
	if got := text(doc.Find(`[data-testid=partition]`)); got != "gpu 3 24 6 2 1" {
		t.Errorf("partition row %q", got)
	}
	var states []string
	doc.Find(`[data-testid=node-state]`).Each(func(_ int, s *goquery.Selection) { states = append(states, s.AttrOr("data-status", "")) })
	if strings.Join(states, ",") != "down*,drained,mixed" {
		t.Errorf("node states in order %v, want the ones needing someone first", states)
	}
	if got := text(doc.Find(`[data-status=drained] [data-testid=slurm-node]`)); got != "w2 : fan replacement" {
		t.Errorf("drained node %q", got)
	}
	if got := text(doc.Find(`[data-testid=pending-job]`)); got != "11 carol gpu 8 Resources" {
		t.Errorf("pending job %q", got)
	}
	rows := doc.Find(`[data-testid=running-job]`)
	if rows.Length() != 2 || !strings.HasPrefix(text(rows.First()), "9 bob") {
		t.Fatalf("running jobs: %d, first %q (want numeric order)", rows.Length(), text(rows.First()))
	}
	if got := text(rows.Eq(1)); got != "10 alice gpu RUNNING 4 w1 88 %" {
		t.Errorf("running job 10 %q", got)
	}
	if !rows.First().Find(`[data-testid=job-util]`).HasClass("idle-job") {
		t.Error("a running job whose GPUs idle is not marked")
	}
}

func TestSlurmPanelFailsAlone(t *testing.T) {
	doc := get(t, cluster{failUtil: true})
	if !strings.Contains(text(doc.Find(`section[aria-label="Running jobs"] [data-testid=panel-error]`)), "query timed out") {
		t.Error("the running-jobs panel does not say why it failed")
	}
	if doc.Find(`[data-testid=pending-job]`).Length() != 1 || doc.Find(`[data-testid=partition]`).Length() != 1 {
		t.Error("the other panels did not render")
	}
}
