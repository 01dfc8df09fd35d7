package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/chattest"
	"github.com/gpu-watchdog/gpu-watchdog/internal/audit"
	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
)

// hotRule fires as soon as a GPU passes 90 °C.
const hotRule = `groups:
- name: gpu
  rules:
  - alert: GPUOverheating
    expr: DCGM_FI_DEV_GPU_TEMP > 90
    labels: {severity: critical}
    annotations:
      summary: 'GPU {{ $labels.gpu }} on {{ $labels.hostname }} at {{ $value }} °C'
`

// alertingSetup writes gpuwd.yml, the rule file and alerting.yml (one
// Slack receiver, group_wait 0) into dir.
func alertingSetup(t testing.TB, dir, slackURL, extra string) string {
	t.Helper()
	files := map[string]string{
		"rules.yml": hotRule,
		"alerting.yml": `route:
  receiver: chat
  group_by: [alertname, instance]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: chat
    slack_configs:
      - api_url_file: slack-url
        send_resolved: true
`,
		"slack-url": slackURL,
		"gpuwd.yml": `global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: [rules.yml]
alerting:
  config_file: alerting.yml
` + extra,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "gpuwd.yml")
}

func post(t testing.TB, url string) {
	t.Helper()
	resp, err := http.Post(url, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST %s: %d %s", url, resp.StatusCode, body)
	}
}

func waitCount[T any](t testing.TB, s *chattest.Server[T], n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := s.WaitCount(ctx, n); err != nil {
		t.Fatalf("waiting for %d messages: %v (got %d)", n, err, s.Count())
	}
}

// TestAlertReachesChatAndSurvivesARestartDuringAnOutage runs the real
// gpuwd and a simulated agent: a GPU overheats and Slack hears of it; Slack
// goes down, a second GPU overheats, gpuwd is killed (SIGKILL) and started
// again while Slack is still down; once Slack is back it receives the
// second message exactly once, and nothing twice.
func TestAlertReachesChatAndSurvivesARestartDuringAnOutage(t *testing.T) {
	dir := t.TempDir()
	slack := chattest.NewSlack(t)
	cfg := alertingSetup(t, dir, slack.URL(), "")
	serveArgs := []string{"serve", "--listen", "127.0.0.1:0", "--config", cfg, "--data-dir", filepath.Join(dir, "data"), "--token", "e2e-token"}
	srv := launch(t, gpuwdBin, serveArgs...)
	agent := launch(t, agentBin, "--simulate", "h100x2", "--simulate-stable", "--hostname", "node-7", "--listen", "127.0.0.1:0",
		"--aggregator-url", "http://"+srv.addr, "--token", "e2e-token")

	post(t, "http://"+agent.addr+"/debug/sim/heat?gpu=0&celsius=97")
	waitCount(t, slack, 1)
	first := slack.Received()[0]
	if !strings.Contains(first.Text, "GPUOverheating") || len(first.Attachments) == 0 ||
		!strings.Contains(first.Attachments[0].Text, "GPU 0 on node-7 at 97 °C") || first.Attachments[0].Color != "danger" {
		t.Fatalf("first message does not say which GPU is hot: %+v", first)
	}
	if !strings.Contains(first.Attachments[0].TitleLink, "/nodes/node-7") {
		t.Errorf("no link to the node's page: %q", first.Attachments[0].TitleLink)
	}

	slack.SetDown(true)
	post(t, "http://"+agent.addr+"/debug/sim/heat?gpu=1&celsius=95")
	// Wait until the second notification is queued and has failed once.
	waitNotification(t, "http://"+srv.addr, func(e notificationEntry) bool {
		return len(e.Firing) == 2 && len(e.Deliveries) == 1 && e.Deliveries[0].Attempts > 0 && e.Deliveries[0].Status == "pending"
	})
	srv.stop(t, syscall.SIGKILL)
	srv = launch(t, gpuwdBin, serveArgs...)
	time.Sleep(2 * time.Second) // a few evaluations and retries against the dead service
	slack.SetDown(false)
	waitCount(t, slack, 2)
	second := slack.Received()[1]
	if !strings.Contains(second.Text, "[FIRING:2]") {
		t.Errorf("second message: %q, want both GPUs firing", second.Text)
	}
	// Several evaluation and group intervals later: still exactly two.
	time.Sleep(4 * time.Second)
	if n := slack.Count(); n != 2 {
		for i, m := range slack.Received() {
			t.Logf("message %d: %s", i, m.Text)
		}
		t.Fatalf("Slack received %d messages, want exactly 2", n)
	}
	if strings.Contains(srv.logs(), slack.URL()) {
		t.Error("the Slack webhook URL appears in gpuwd's log")
	}
	// Resolution reaches Slack too.
	post(t, "http://"+agent.addr+"/debug/sim/heat?gpu=0&celsius=40")
	post(t, "http://"+agent.addr+"/debug/sim/heat?gpu=1&celsius=40")
	waitCount(t, slack, 3)
	if last := slack.Received()[2]; !strings.Contains(last.Text, "RESOLVED") {
		t.Errorf("third message: %q, want the resolution", last.Text)
	}
}

type notificationEntry struct {
	Firing     []string `json:"firing"`
	Deliveries []struct {
		Status   string `json:"status"`
		Attempts int    `json:"attempts"`
	} `json:"deliveries"`
}

