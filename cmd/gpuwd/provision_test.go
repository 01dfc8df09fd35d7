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

// TestProvisioningLocalPodsInARealBrowser launches two pods on the local
// provider from the dashboard in headless Chromium, as an admin: the price
// is confirmed first, each launch is followed until its agent has
// registered, their GPUs join the wall, and a pod is stopped after a
// confirmation. Everything is in the audit log.
func TestProvisioningLocalPodsInARealBrowser(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "gpuwd.yml")
	hash, _ := bcrypt.GenerateFromPassword([]byte("correct horse"), bcrypt.MinCost)
	os.WriteFile(cfg, []byte("global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}\n"+
		"dashboard: {admins: [{username: alice, password_hash: '"+string(hash)+"'}]}\n"+
		"provision: {local: {agent_binary: '"+agentBin+"'}}\n"), 0o600)
	srv := launch(t, gpuwdBin, "serve", "--listen", "127.0.0.1:0", "--config", cfg, "--data-dir", filepath.Join(dir, "data"),
		"--token", "ui-token", "--dashboard-refresh", "1s", "--public-dashboard")
	base := "http://" + srv.addr

	b := webtest.Shared(t)
	p := b.Open(t, base+"/provision")
	if p.Count(webtest.TestID("launch-form")) != 0 {
		t.Fatal("a visitor sees the launch form")
	}
	p.Navigate(base + "/login?next=/provision")
	p.Fill(`input[name=username]`, "alice")
	p.Fill(`input[name=password]`, "correct horse")
	p.Submit(webtest.TestID("login-form"))
	if !strings.HasSuffix(p.URL(), "/provision") {
		t.Fatalf("after logging in: at %s", p.URL())
	}
	p.Fill(webtest.TestID("offer"), "local/h100")
	p.Fill(webtest.TestID("gpu-count"), "2")
	p.Fill(webtest.TestID("count"), "2")
	p.Fill(webtest.TestID("role"), "")
	p.Fill(webtest.TestID("name"), "burst")
	p.Submit(webtest.TestID("launch-form"))
	if got := p.Text(webtest.TestID("launch-price")); !strings.Contains(got, "$10.76 per hour in all ($5.38 per pod)") {
		t.Errorf("the confirmation's price: %q", got)
	}
	p.Screenshot("provision-confirm")
	launched := time.Now()
	p.Submit(webtest.TestID("confirm-launch"))
	if p.Text(webtest.TestID("notice")) != "Launch requested; follow it below." {
		t.Fatalf("after confirming: %d %q", p.Status(), p.Text("main"))
	}
	// The page follows the launches by itself (no reload).
	p.WaitCount(`[data-testid=launch][data-stage=registered]`, 2)
	t.Logf("both pods registered %v after the launch was confirmed", time.Since(launched).Round(100*time.Millisecond))
	if got := p.Texts(`[data-testid=launch] [data-testid=stage-running]`); len(got) != 2 || !strings.HasPrefix(got[0], "+") {
		t.Errorf("when the pods ran: %q", got)
	}
	p.WaitCount(`[data-testid=pod][data-status=RUNNING]`, 2)
	p.Screenshot("provision-launched")

	nodes := b.Open(t, base+"/nodes")
	waitReload(t, nodes, func() bool { return nodes.Count(webtest.TestID("gpu-tile")) == 4 })

	p.ClickAndWait(`[data-testid=pod][data-name=burst-1] ` + webtest.TestID("pod-stop"))
	if !strings.Contains(p.Text(webtest.TestID("confirm-action")), "volume is kept") {
		t.Errorf("the stop confirmation: %q", p.Text("main"))
	}
	p.Submit(webtest.TestID("confirm-action"))
	p.WaitCount(`[data-testid=pod][data-name=burst-1][data-status=EXITED]`, 1)
	if got := p.Text(webtest.TestID("pods-cost") + " " + webtest.TestID("tile-value")); got != "$5.38" {
		t.Errorf("running pods cost %q after one stopped", got)
	}

	p.Navigate(base + "/audit")
	if got := strings.Join(p.Texts(`[data-testid=audit-entry] td:nth-child(4)`), ","); got != "provision.stop,provision.launch,login" {
		t.Errorf("audit actions: %q", got)
	}
	p.NoConsoleErrors()
}
