package aggregator_test

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/rules"
	"github.com/gpu-watchdog/gpu-watchdog/web/formtest"
)

// login is an admin's form session with s.
func login(t testing.TB, s *aggregator.Server) *formtest.Client {
	t.Helper()
	return formtest.Login(t, "http://"+s.Addr(), filepath.Join(s.DataDir(), aggregator.AdminTokenFile))
}

// A rule is written, tested, saved, evaluated, exported, edited over a
// stale copy (refused), and deleted, all through the dashboard's forms; the
// rule file's rules stay read-only.
func TestRulesAreEditedInTheDashboard(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "file.yml"), []byte("groups:\n- name: files\n  rules:\n  - alert: FromAFile\n    expr: vector(0) > 1\n"), 0o600)
	s := startServer(t, "global: {evaluation_interval: 1s}\nrule_files: ["+filepath.Join(dir, "file.yml")+"]\n")
	b := login(t, s)

	b.Get("/alerts/rules/new") // its CSRF token
	rule := url.Values{"name": {"FleetTooCold"}, "expr": {`label_replace(vector(3), "node", "node-1", "", "") > 1`}, "for": {"0s"},
		"labels": {"severity: info"}, "annotations": {"summary: node {{ $labels.node }} is at {{ $value }}"}, "action": {"test"}}

	bad := url.Values{"name": {"Broken"}, "expr": {"sum(rate(x[5m])"}, "action": {"save"}}
	code, page := b.Post("/alerts/rules", bad)
	if code != http.StatusUnprocessableEntity || !strings.Contains(formtest.Text(page, "[data-testid=field-problem]"), "expression is not valid PromQL") {
		t.Fatalf("an invalid rule: %d %q", code, formtest.Text(page, "[data-testid=field-problem]"))
	}
	code, page = b.Post("/alerts/rules", rule)
	if code != 200 || formtest.Text(page, "[data-testid=fires-for]") != `node=node-1 severity=info = 3 (firing)` {
		t.Fatalf("testing the rule: %d %q", code, formtest.Text(page, "[data-testid=test-result]"))
	}
	if _, page := b.Get("/alerts"); page.Find(`[data-rule=FleetTooCold]`).Length() != 0 {
		t.Fatal("testing a rule saved it")
	}

	rule.Set("action", "save")
	if code, _ := b.Post("/alerts/rules", rule); code != http.StatusSeeOther {
		t.Fatalf("saving: %d", code)
	}
	_, page = b.Get("/alerts")
	row := page.Find(`[data-rule=FleetTooCold]`)
	if row.Find(`[data-testid=edit-rule]`).Length() != 1 || page.Find(`[data-rule=FromAFile] [data-testid=edit-rule]`).Length() != 0 ||
		formtest.Text(page, `[data-rule=FromAFile] [data-testid=rule-source]`) != "file, read-only" {
		t.Fatalf("the dashboard rule is not editable or the file rule is: %q", formtest.Text(page, `[data-testid=rules]`))
	}
	waitFiring(t, s, "FleetTooCold")

	resp, err := b.HTTP().Get(b.URL("/alerts/rules/export"))
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
	_, page = b.Get("/alerts/rules/FleetTooCold/edit")
	version, _ := page.Find(`input[name=version]`).Attr("value")
	edit := url.Values{"old_name": {"FleetTooCold"}, "version": {version}, "name": {"FleetTooCold"}, "expr": {"vector(5) > 1"}, "action": {"save"}}
	if code, _ := b.Post("/alerts/rules", edit); code != http.StatusSeeOther {
		t.Fatalf("editing: %d", code)
	}
	edit.Set("expr", "vector(7) > 1")
	if code, page := b.Post("/alerts/rules", edit); code != http.StatusConflict || !strings.Contains(formtest.Text(page, "[data-testid=form-error]"), "changed by someone else") {
		t.Fatalf("saving over a stale copy: %d %q", code, formtest.Text(page, "[data-testid=form-error]"))
	}

	_, page = b.Get("/alerts")
	version, _ = page.Find(`[data-rule=FleetTooCold] input[name=version]`).Attr("value")
	if code, _ := b.Post("/alerts/rules/FleetTooCold/delete", url.Values{"version": {version}}); code != http.StatusSeeOther {
		t.Fatalf("deleting: %d", code)
	}
	if _, page := b.Get("/alerts"); page.Find(`[data-rule=FleetTooCold]`).Length() != 0 {
		t.Error("the deleted rule is still listed")
	}
	_, page = b.Get("/audit")
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