func waitNotification(t *testing.T, base string, ok func(notificationEntry) bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/api/v1/notifications")
		if err == nil {
			var body struct{ Data []notificationEntry }
			json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			for _, e := range body.Data {
				if ok(e) {
					return
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("the notification never reached the expected state")
}

// TestAlertsReachARealAlertmanager forwards alerts to Debian's
// Alertmanager and reads them back from its API.
func TestAlertsReachARealAlertmanager(t *testing.T) {
	amBin := testenv.LookPath(t, "prometheus-alertmanager")
	dir := t.TempDir()
	amAddr := freeAddr(t)
	amCfg := filepath.Join(dir, "am.yml")
	os.WriteFile(amCfg, []byte("route:\n  receiver: none\nreceivers:\n  - name: none\n"), 0o600)
	am := exec.Command(amBin, "--config.file", amCfg, "--storage.path", filepath.Join(dir, "am"),
		"--web.listen-address", amAddr, "--cluster.listen-address", "")
	var amLog strings.Builder
	am.Stdout, am.Stderr = &amLog, &amLog
	if err := am.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		am.Process.Kill()
		am.Wait()
		if t.Failed() {
			t.Logf("alertmanager log:\n%s", amLog.String())
		}
	})
	slack := chattest.NewSlack(t)
	cfg := alertingSetup(t, dir, slack.URL(), "  alertmanagers:\n    - url: http://"+amAddr+"\n")
	srv := launch(t, gpuwdBin, "serve", "--listen", "127.0.0.1:0", "--config", cfg, "--data-dir", filepath.Join(dir, "data"), "--token", "e2e-token")
	agent := launch(t, agentBin, "--simulate", "h100x2", "--simulate-stable", "--hostname", "node-3", "--listen", "127.0.0.1:0",
		"--aggregator-url", "http://"+srv.addr, "--token", "e2e-token")
	post(t, "http://"+agent.addr+"/debug/sim/heat?gpu=1&celsius=99")

	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + amAddr + "/api/v2/alerts")
		if err == nil {
			var alerts []struct {
				Labels      map[string]string `json:"labels"`
				Annotations map[string]string `json:"annotations"`
				Status      struct{ State string }
			}
			json.NewDecoder(resp.Body).Decode(&alerts)
			resp.Body.Close()
			for _, a := range alerts {
				if a.Labels["alertname"] == "GPUOverheating" && a.Labels["gpu"] == "1" && a.Status.State == "active" {
					if a.Annotations["summary"] != "GPU 1 on node-3 at 99 °C" {
						t.Errorf("annotations in Alertmanager: %v", a.Annotations)
					}
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("Alertmanager never showed the alert (last error %v)", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestSilenceCommands adds, lists and expires a silence with gpuwd silence
// against a running gpuwd serve.
func TestSilenceCommands(t *testing.T) {
	dir := t.TempDir()
	srv := launch(t, gpuwdBin, "serve", "--listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"))
	base := "http://" + srv.addr
	var out, errOut strings.Builder
	add := []string{"silence", "add", "--server", base, "--comment", "fan swap", "--duration", "2h", "GPUOverheating", `instance=~"node-1.*"`}
	if code := run(add, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "401") || !strings.Contains(errOut.String(), "Authorization: Bearer") {
		t.Fatalf("silence add without the admin token: exit %d: %s", code, errOut.String())
	}
	// gpuwd serve made the token, as no admin is configured.
	tokenFile := filepath.Join(dir, "data", "admin-token")
	add = append(add[:2], append([]string{"--admin-token-file", tokenFile}, add[2:]...)...)
	errOut.Reset()
	if code := run(add, &out, &errOut); code != 0 {
		t.Fatalf("silence add: exit %d: %s", code, errOut.String())
	}
	id := strings.TrimSpace(out.String())
	out.Reset()
	if code := run([]string{"silence", "query", "--server", base}, &out, &errOut); code != 0 ||
		!strings.Contains(out.String(), id) || !strings.Contains(out.String(), `alertname="GPUOverheating"`) || !strings.Contains(out.String(), "fan swap") {
		t.Fatalf("silence query: exit %d:\n%s%s", code, out.String(), errOut.String())
	}
	if code := run([]string{"silence", "add", "--server", base, "GPUOverheating"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "--comment is required") {
		t.Errorf("silence add without a comment: exit %d: %s", code, errOut.String())
	}
	t.Setenv("GPUWD_ADMIN_TOKEN", readFile(t, tokenFile))
	if code := run([]string{"silence", "expire", "--server", base, id}, &out, &errOut); code != 0 {
		t.Fatalf("silence expire: exit %d: %s", code, errOut.String())
	}
	// Both actions are in the audit log, as the admin token's.
	var log struct{ Data []audit.Entry }
	getJSONAuth(t, base+"/api/v1/audit", strings.TrimSpace(readFile(t, tokenFile)), &log)
	if len(log.Data) != 2 || log.Data[0].Action != "silence.expire" || log.Data[0].Target != id || log.Data[1].Action != "silence.create" ||
		!strings.Contains(log.Data[1].Detail, "fan swap") || log.Data[1].User != "token" || log.Data[1].Result != "ok" {
		t.Errorf("audit log: %+v", log.Data)
	}
	out.Reset()
	run([]string{"silence", "query", "--server", base}, &out, &errOut)
	if strings.Contains(out.String(), id) {
		t.Errorf("expired silence still listed as active:\n%s", out.String())
	}
	out.Reset()
	run([]string{"silence", "query", "--server", base, "--expired"}, &out, &errOut)
	if !strings.Contains(out.String(), id) {
		t.Errorf("expired silence not listed with --expired:\n%s", out.String())
	}
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// getJSONAuth GETs url with the admin token and decodes the answer.
func getJSONAuth(t testing.TB, url, token string, v any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s: %s", url, resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
