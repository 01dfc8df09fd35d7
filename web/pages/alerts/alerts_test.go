package alerts

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
)

type source struct{ logErr error }

var t0 = time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC)

func (source) Alerts() []Alert {
	return []Alert{
		{Name: "GPUTemperatureHigh", State: "firing", Severity: "critical", Summary: "GPU 3 on node-7 is hot: 94°C",
			Labels: map[string]string{"alertname": "GPUTemperatureHigh", "gpu": "3", "instance": "node-7:9400"}, ActiveAt: t0},
		{Name: "GPUAllocatedButIdle", State: "pending", Severity: "warning", ActiveAt: t0},
	}
}

func (source) Rules() []Rule {
	return []Rule{
		{Group: "gpu", Name: "GPUTemperatureHigh", Alerting: true, State: "firing", Health: "ok", LastEvaluation: t0, Query: "DCGM_FI_DEV_GPU_TEMP >= 90"},
		{Group: "gpu", Name: "Broken", Alerting: true, State: "inactive", Health: "err", LastError: "many-to-many matching not allowed", LastEvaluation: t0},
	}
}

func (source) Silences() []Silence {
	return []Silence{{ID: "s1", Matchers: `alertname="GPUIdleCost"`, CreatedBy: "ana", Comment: "reserved for the demo", State: "active", EndsAt: t0.Add(time.Hour)}}
}

func (s source) Notifications(context.Context, int) ([]Notification, error) {
	if s.logErr != nil {
		return nil, s.logErr
	}
	return []Notification{{ID: 1, Receiver: "oncall", Title: "[FIRING:1] GPUTemperatureHigh", CreatedAt: t0, Deliveries: []Delivery{
		{Integration: "slack/0", Status: "delivered", Attempts: 3},
		{Integration: "discord/0", Status: "disabled-held", Attempts: 1, LastError: "404 Not Found: Unknown Webhook"},
	}}}, nil
}

func get(t *testing.T, src Source, query string) *goquery.Document {
	t.Helper()
	e := echo.New()
	(&Page{Source: src}).Register(e)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/alerts"+query, nil))
	if rec.Code != 200 {
		t.Fatalf("GET /alerts: %d", rec.Code)
	}
	doc, err := goquery.NewDocumentFromReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestAlertsPageTellsWhatFiresAndWhoHeard(t *testing.T) {
	doc := get(t, source{}, "?rule=Broken")
	if h := strings.Join(strings.Fields(doc.Find(`section[aria-label="Active alerts"] h2`).Text()), " "); h != "Firing (1) and pending (1)" {
		t.Errorf("heading %q", h)
	}
	firing := doc.Find(`[data-testid=active-alert][data-state=firing]`)
	if !strings.Contains(firing.Text(), "GPU 3 on node-7 is hot") || !strings.Contains(firing.Text(), "gpu=3 instance=node-7:9400") {
		t.Errorf("firing alert row %q", firing.Text())
	}
	broken := doc.Find(`[data-testid=rule][data-rule=Broken]`)
	if broken.Find(`[data-testid=rule-error]`).Text() != "many-to-many matching not allowed" || !broken.HasClass("chosen") {
		t.Errorf("the broken rule does not show its error or is not highlighted: %q", broken.Text())
	}
	if !strings.Contains(doc.Find(`[data-testid=silence]`).Text(), "reserved for the demo") {
		t.Error("silence not listed")
	}
	held := doc.Find(`[data-testid=delivery][data-status=disabled-held]`)
	if !strings.Contains(held.Text(), "Unknown Webhook") {
		t.Errorf("a held delivery does not say why: %q", held.Text())
	}
	if !strings.Contains(doc.Find(`[data-testid=delivery][data-status=delivered]`).Text(), "after 3 attempts") {
		t.Error("retries are not shown")
	}
}

func TestAlertsPageSurvivesAFailingLog(t *testing.T) {
	doc := get(t, source{logErr: errors.New("alerts.db is locked")}, "")
	if !strings.Contains(doc.Find(`[data-testid=panel-error]`).Text(), "alerts.db is locked") {
		t.Error("the failing notification log does not say why")
	}
	if doc.Find(`[data-testid=rule]`).Length() != 2 {
		t.Error("the rest of the page did not render")
	}
}
