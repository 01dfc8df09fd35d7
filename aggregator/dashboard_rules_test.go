package aggregator_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/rules"
)

// browser is a logged-in admin's HTTP client: cookies kept, redirects not
// followed, the CSRF token read from the last page.
type browser struct {
	t    testing.TB
	base string
	c    *http.Client
	csrf string
}

func login(t testing.TB, s *aggregator.Server) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, base: "http://" + s.Addr(), c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	b.get("/login")
	token, err := os.ReadFile(filepath.Join(s.DataDir(), aggregator.AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := b.post("/login", url.Values{"password": {strings.TrimSpace(string(token))}}); code != http.StatusSeeOther {
		t.Fatalf("login with the admin token: %d", code)
	}
	return b
}

func (b *browser) do(req *http.Request) (int, *goquery.Document) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	if v, ok := doc.Find(`input[name=_csrf]`).First().Attr("value"); ok {
		b.csrf = v
	}
	return resp.StatusCode, doc
}

func (b *browser) get(path string) (int, *goquery.Document) {
	req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) (int, *goquery.Document) {
	form.Set("_csrf", b.csrf)
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func text(doc *goquery.Document, sel string) string {
	return strings.Join(strings.Fields(doc.Find(sel).Text()), " ")
}

// A rule is written, tested, saved, evaluated, exported, edited over a
// stale copy (refused), and deleted, all through the dashboard's forms; the
// rule file's rules stay read-only.
func TestRulesAreEditedInTheDashboard(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "file.yml"), []byte("groups:\n- name: files\n  rules:\n  - alert: FromAFile\n    expr: vector(0) > 1\n"), 0o600)
	s := startServer(t, "global: {evaluation_interval: 1s}\nrule_files: ["+filepath.Join(dir, "file.yml")+"]\n")
	b := login(t, s)

	b.get("/alerts/rules/new") // its CSRF token
	rule := url.Values{"name": {"FleetTooCold"}, "expr": {`label_replace(vector(3), "node", "node-1", "", "") > 1`}, "for": {"0s"},
		"labels": {"severity: info"}, "annotations": {"summary: node {{ $labels.node }} is at {{ $value }}"}, "action": {"test"}}

	bad := url.Values{"name": {"Broken"}, "expr": {"sum(rate(x[5m])"}, "action": {"save"}}
	code, page := b.post("/alerts/rules", bad)
	if code != http.StatusUnprocessableEntity || !strings.Contains(text(page, "[data-testid=field-problem]"), "expression is not valid PromQL") {
		t.Fatalf("an invalid rule: %d %q", code, text(page, "[data-testid=field-problem]"))
	}
	code, page = b.post("/alerts/rules", rule)
	if code != 200 || text(page, "[data-testid=fires-for]") != `node=node-1 severity=info = 3 (firing)` {
		t.Fatalf("testing the rule: %d %q", code, text(page, "[data-testid=test-result]"))
	}
	if _, page := b.get("/alerts"); page.Find(`[data-rule=FleetTooCold]`).Length() != 0 {
		t.Fatal("testing a rule saved it")
	}

	rule.Set("action", "save")
	if code, _ := b.post("/alerts/rules", rule); code != http.StatusSeeOther {
		t.Fatalf("saving: %d", code)
	}
	_, page = b.get("/alerts")
	row := page.Find(`[data-rule=FleetTooCold]`)
	if row.Find(`[data-testid=edit-rule]`).Length() != 1 || page.Find(`[data-rule=FromAFile] [data-testid=edit-rule]`).Length() != 0 ||
		text(page, `[data-rule=FromAFile] [data-testid=rule-source]`) != "file, read-only" {
		t.Fatalf("the dashboard rule is not editable or the file rule is: %q", text(page, `[data-testid=rules]`))
	}
	waitFiring(t, s, "FleetTooCold")

	resp, err := b.c.Get(b.base + "/alerts/rules/export")
	if err != nil {
		t.Fatal(err)
	}
	yml, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	groups, err := rules.Parse("export.yml", yml, rules.LoadOptions{})
	if err != nil || len(groups) != 1 || len(groups[0].Rules()) != 1 || groups[0].Rules()[0].Name() != "FleetTooCold" ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %v\n%s", err, yml)
	}

	// Two admins open the rule; the first saves; the second's save is refused.
	_, page = b.get("/alerts/rules/FleetTooCold/edit")
	version, _ := page.Find(`input[name=version]`).Attr("value")
	edit := url.Values{"old_name": {"FleetTooCold"}, "version": {version}, "name": {"FleetTooCold"}, "expr": {"vector(5) > 1"}, "action": {"save"}}
	if code, _ := b.post("/alerts/rules", edit); code != http.StatusSeeOther {
		t.Fatalf("editing: %d", code)
	}
	edit.Set("expr", "vector(7) > 1")
	if code, page := b.post("/alerts/rules", edit); code != http.StatusConflict || !strings.Contains(text(page, "[data-testid=form-error]"), "changed by someone else") {
		t.Fatalf("saving over a stale copy: %d %q", code, text(page, "[data-testid=form-error]"))
	}

	_, page = b.get("/alerts")
	version, _ = page.Find(`[data-rule=FleetTooCold] input[name=version]`).Attr("value")
	if code, _ := b.post("/alerts/rules/FleetTooCold/delete", url.Values{"version": {version}}); code != http.StatusSeeOther {
		t.Fatalf("deleting: %d", code)
	}
	if _, page := b.get("/alerts"); page.Find(`[data-rule=FleetTooCold]`).Length() != 0 {
		t.Error("the deleted rule is still listed")
	}
	_, page = b.get("/audit")
	var actions []string
	page.Find(`[data-testid=audit-entry]`).Each(func(_ int, e *goquery.Selection) { actions = append(actions, e.AttrOr("data-action", "")) })
	if strings.Join(actions, ",") != "rule.delete,rule.update,rule.update,rule.create,rule.create,login" {
		t.Errorf("audit log: %v", actions)
	}
}

// waitFiring waits until the rule manager has the rule firing.
func waitFiring(t *testing.T, s *aggregator.Server, name string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + s.Addr() + "/api/v1/alerts")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(b), `"alertname":"`+name+`"`) && strings.Contains(string(b), `"state":"firing"`) {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s never fired", name)
}
