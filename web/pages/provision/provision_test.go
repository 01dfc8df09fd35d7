package provision

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/alertdb"
	"github.com/gpu-watchdog/gpu-watchdog/internal/audit"
	"github.com/gpu-watchdog/gpu-watchdog/web/ui"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// fleet is a Provisioner with two providers, one of which cannot list.
type fleet struct {
	mu       sync.Mutex
	launched []provision.Request
	acted    []string
}

func (*fleet) Providers() []string { return []string{"local", "runpod"} }
func (*fleet) Offers(_ context.Context, p string) ([]provision.Offer, error) {
	if p == "runpod" {
		return []provision.Offer{{GPUType: "NVIDIA H100 80GB HBM3", DisplayName: "H100 SXM", MemoryGB: 80, SecurePrice: 2.99, CommunityPrice: 2.69}}, nil
	}
	return []provision.Offer{{GPUType: "h100", DisplayName: "H100 (simulated)", SecurePrice: 2.69}}, nil
}
func (f *fleet) Launch(_ context.Context, r provision.Request) ([]provision.Launch, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.launched = append(f.launched, r)
	return nil, nil
}
func (*fleet) Launches() []provision.Launch {
	return []provision.Launch{
		{ID: "a1", Provider: "local", User: "ada", Stage: provision.StageRegistered, Spec: provision.PodSpec{Name: "train-1", GPUType: "h100", GPUCount: 8, Role: provision.RoleWorker},
			Reached: map[provision.Stage]time.Time{provision.StageRequested: t0, provision.StageProvisioning: t0.Add(time.Second),
				provision.StageRunning: t0.Add(3 * time.Second), provision.StageRegistered: t0.Add(4 * time.Second)}},
		{ID: "a2", Provider: "runpod", User: "ada", Stage: provision.StageFailed, Error: "create: no longer any instances available",
			Spec: provision.PodSpec{Name: "train-2", GPUType: "h100", GPUCount: 8}, Reached: map[provision.Stage]time.Time{provision.StageRequested: t0}},
	}
}
func (*fleet) Pods(context.Context) ([]provision.ListedPod, map[string]error) {
	return []provision.ListedPod{
		{Provider: "local", Pod: provision.Pod{ID: "local-1", Name: "train-1", Status: provision.StatusRunning, GPUType: "h100", GPUCount: 8, CostPerHour: 21.52, Uptime: 90 * time.Minute}},
		{Provider: "local", Pod: provision.Pod{ID: "local-2", Name: "old", Status: provision.StatusExited, GPUType: "h100", GPUCount: 1, CostPerHour: 0.01}},
	}, map[string]error{"runpod": errors.New("401 Unauthorized: check runpod.api_key_file")}
}
func (f *fleet) Act(_ context.Context, provider, id string, a provision.Action) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acted = append(f.acted, fmt.Sprintf("%s %s/%s", a, provider, id))
	return nil
}

// engine answers the utilisation query for node train-1 and nothing else.
type engine struct{}

func (engine) Instant(_ context.Context, expr string, t time.Time) (promql.Vector, error) {
	if strings.Contains(expr, "by (hostname)") {
		return promql.Vector{{Metric: labels.FromStrings("hostname", "train-1"), F: 87, T: t.UnixMilli()}}, nil
	}
	return nil, nil
}
func (engine) Range(context.Context, string, time.Time, time.Time, time.Duration) (promql.Matrix, error) {
	return nil, nil
}

func newServer(t *testing.T, p Provisioner, admin string) (*echo.Echo, *audit.Log) {
	t.Helper()
	db, err := alertdb.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	log, err := audit.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.SetRequest(c.Request().WithContext(ui.WithViewer(c.Request().Context(), ui.Viewer{User: admin})))
			return next(c)
		}
	})
	pg := &Page{Provisioner: p, Query: engine{}, Audit: log, Now: func() time.Time { return t0.Add(time.Minute) },
		PodNodes: func() map[string]string { return map[string]string{"local-1": "train-1"} }}
	pg.Register(e)
	return e, log
}

