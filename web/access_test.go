package web

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/crypto/bcrypt"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/alertdb"
	"github.com/gpu-watchdog/gpu-watchdog/internal/audit"
	"github.com/gpu-watchdog/gpu-watchdog/web/auth"
	alertspage "github.com/gpu-watchdog/gpu-watchdog/web/pages/alerts"
)

// alerting is one firing alert and the silences made through the page.
type alerting struct{ silenced []string }

func (a *alerting) Alerts() []alertspage.Alert {
	return []alertspage.Alert{{Name: "GPUOverheating", State: "firing", Severity: "critical",
		Labels: map[string]string{"alertname": "GPUOverheating", "hostname": "node-1", "gpu": "3"}, ActiveAt: time.Now()}}
}
func (a *alerting) Rules() []alertspage.Rule { return nil }
func (a *alerting) Silences() []alertspage.Silence {
	var out []alertspage.Silence
	for i, m := range a.silenced {
		out = append(out, alertspage.Silence{ID: string(rune('a' + i)), Matchers: m, State: "active", EndsAt: time.Now().Add(time.Hour)})
	}
	return out
}
func (a *alerting) Notifications(context.Context, int) ([]alertspage.Notification, error) {
	return nil, nil
}
func (a *alerting) AddSilence(_ context.Context, ms []string, d time.Duration, author, comment string) (string, error) {
	a.silenced = append(a.silenced, strings.Join(ms, " ")+" by "+author+": "+comment)
	return string(rune('a' + len(a.silenced) - 1)), nil
}
func (a *alerting) ExpireSilence(context.Context, string) error { return nil }
func (a *alerting) Reload(context.Context) error                { return nil }

type site struct {
	url    string
	client *http.Client
	alerts *alerting
	audit  *audit.Log
}

func newSite(t *testing.T, public bool) *site {
	t.Helper()
	ctx := context.Background()
	db, err := alertdb.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	hash, _ := bcrypt.GenerateFromPassword([]byte("correct horse"), bcrypt.MinCost)
	a, err := auth.New(ctx, auth.Options{DB: db, Public: public, Credentials: auth.Credentials{Admins: map[string][]byte{"alice": hash}}})
	if err != nil {
		t.Fatal(err)
	}
	log, err := audit.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	s := &site{alerts: &alerting{}, audit: log}
	srv := httptest.NewServer(New(Options{Targets: noTargets{}, Alerting: s.alerts, AlertActions: s.alerts, Auth: a, Audit: log, Version: "test", Refresh: time.Second}))
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	s.url = srv.URL
	s.client = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return s
}

