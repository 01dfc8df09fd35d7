package aggregator_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator"
)

// TestReloadKeepsAlertingWhenAFileIsBad: a bad rule file or Alertmanager
// configuration makes Reload fail with the file and the problem, and the
// running rules and routing stay; a good one applies.
func TestReloadKeepsAlertingWhenAFileIsBad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	oneRule := "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: vector(1)\n"
	twoRules := oneRule + "  - alert: B\n    expr: vector(2)\n"
	routing := "route:\n  receiver: chat\nreceivers:\n  - name: chat\n    webhook_configs:\n      - url: http://127.0.0.1:9/hook\n"
	write("rules.yml", oneRule)
	write("alerting.yml", routing)
	write("gpuwd.yml", "rule_files: [rules.yml]\nalerting:\n  config_file: alerting.yml\n")
	opts := aggregator.DefaultOptions()
	opts.ConfigFile, opts.Listen, opts.DataDir, opts.SelfScrape = filepath.Join(dir, "gpuwd.yml"), "127.0.0.1:0", filepath.Join(dir, "data"), false
	opts.EnableLifecycle = true
	s, err := aggregator.New(context.Background(), opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	base := "http://" + s.Addr()

	rules := func() int {
		t.Helper()
		var body struct {
			Data struct{ Groups []struct{ Rules []any } }
		}
		getJSON(t, base+"/api/v1/rules", &body)
		n := 0
		for _, g := range body.Data.Groups {
			n += len(g.Rules)
		}
		return n
	}
	receivers := func() string {
		t.Helper()
		var body []struct{ Name string }
		getJSON(t, base+"/api/v2/receivers", &body)
		names := []string{}
		for _, r := range body {
			names = append(names, r.Name)
		}
		return strings.Join(names, ",")
	}
	if n := rules(); n != 1 {
		t.Fatalf("%d rules at start, want 1", n)
	}

	write("rules.yml", "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: rate(\n")
	if err := s.Reload(); err == nil || !strings.Contains(err.Error(), "rules.yml") || !strings.Contains(err.Error(), "could not parse expression") {
		t.Errorf("reload with a bad rule file: %v", err)
	}
	write("rules.yml", twoRules)
	write("alerting.yml", strings.Replace(routing, "receiver: chat", "receiver: nobody", 1))
	if err := s.Reload(); err == nil || !strings.Contains(err.Error(), `undefined receiver "nobody"`) {
		t.Errorf("reload with a bad alerting config: %v", err)
	}
	if n, r := rules(), receivers(); n != 1 || r != "chat" {
		t.Fatalf("after failed reloads: %d rules, receivers %q; want the running 1 rule and chat", n, r)
	}

	write("alerting.yml", strings.ReplaceAll(routing, "chat", "oncall"))
	resp, err := http.Post(base+"/-/reload", "", nil) // as SIGHUP, over HTTP
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST /-/reload: %d", resp.StatusCode)
	}
	if n, r := rules(), receivers(); n != 2 || r != "oncall" {
		t.Fatalf("after a good reload: %d rules, receivers %q", n, r)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