func do(t *testing.T, e *echo.Echo, method, path string, form url.Values) (*httptest.ResponseRecorder, *goquery.Document) {
	t.Helper()
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatal(err)
	}
	return rec, doc
}

func TestWithoutAProviderThePageSaysHowToConfigureOne(t *testing.T) {
	e, _ := newServer(t, nil, "")
	_, doc := do(t, e, http.MethodGet, "/provision", nil)
	if !strings.Contains(doc.Find("[data-testid=provision-off]").Text(), "provision:") {
		t.Errorf("page: %s", doc.Find("main").Text())
	}
}

func TestVisitorsSeePodsAndLaunchesButCannotAct(t *testing.T) {
	e, _ := newServer(t, &fleet{}, "")
	rec, doc := do(t, e, http.MethodGet, "/provision", nil)
	if rec.Code != 200 {
		t.Fatalf("%d", rec.Code)
	}
	if got := doc.Find("[data-testid=pods-cost] [data-testid=tile-value]").Text(); got != "$21.52" {
		t.Errorf("running pods cost %q (stopped ones do not count)", got)
	}
	pod := doc.Find(`[data-testid=pod][data-name=train-1]`)
	if got := strings.TrimSpace(pod.Find("[data-testid=pod-util]").Text()); got != "87%" {
		t.Errorf("pod GPU use %q", got)
	}
	if !strings.Contains(pod.Text(), "$32.28") {
		t.Errorf("cost since start (21.52 × 1.5 h) not in %q", pod.Text())
	}
	if !strings.Contains(doc.Find("[data-testid=provider-error]").Text(), "runpod: 401") {
		t.Errorf("a provider that cannot list says so: %q", doc.Find("[data-testid=provider-error]").Text())
	}
	l := doc.Find(`[data-testid=launch][data-name=train-1]`)
	if l.AttrOr("data-stage", "") != "registered" || strings.TrimSpace(l.Find("[data-testid=stage-running]").Text()) != "+3s" ||
		strings.TrimSpace(l.Find("[data-testid=stage-slurm-idle]").Text()) != "…" {
		t.Errorf("launch row: %q", l.Text())
	}
	if got := doc.Find(`[data-testid=launch][data-name=train-2] [data-testid=launch-error]`).Text(); !strings.Contains(got, "no longer any instances") {
		t.Errorf("failed launch error %q", got)
	}
	if doc.Find("[data-testid=launch-form]").Length() != 0 || doc.Find("[data-testid=pod-stop]").Length() != 0 {
		t.Error("a visitor is offered actions")
	}
	if rec, _ := do(t, e, http.MethodPost, "/provision/launch", url.Values{"offer": {"local/h100"}}); rec.Code != http.StatusForbidden && rec.Code != http.StatusUnauthorized {
		t.Errorf("a visitor's launch: %d", rec.Code)
	}
}

