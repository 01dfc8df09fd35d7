package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/gpu-watchdog/gpu-watchdog/web/webtest"
)

// TestDashboardInARealBrowser runs the real gpuwd with two simulated
// 8-GPU agents and looks at every page in headless Chromium: the GPU wall
// counts 16 tiles, an overheated GPU shows as unhealthy and its alert as
// firing, the pages render with JavaScript off, and nothing logs a console
// error, a hot GPU appears on an open page without a reload, an admin
// logs in and silences the alert from its row, and screenshots of each page
// are saved as test artefacts.
func TestDashboardInARealBrowser(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "gpuwd.yml")
	os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(hotRule), 0o600)
	hash, _ := bcrypt.GenerateFromPassword([]byte("correct horse"), bcrypt.MinCost)
	os.WriteFile(cfg, []byte("global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}\nrule_files: [rules.yml]\n"+
		"dashboard: {admins: [{username: alice, password_hash: '"+string(hash)+"'}]}\n"), 0o600)
	srv := launch(t, gpuwdBin, "serve", "--listen", "127.0.0.1:0", "--config", cfg, "--data-dir", filepath.Join(dir, "data"), "--token", "ui-token",
		"--dashboard-refresh", "1s", "--public-dashboard")
	base := "http://" + srv.addr
	var agents []*proc
	for i, spec := range []string{"h100x8", "a100x8"} {
		agents = append(agents, launch(t, agentBin, "--simulate", spec, "--simulate-stable", "--hostname", []string{"node-h100", "node-a100"}[i],
			"--cost-per-hour", "21.52", "--listen", "127.0.0.1:0", "--aggregator-url", base, "--token", "ui-token"))
	}
	post(t, "http://"+agents[0].addr+"/debug/sim/heat?gpu=5&celsius=96")

	b := webtest.Shared(t)
	nodes := b.Open(t, base+"/nodes")
	waitReload(t, nodes, func() bool { return nodes.Count(webtest.TestID("gpu-tile")) == 16 })
	waitReload(t, nodes, func() bool {
		return nodes.Attr(`[data-node="node-h100"][data-gpu="5"]`, "data-state") == "unhealthy"
	})
	if why := nodes.Text(`[data-node="node-h100"][data-gpu="5"] ` + webtest.TestID("gpu-why")); why != "hot" {
		t.Errorf("the hot GPU says %q", why)
	}
	nodes.Screenshot("nodes")
	nodes.NoConsoleErrors()

	overview := b.Open(t, base+"/")
	waitReload(t, overview, func() bool { return overview.Count(webtest.TestID("firing-alert")) == 1 })
	if got := overview.Text(webtest.TestID("gpus-total") + " " + webtest.TestID("tile-value")); got != "16" {
		t.Errorf("GPUs tile says %q", got)
	}
	if got := overview.Text(webtest.TestID("cost-hour") + " " + webtest.TestID("tile-value")); got != "$43.04" {
		t.Errorf("cost tile says %q", got)
	}
	if !strings.Contains(overview.Text(webtest.TestID("firing-alert")), "GPU 5 on node-h100 at 96 °C") {
		t.Errorf("firing alert row: %q", overview.Text(webtest.TestID("firing-alert")))
	}
	overview.Screenshot("overview")
	b.Open(t, base+"/", webtest.ColorScheme("dark")).Screenshot("overview-dark")

	node := b.Open(t, base+"/nodes/node-h100")
	waitReload(t, node, func() bool { return node.Count(`[data-testid=chart-util] svg[data-testid=chart] path`) > 0 })
	if n := node.Count(`svg[data-testid=chart]`); n < 5 {
		t.Errorf("the node page draws %d charts", n)
	}
	node.Screenshot("node")

	alerts := b.Open(t, base+"/alerts")
	if alerts.Count(`[data-testid=active-alert][data-state=firing]`) != 1 {
		t.Error("the Alerts page does not list the firing alert")
	}
	alerts.Screenshot("alerts")
	targets := b.Open(t, base+"/targets")
	waitReload(t, targets, func() bool { return targets.Count(`[data-testid=target][data-health=up]`) == 3 }) // two agents and gpuwd itself
	targets.Screenshot("targets")
	slurm := b.Open(t, base+"/slurm")
	if slurm.Count(webtest.TestID("no-slurm")) != 1 {
		t.Error("the Slurm page does not say there is no cluster")
	}
	slurm.Screenshot("slurm")
	for _, p := range []string{"/", "/nodes", "/nodes/node-a100?range=6h", "/alerts", "/targets", "/slurm"} {
		b.Open(t, base+p).NoConsoleErrors()
	}

	// Live refresh: a GPU overheats while the wall is open; the tile turns
	// unhealthy without the page being reloaded (a mark left on window
	// survives).
	live := b.Open(t, base+"/nodes")
	live.Eval(`window.stayed = 42`, nil)
	post(t, "http://"+agents[1].addr+"/debug/sim/heat?gpu=2&celsius=97")
	live.WaitText(`[data-node="node-a100"][data-gpu="2"] `+webtest.TestID("gpu-why"), "hot")
	var stayed int
	live.Eval(`window.stayed || 0`, &stayed)
	if stayed != 42 {
		t.Error("the page was reloaded instead of refreshed in place")
	}
	live.NoConsoleErrors()

	loginAndSilence(t, b, base)

	// Without JavaScript every page still renders: it is all server-side.
	nojs := b.OpenNoJS(t, base+"/nodes")
	if n := nojs.Count(webtest.TestID("gpu-tile")); n != 16 {
		t.Errorf("without JavaScript the wall shows %d tiles", n)
	}
}

