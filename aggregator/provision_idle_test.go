package aggregator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/chattest"
	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
	"github.com/gpu-watchdog/gpu-watchdog/web/formtest"
)

var (
	agentOnce sync.Once
	agentBin  string
	agentErr  error
)

// agentBinary builds gpuwd-agent once for the tests that launch local pods.
func agentBinary(t testing.TB) string {
	t.Helper()
	agentOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gpuwd-agent-bin-")
		if err != nil {
			agentErr = err
			return
		}
		agentBin, agentErr = testenv.BuildAgent(dir)
	})
	if agentErr != nil {
		t.Fatal(agentErr)
	}
	return agentBin
}

// TestIdlePoliciesNoticeThenStopOrOnlySay runs two idle policies over real
// local pods (simulated agents) with chat on a fake Slack: a live one for
// h100 pods and a dry run for l4 pods. Both pods' GPUs count as idle (the
// threshold is above anything the simulator reaches). Chat gets each
// pod's GPUPodIdle notice, then the h100 pod is stopped, with its action
// announced and audited, while the l4 pod keeps running and chat hears
// what would have been done. The page lists the policies and actions.
func TestIdlePoliciesNoticeThenStopOrOnlySay(t *testing.T) {
	bin := agentBinary(t)
	slack := chattest.NewSlack(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "slack-url"), []byte(slack.URL()), 0o600)
	os.WriteFile(filepath.Join(dir, "alerting.yml"), []byte(`route:
  receiver: chat
  group_by: [alertname, pod_id]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: chat
    slack_configs:
      - api_url_file: `+filepath.Join(dir, "slack-url")+`
`), 0o600)
	s := startServer(t, `global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
registration: {token: idle-token}
alerting: {config_file: `+filepath.Join(dir, "alerting.yml")+`}
provision:
  local: {agent_binary: `+bin+`, dir: `+filepath.Join(dir, "pods")+`}
  idle_policies:
    - {name: h100-live, provider: local, gpu_type: h100, below_percent: 100, for: 2s, grace: 2s, dry_run: false}
    - {name: l4-dry, provider: local, gpu_type: l4, below_percent: 100, for: 2s, grace: 1s}
`)
	b := login(t, s)
	b.Get("/provision")
	for _, pod := range []struct{ offer, name string }{{"local/h100", "train"}, {"local/l4", "infer"}} {
		form := url.Values{"offer": {pod.offer}, "gpu_count": {"1"}, "count": {"1"}, "cloud": {"ALL"}, "name": {pod.name}, "confirm": {"yes"}}
		if code, page := b.Post("/provision/launch", form); code != http.StatusSeeOther {
			t.Fatalf("launching %s: %d %s", pod.name, code, formtest.Text(page, "main"))
		}
	}

	// Four messages: two notices, one stop, one dry run.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := slack.WaitCount(ctx, 4); err != nil {
		t.Fatalf("chat got %d messages: %v\n%s", slack.Count(), err, slackText(slack))
	}
	chat := slackText(slack)
	for _, want := range []string{
		"Pod train (local, h100) has had idle GPUs for 2s",
		"It will be stopped 2s after this notice unless its GPUs get busy.",
		"Pod infer (local, l4) has had idle GPUs for 2s",
		"Dry run: it would be stopped 1s after this notice; nothing will be done.",
		"Idle pod train (local ",
		"stopped by idle policy h100-live",
		"Dry run: idle policy l4-dry would have stopped idle pod infer (local ",
	} {
		if !strings.Contains(chat, want) {
			t.Errorf("chat lacks %q:\n%s", want, chat)
		}
	}

	status := func(name string) string {
		_, page := b.Get("/provision")
		v, _ := page.Find(`[data-testid=pod][data-name=` + name + `]`).Attr("data-status")
		return v
	}
	if got := status("train"); got != "EXITED" {
		t.Errorf("the idle h100 pod is %q, want EXITED", got)
	}
	if got := status("infer"); got != "RUNNING" {
		t.Errorf("the dry run's l4 pod is %q, want RUNNING", got)
	}
	_, page := b.Get("/provision")
	if got := formtest.Text(page, `[data-testid=idle-action][data-pod=train]`); !strings.Contains(got, "h100-live") || !strings.Contains(got, "stopped") {
		t.Errorf("the page's record of the stop: %q", got)
	}
	if got := formtest.Text(page, `[data-testid=idle-action][data-pod=infer]`); !strings.Contains(got, "would have stopped (dry run)") {
		t.Errorf("the page's record of the dry run: %q", got)
	}
	if got := formtest.Text(page, `[data-testid=idle-policy][data-name=l4-dry] [data-testid=idle-mode]`); got != "dry run: notices only" {
		t.Errorf("the dry run policy's mode: %q", got)
	}

	var audit struct {
		Data []struct{ User, Action, Target, Result string }
	}
	token, _ := os.ReadFile(filepath.Join(s.DataDir(), aggregator.AdminTokenFile))
	req, _ := http.NewRequest(http.MethodGet, b.URL("/api/v1/audit?action=provision.stop"), nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&audit)
	resp.Body.Close()
	if len(audit.Data) != 1 || audit.Data[0].User != "idle-policy:h100-live" || audit.Data[0].Result != "ok" || !strings.HasPrefix(audit.Data[0].Target, "local/") {
		t.Errorf("audit of the stop: %+v", audit.Data)
	}

	// The pods' series: gpuwd_pod_info for the one still running, with its
	// pool; the stopped one's ends with a stale marker at the next listing.
	var vec []map[string]string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if vec = query(t, s, `gpuwd_pod_info`); len(vec) == 1 {
			break
		}
	}
	if len(vec) != 1 || vec[0]["pod_name"] != "infer" || vec[0]["gpu_type"] != "l4" || vec[0]["provider"] != "local" || vec[0]["job"] != "gpuwd-provision" {
		t.Errorf("gpuwd_pod_info: %v", vec)
	}
}

func slackText(s *chattest.Server[chattest.SlackMessage]) string {
	var b strings.Builder
	for _, m := range s.Received() {
		fmt.Fprintln(&b, m.Text)
		for _, a := range m.Attachments {
			fmt.Fprintln(&b, " ", a.Title, "|", a.Text)
		}
	}
	return b.String()
}

// query is an instant query's series, as label maps.
func query(t *testing.T, s *aggregator.Server, expr string) []map[string]string {
	t.Helper()
	resp, err := http.Get("http://" + s.Addr() + "/api/v1/query?query=" + url.QueryEscape(expr))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Result []struct{ Metric map[string]string }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, r := range body.Data.Result {
		out = append(out, r.Metric)
	}
	return out
}