func TestAnAdminLaunchesAfterConfirmingThePrice(t *testing.T) {
	f := &fleet{}
	e, log := newServer(t, f, "ada")
	_, doc := do(t, e, http.MethodGet, "/provision", nil)
	if n := doc.Find("[data-testid=offer] option").Length(); n != 2 {
		t.Errorf("%d GPU types offered, want 2", n)
	}
	if got := doc.Find(`[data-testid=offer] option[value="runpod/NVIDIA H100 80GB HBM3"]`).Text(); !strings.Contains(got, "secure $2.99, community $2.69") {
		t.Errorf("offer %q", got)
	}
	form := url.Values{"offer": {"runpod/NVIDIA H100 80GB HBM3"}, "gpu_count": {"8"}, "count": {"2"}, "cloud": {"SECURE"}, "role": {"worker"}, "name": {"train"}}
	rec, doc := do(t, e, http.MethodPost, "/provision/launch", form)
	if rec.Code != 200 || doc.Find("[data-testid=confirm-launch]").Length() != 1 {
		t.Fatalf("no confirmation: %d %s", rec.Code, doc.Text())
	}
	if got := doc.Find("[data-testid=launch-price]").Text(); !strings.Contains(got, "$47.84 per hour in all ($23.92 per pod)") {
		t.Errorf("price %q", got)
	}
	if len(f.launched) != 0 {
		t.Fatal("launched before confirming")
	}
	form.Set("confirm", "yes")
	rec, _ = do(t, e, http.MethodPost, "/provision/launch", form)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/provision?done=launched" {
		t.Fatalf("confirmed launch: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	want := provision.Request{Provider: "runpod", GPUType: "NVIDIA H100 80GB HBM3", GPUCount: 8, Count: 2, Cloud: provision.CloudSecure, Role: provision.RoleWorker, Name: "train", User: "ada"}
	if len(f.launched) != 1 || f.launched[0] != want {
		t.Errorf("launched %+v", f.launched)
	}
	entries, err := log.List(context.Background(), audit.Filter{})
	if err != nil || len(entries) != 1 || entries[0].Action != "provision.launch" || entries[0].User != "ada" || entries[0].Result != "ok" {
		t.Errorf("audit: %+v %v", entries, err)
	}
}

func TestALaunchFormWithMistakesSaysWhereAndLaunchesNothing(t *testing.T) {
	f := &fleet{}
	e, _ := newServer(t, f, "ada")
	rec, doc := do(t, e, http.MethodPost, "/provision/launch", url.Values{"offer": {"runpod/A100"}, "gpu_count": {"x"}, "count": {"40"},
		"cloud": {"SECURE"}, "role": {"head"}, "confirm": {"yes"}})
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("%d", rec.Code)
	}
	problems := doc.Find("[data-testid=field-problem]").Text()
	for _, want := range []string{"choose a GPU type", "whole number of GPUs", "pods must be 1 to 32"} {
		if !strings.Contains(problems, want) {
			t.Errorf("problems %q lack %q", problems, want)
		}
	}
	if len(f.launched) != 0 {
		t.Error("launched anyway")
	}
}

func TestStopAsksFirstAndIsAudited(t *testing.T) {
	f := &fleet{}
	e, log := newServer(t, f, "ada")
	_, doc := do(t, e, http.MethodGet, "/provision", nil)
	href, _ := doc.Find(`[data-testid=pod][data-name=train-1] [data-testid=pod-stop]`).Attr("href")
	if href != "/provision/pods/local/local-1/stop" {
		t.Fatalf("stop link %q", href)
	}
	if doc.Find(`[data-testid=pod][data-name=old] [data-testid=pod-resume]`).Length() != 1 {
		t.Error("a stopped pod offers no resume")
	}
	_, doc = do(t, e, http.MethodGet, href, nil)
	if !strings.Contains(doc.Find("[data-testid=confirm-action]").Text(), "volume is kept") {
		t.Errorf("confirmation: %q", doc.Text())
	}
	if len(f.acted) != 0 {
		t.Fatal("stopped before confirming")
	}
	rec, _ := do(t, e, http.MethodPost, href, url.Values{})
	if rec.Code != http.StatusSeeOther || len(f.acted) != 1 || f.acted[0] != "stop local/local-1" {
		t.Errorf("stop: %d %v", rec.Code, f.acted)
	}
	if rec, _ := do(t, e, http.MethodPost, "/provision/pods/local/local-1/explode", url.Values{}); rec.Code != http.StatusNotFound {
		t.Errorf("unknown action: %d", rec.Code)
	}
	entries, _ := log.List(context.Background(), audit.Filter{})
	if len(entries) != 1 || entries[0].Action != "provision.stop" || entries[0].Target != "local/local-1" {
		t.Errorf("audit %+v", entries)
	}
}
