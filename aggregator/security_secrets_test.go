package aggregator_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/gpu-watchdog/gpu-watchdog/agent"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision/runpod/runpodtest"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/chattest"
	"github.com/gpu-watchdog/gpu-watchdog/slurm/munge"
)

// canaries are the secrets of one server, each unique, by what they are.
type canaries map[string]string

func newCanaries(names ...string) canaries {
	c := canaries{}
	for _, n := range names {
		raw := make([]byte, 10)
		_, _ = rand.Read(raw)
		c[n] = "canary" + hex.EncodeToString(raw)
	}
	return c
}

// seen is everything the programs showed: logs, replies, files.
type seen struct {
	mu    sync.Mutex
	where []string
	text  []string
}

func (s *seen) add(where, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.where, s.text = append(s.where, where), append(s.text, text)
}

// reply records a response: its headers (but the session cookie it sets,
// which is what a login answers with) and its body.
func (s *seen) reply(what string, resp *http.Response, body string) {
	h := resp.Header.Clone()
	h.Del("Set-Cookie")
	var b strings.Builder
	_ = h.Write(&b)
	s.add(what, b.String()+"\n"+body)
}

// Secrets never show: a server started with canary secrets (registration
// token, RunPod API key, Slack, Discord and Teams webhook URLs, an admin's
// password, the admin token, the munge key and the agents' metrics token
// handed to launched pods) goes through registering an agent (and one
// with a wrong token), logins (and failed ones), API calls (and one with a
// wrong token), launching a Slurm head on RunPod, notifications (Slack
// failing with 500 first, Teams unreachable), reloads (one refused for a
// bad webhook URL) and every GET route. No canary is in either program's
// log, any reply, or any file of the data directory (the notification
// log and audit log in alerts.db included); the session's id is in no log
// nor file either.
func TestSecuritySecretsNeverShow(t *testing.T) {
	t.Parallel()
	c := newCanaries("registration token", "RunPod API key", "Slack URL", "Discord URL", "Teams URL",
		"admin password", "admin token", "metrics token")
	c["munge key"] = munge.GenerateKey().Encode()
	var out seen

	fake := runpodtest.New(runpodtest.Options{APIKey: c["RunPod API key"]})
	t.Cleanup(fake.Close)
	slack, discord := chattest.NewSlack(t), chattest.NewDiscord(t)
	slack.FailNext(1, http.StatusInternalServerError, 0)
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	slackURL := slack.BaseURL() + "/services/T0001/B0001/" + c["Slack URL"]
	alerting := func(slackURL string) string {
		return `route: {receiver: chat, group_wait: 0s, group_interval: 1s, repeat_interval: 1h}
receivers:
  - name: chat
    slack_configs: [{api_url: "` + slackURL + `"}]
    discord_configs: [{webhook_url: "` + discord.BaseURL() + "/api/webhooks/123/" + c["Discord URL"] + `"}]
    msteamsv2_configs: [{webhook_url: "http://127.0.0.1:1/webhookb2/` + c["Teams URL"] + `"}]
`
	}
	hash, _ := bcrypt.GenerateFromPassword([]byte(c["admin password"]), bcrypt.MinCost)
	s, serverLog := startServerLogged(t, `global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
registration: {token: `+c["registration token"]+`}
rule_files: [`+write("rules.yml", "groups: [{name: canary, rules: [{alert: CanaryFires, expr: vector(1), labels: {severity: warning}}]}]\n")+`]
alerting: {config_file: `+write("alerting.yml", alerting(slackURL))+`}
dashboard:
  admins: [{username: ana, password_hash: "`+string(hash)+`"}]
  admin_token_file: `+write("admin-token", c["admin token"])+`
provision:
  join: {metrics_token: `+c["metrics token"]+`, munge_key: "`+c["munge key"]+`", slurm_conf_server: 10.0.0.5}
  runpod: {url: "`+fake.URL+`", api_key_file: `+write("runpod-key", c["RunPod API key"])+`, image: "ghcr.io/gpu-watchdog/agent:secrets", request_timeout: 3s}
`, func(o *aggregator.Options) { o.EnableLifecycle = true })
	base := "http://" + s.Addr()
	call := func(c *http.Client, method, path, body string, header ...string) (int, string) {
		t.Helper()
		req := mustRequest(t, method, base+path, body)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, text := send(t, c, req)
		out.reply(method+" "+path, resp, text)
		return resp.StatusCode, text
	}

	// An agent registers (and is scraped) with the registration token;
	// another tries a wrong one (which starts with the right one).
	_, agentLog := startAgentLogged(t, agent.Options{Simulate: "h100x1", Hostname: "canary-node", AggregatorURL: base,
		AggregatorToken: c["registration token"], MetricsToken: c["registration token"]})
	waitFor(t, "the registered agent scraped", func() []map[string]string {
		return query(t, s, `DCGM_FI_DEV_GPU_UTIL{hostname="canary-node"}`)
	}, func(v []map[string]string) bool { return len(v) == 1 })
	if code, body := call(http.DefaultClient, http.MethodPost, "/api/v1/agents/register",
		`{"url": "http://agent:`+c["registration token"]+`@10.0.0.9:9400/metrics"}`,
		"Authorization", "Bearer "+c["registration token"]+"x"); code != http.StatusUnauthorized {
		t.Errorf("a registration with a wrong token: %d %s", code, body)
	}

	// Logins: a wrong password (the right one and more), a wrong token,
	// then ana.
	anon := client("")
	for _, form := range []url.Values{
		{"username": {"ana"}, "password": {c["admin password"] + "x"}},
		{"password": {c["admin token"] + "x"}},
	} {
		resp, body := postForm(t, anon, base+"/login", form, csrfOf(t, anon, base))
		out.reply("POST /login (failing)", resp, body)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("a wrong login: %d", resp.StatusCode)
		}
	}
	ana := client("")
	csrf := csrfOf(t, ana, base)
	resp, body := postForm(t, ana, base+"/login", url.Values{"username": {"ana"}, "password": {c["admin password"]}}, csrf)
	out.reply("POST /login", resp, body)
	var session string
	for _, ck := range resp.Cookies() {
		if ck.Name == "gpuwd_session" {
			session = ck.Value
		}
	}
	if resp.StatusCode != http.StatusSeeOther || session == "" {
		t.Fatalf("ana's login: %d %s", resp.StatusCode, body)
	}

	// The API: a silence with a wrong token, then with the right one.
	silence := `{"matchers": [{"name": "alertname", "value": "Nothing", "isRegex": false}], "startsAt": "` +
		time.Now().UTC().Format(time.RFC3339) + `", "endsAt": "` + time.Now().Add(time.Hour).UTC().Format(time.RFC3339) +
		`", "createdBy": "ana", "comment": "canary"}`
	if code, _ := call(http.DefaultClient, http.MethodPost, "/api/v2/silences", silence, "Authorization", "Bearer "+c["admin token"]+"x",
		"Content-Type", "application/json"); code != http.StatusUnauthorized {
		t.Errorf("a silence with a wrong token: %d", code)
	}
	if code, body := call(http.DefaultClient, http.MethodPost, "/api/v2/silences", silence, "Authorization", "Bearer "+c["admin token"],
		"Content-Type", "application/json"); code != http.StatusOK {
		t.Errorf("a silence with the admin token: %d %s", code, body)
	}

	// A Slurm head launched on RunPod.
	call(ana, http.MethodGet, "/provision", "")
	form := url.Values{"offer": {"runpod/" + runpodRTX4090}, "gpu_count": {"1"}, "count": {"1"}, "cloud": {"ALL"}, "role": {"head"},
		"name": {"canary-head"}, "confirm": {"yes"}, "_csrf": {csrf}}
	if code, body := call(ana, http.MethodPost, "/provision/launch", form.Encode()); code != http.StatusSeeOther {
		t.Fatalf("launching: %d %s", code, body)
	}
	pods := waitFor(t, "the launched pod", func() []runpodtest.Pod { return fake.Pods() }, func(p []runpodtest.Pod) bool { return len(p) == 1 })
	if env := pods[0].Env; env["GPUWD_MUNGE_KEY"] != c["munge key"] || env["GPUWD_METRICS_TOKEN"] != c["metrics token"] {
		t.Errorf("the pod's environment lacks the munge key or the metrics token: %v", env)
	}

	// Notifications: Slack after its 500, Discord, Teams never.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := slack.WaitCount(ctx, 1); err != nil {
		t.Fatalf("Slack: %v", err)
	}
	if err := discord.WaitCount(ctx, 1); err != nil {
		t.Fatalf("Discord: %v", err)
	}
	type delivery struct {
		Integration, Status, LastError string
		Attempts                       int
	}
	waitFor(t, "Slack delivered after a failure and Teams failing", func() []delivery {
		var log struct {
			Data []struct{ Deliveries []delivery }
		}
		_, body := call(http.DefaultClient, http.MethodGet, "/api/v1/notifications", "")
		json.Unmarshal([]byte(body), &log)
		var all []delivery
		for _, e := range log.Data {
			all = append(all, e.Deliveries...)
		}
		return all
	}, func(ds []delivery) bool {
		slackOK, teamsFailed := false, false
		for _, d := range ds {
			slackOK = slackOK || (strings.HasPrefix(d.Integration, "slack") && d.Status == "delivered" && d.Attempts >= 2)
			teamsFailed = teamsFailed || (strings.HasPrefix(d.Integration, "teams") && d.LastError != "")
		}
		return slackOK && teamsFailed
	})

	// Reloads: from the dashboard, over HTTP, one refused for a bad
	// webhook URL, and the good one again.
	if code, body := call(ana, http.MethodPost, "/alerts/reload", url.Values{"_csrf": {csrf}}.Encode()); code != http.StatusSeeOther {
		t.Errorf("reloading from the dashboard: %d %s", code, body)
	}
	write("alerting.yml", alerting(strings.Replace(slackURL, "http://", "ftp://", 1)))
	if code, body := call(http.DefaultClient, http.MethodPost, "/-/reload", ""); code != http.StatusInternalServerError {
		t.Errorf("a reload with a bad Slack URL: %d %s", code, body)
	}
	if code, body := call(ana, http.MethodPost, "/alerts/reload", url.Values{"_csrf": {csrf}}.Encode()); code == http.StatusSeeOther {
		t.Errorf("a reload with a bad Slack URL from the dashboard: %d %s", code, body)
	}
	write("alerting.yml", alerting(slackURL))
	if code, body := call(http.DefaultClient, http.MethodPost, "/-/reload", ""); code != http.StatusOK {
		t.Errorf("reloading: %d %s", code, body)
	}

	// Every GET route, as ana and with the admin token, and a few with
	// parameters.
	var paths []string
	for _, r := range s.Routes() {
		if r.Method == http.MethodGet {
			paths = append(paths, concrete(r.Path))
		}
	}
	paths = append(paths, "/nodes/canary-node", "/api/v1/audit?limit=1000", "/api/v1/notifications?limit=1000",
		"/api/v1/query?query=up", "/api/v1/series?match[]=up", "/audit?limit=1000")
	for _, p := range paths {
		call(ana, http.MethodGet, p, "")
		call(http.DefaultClient, http.MethodGet, p, "", "Authorization", "Bearer "+c["admin token"])
	}
	call(http.DefaultClient, http.MethodGet, "/api/v1/agents", "", "Authorization", "Bearer "+c["registration token"])
	if _, page := call(ana, http.MethodGet, "/nodes/canary-node", ""); !strings.Contains(page, "canary-node") {
		t.Errorf("the agent's node page does not show it; was it scraped?")
	}
	if _, page := call(ana, http.MethodGet, "/audit", ""); !strings.Contains(page, "wrong name, password or token") {
		t.Errorf("the audit page does not show the failed logins")
	}

	out.add("the aggregator's log", serverLog.String())
	out.add("the agent's log", agentLog.String())
	err := filepath.WalkDir(s.DataDir(), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(s.DataDir(), path)
		out.add("the data directory's "+rel, string(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c["ana's session id"] = session
	for what, secret := range c {
		for i, text := range out.text {
			if strings.Contains(text, secret) && !(what == "ana's session id" && strings.HasPrefix(out.where[i], "GET ")) {
				t.Errorf("the %s is in %s", what, out.where[i])
			}
		}
	}
	if len(out.text) < 100 {
		t.Errorf("only %d things were looked at", len(out.text))
	}
}

// waitFor polls get until done holds (60 s at most) and returns its last
// value.
func waitFor[T any](t *testing.T, what string, get func() T, done func(T) bool) T {
	t.Helper()
	var v T
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if v = get(); done(v) {
			return v
		}
	}
	t.Fatalf("never: %s (last %+v)", what, v)
	return v
}