// waitReload reloads p until ok holds (the pages do not refresh by
// themselves yet).
func waitReload(t *testing.T, p *webtest.Page, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s never showed what the test waits for", p.URL())
		}
		time.Sleep(250 * time.Millisecond)
		p.Navigate(p.URL())
	}
}

// loginAndSilence logs in as an admin, silences the firing alert from its
// row on the Alerts page, finds it in the audit log, expires it and logs
// out, all in one tab as a person would.
func loginAndSilence(t *testing.T, b *webtest.Browser, base string) {
	p := b.Open(t, base+"/alerts")
	if p.Count(webtest.TestID("silence-alert")) != 0 {
		t.Fatal("a visitor who has not logged in sees the Silence button")
	}
	p.ClickAndWait(webtest.TestID("login-link"))
	p.Fill(`input[name=username]`, "alice")
	p.Fill(`input[name=password]`, "correct horse")
	p.Submit(webtest.TestID("login-form"))
	if !strings.HasSuffix(p.URL(), "/alerts") || p.Text(webtest.TestID("user")) != "alice" {
		t.Fatalf("after logging in: at %s as %q", p.URL(), p.Text(webtest.TestID("user")))
	}
	p.ClickAndWait(webtest.TestID("silence-alert"))
	if m := p.Value(webtest.TestID("matchers")); !strings.Contains(m, `alertname="GPUOverheating"`) || !strings.Contains(m, `hostname="node-h100"`) {
		t.Errorf("the silence form is not filled from the alert: %q", m)
	}
	p.Fill(webtest.TestID("comment"), "fan swap on node-h100")
	p.Screenshot("silence-form")
	p.Submit(webtest.TestID("silence-form"))
	if p.Text(webtest.TestID("notice")) != "Silence created." {
		t.Fatalf("after creating the silence: %d %q", p.Status(), p.Text("main"))
	}
	if row := p.Text(`[data-testid=silence][data-state=active]`); !strings.Contains(row, "fan swap on node-h100") || !strings.Contains(row, "alice") {
		t.Errorf("the silence row: %q", row)
	}
	p.Screenshot("alerts-silenced")

	// A rule is written, tested on current data and saved.
	p.ClickAndWait(webtest.TestID("new-rule"))
	p.Fill(webtest.TestID("rule-name"), "H100Warm")
	p.Fill(webtest.TestID("rule-expr"), `DCGM_FI_DEV_GPU_TEMP{hostname="node-h100"} > 90`)
	p.Submit(webtest.TestID("test-rule"))
	if got := p.Texts(webtest.TestID("fires-for")); len(got) != 1 || !strings.Contains(got[0], `gpu=5`) {
		t.Errorf("the rule's test says it would fire for %q; want GPU 5 of node-h100", got)
	}
	p.Screenshot("rule-test")
	p.Submit(webtest.TestID("save-rule"))
	if p.Count(`[data-testid=rule][data-rule=H100Warm] `+webtest.TestID("edit-rule")) != 1 {
		t.Errorf("the saved rule is not listed as editable: %q", p.Text(webtest.TestID("notice")))
	}

	p.Navigate(base + "/audit")
	if got := p.Texts(`[data-testid=audit-entry] td:nth-child(4)`); strings.Join(got, ",") != "rule.create,silence.create,login" {
		t.Errorf("audit log actions, newest first: %q", got)
	}
	p.Screenshot("audit")
	p.Navigate(base + "/alerts")
	p.Submit(webtest.TestID("expire-silence"))
	if p.Text(webtest.TestID("notice")) != "Silence expired." || p.Count(`[data-testid=silence][data-state=active]`) != 0 {
		t.Errorf("after expiring: %q", p.Text(webtest.TestID("notice")))
	}
	p.Submit(`form[action="/logout"]`)
	p.Navigate(base + "/alerts")
	if p.Count(webtest.TestID("login-link")) != 1 || p.Count(webtest.TestID("expire-silence")) != 0 {
		t.Error("after logging out the page still shows the admin's buttons")
	}
	p.NoConsoleErrors()
}