func (s *site) get(t *testing.T, path string) (*http.Response, *goquery.Document) {
	t.Helper()
	resp, err := s.client.Get(s.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, _ := goquery.NewDocumentFromReader(resp.Body)
	return resp, doc
}

// post sends a form as a script without Fetch Metadata would: the CSRF
// token must be in it.
func (s *site) post(t *testing.T, path string, form url.Values) (*http.Response, *goquery.Document) {
	t.Helper()
	resp, err := s.client.PostForm(s.url+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, _ := goquery.NewDocumentFromReader(resp.Body)
	return resp, doc
}

func csrfOf(doc *goquery.Document) string {
	v, _ := doc.Find(`input[name=_csrf]`).First().Attr("value")
	return v
}

func TestPrivateDashboardAsksForALoginFirst(t *testing.T) {
	s := newSite(t, false)
	resp, _ := s.get(t, "/alerts?rule=x")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next="+url.QueryEscape("/alerts?rule=x") {
		t.Fatalf("GET /alerts without a login: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, doc := s.get(t, "/login?next=%2Falerts")
	if resp.StatusCode != 200 || doc.Find(`[data-testid=login-form]`).Length() != 1 {
		t.Fatalf("login page: %d", resp.StatusCode)
	}
	token := csrfOf(doc)

	// A login form without the CSRF token is refused.
	if resp, _ := s.post(t, "/login", url.Values{"username": {"alice"}, "password": {"correct horse"}}); resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusForbidden {
		t.Errorf("login without the CSRF token: %d", resp.StatusCode)
	}
	resp, doc = s.post(t, "/login", url.Values{"_csrf": {token}, "username": {"alice"}, "password": {"wrong"}, "next": {"/alerts"}})
	if resp.StatusCode != http.StatusUnauthorized || doc.Find(`[data-testid=login-error]`).Text() != auth.ErrBadLogin.Error() {
		t.Errorf("wrong password: %d %q", resp.StatusCode, doc.Find(`[data-testid=login-error]`).Text())
	}
	// A page that answers a form has no address to fetch again: it does
	// not refresh itself.
	if got, _ := doc.Find(`meta[name=gpuwd-refresh]`).Attr("content"); got != "0" {
		t.Errorf("the page answering a POST refreshes every %q s", got)
	}
	resp, _ = s.post(t, "/login", url.Values{"_csrf": {token}, "username": {"alice"}, "password": {"correct horse"}, "next": {"/alerts"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/alerts" {
		t.Fatalf("login: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, doc = s.get(t, "/alerts")
	if doc.Find(`[data-testid=user]`).Text() != "alice" || doc.Find(`[data-testid=silence-alert]`).Length() != 1 {
		t.Fatalf("logged in, the page shows no user or no Silence button:\n%s", doc.Find("header").Text())
	}

	entries, err := s.audit.List(context.Background(), audit.Filter{Action: "login"})
	if err != nil || len(entries) != 2 || entries[0].Result != audit.OK || entries[0].User != "alice" || entries[1].Result != auth.ErrBadLogin.Error() {
		t.Errorf("audit of the logins: %+v %v", entries, err)
	}
}

func TestAnAdminSilencesAnAlertFromItsRow(t *testing.T) {
	s := newSite(t, false)
	_, doc := s.get(t, "/login")
	s.post(t, "/login", url.Values{"_csrf": {csrfOf(doc)}, "username": {"alice"}, "password": {"correct horse"}})
	_, doc = s.get(t, "/alerts")
	link, _ := doc.Find(`[data-testid=silence-alert]`).Attr("href")
	_, form := s.get(t, link)
	matchers := form.Find(`[data-testid=matchers]`).Text()
	if matchers != "alertname=\"GPUOverheating\"\ngpu=\"3\"\nhostname=\"node-1\"" {
		t.Fatalf("the form is not filled with the alert's labels: %q", matchers)
	}
	values := url.Values{"matchers": {matchers}, "duration": {"2h"}, "comment": {"fan swap"}}

	if resp, _ := s.post(t, "/alerts/silences", values); resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusForbidden {
		t.Errorf("silence without the CSRF token: %d", resp.StatusCode)
	}
	values.Set("_csrf", csrfOf(form))
	values.Set("duration", "soon")
	resp, page := s.post(t, "/alerts/silences", values)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page.Find(`[data-testid=form-error]`).Text(), `duration "soon"`) ||
		page.Find(`[data-testid=comment]`).AttrOr("value", "") != "fan swap" {
		t.Errorf("bad duration: %d %q; the form must keep what was typed", resp.StatusCode, page.Find(`[data-testid=form-error]`).Text())
	}
	values.Set("duration", "2h")
	resp, _ = s.post(t, "/alerts/silences", values)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/alerts?done=silence-created") {
		t.Fatalf("silence: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, doc = s.get(t, resp.Header.Get("Location"))
	if doc.Find(`[data-testid=notice]`).Text() != "Silence created." || !strings.Contains(doc.Find(`[data-testid=silence]`).Text(), "by alice: fan swap") {
		t.Errorf("after the silence: notice %q, silences %q", doc.Find(`[data-testid=notice]`).Text(), doc.Find(`[data-testid=silence]`).Text())
	}
	entries, _ := s.audit.List(context.Background(), audit.Filter{Action: "silence.create"})
	if len(entries) != 1 || entries[0].User != "alice" || entries[0].Result != audit.OK || !strings.Contains(entries[0].Detail, `hostname="node-1"`) {
		t.Errorf("audit: %+v", entries)
	}
}

func TestAPublicDashboardShowsPagesButNoActionsWithoutALogin(t *testing.T) {
	s := newSite(t, true)
	resp, doc := s.get(t, "/alerts")
	if resp.StatusCode != 200 || doc.Find(`[data-testid=active-alert]`).Length() != 1 {
		t.Fatalf("public /alerts: %d", resp.StatusCode)
	}
	if doc.Find(`[data-testid=silence-alert]`).Length() != 0 || doc.Find(`[data-testid=login-link]`).Length() != 1 {
		t.Error("a visitor sees the admin's buttons, or no way to log in")
	}
	if resp, _ := s.get(t, "/alerts/silences/new"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the silence form without a login: %d", resp.StatusCode)
	}
	if resp, _ := s.get(t, "/audit"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the audit log without a login: %d", resp.StatusCode)
	}
	// Even with a valid CSRF token, an action needs a login.
	_, login := s.get(t, "/login")
	resp, _ = s.post(t, "/alerts/silences", url.Values{"_csrf": {csrfOf(login)}, "matchers": {"alertname=x"}, "duration": {"1h"}, "comment": {"x"}})
	if resp.StatusCode != http.StatusForbidden || len(s.alerts.silenced) != 0 {
		t.Errorf("silence without a login: %d, %d silences", resp.StatusCode, len(s.alerts.silenced))
	}
}
