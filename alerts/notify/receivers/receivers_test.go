package receivers

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/chattest"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/slack"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/webhook"
	"github.com/gpu-watchdog/gpu-watchdog/internal/secret"
)

const token = "s3cr3tXOXOtoken"

func TestIntegrationsFromYAML(t *testing.T) {
	sl, dc, tm, wh, nt := chattest.NewSlack(t), chattest.NewDiscord(t), chattest.NewTeams(t), chattest.NewWebhook(t), chattest.NewNtfy(t)
	conf := `
name: gpu-oncall
slack_configs:
  - api_url: ` + sl.BaseURL() + `/services/` + token + `
    channel: "#gpu"
    timeout: 5s
discord_configs:
  - webhook_url: ` + dc.BaseURL() + `/api/webhooks/1/` + token + `
    send_resolved: false
msteamsv2_configs:
  - webhook_url: ` + tm.BaseURL() + `/workflows/x?sig=` + token + `
webhook_configs:
  - url: ` + wh.BaseURL() + `/hook
    max_alerts: 1
    http_config:
      authorization:
        credentials: ` + token + `
ntfy_configs:
  - url: ` + nt.BaseURL() + `/gpu-alerts
    token: ` + token + `
    priority: high
`
	var r Receiver
	if err := yaml.Unmarshal([]byte(conf), &r); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	ints, err := r.Integrations(Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, in := range ints {
		names = append(names, in.Name)
		if err := in.Notifier.Notify(context.Background(), chattest.SampleMessage(2, 1)); err != nil {
			t.Errorf("%s: %v", in.Name, err)
		}
	}
	if got := strings.Join(names, " "); got != "slack/0 discord/0 teams/0 webhook/0 ntfy/0" {
		t.Errorf("integrations %s", got)
	}
	for name, got := range map[string]bool{
		"slack (default false)":  ints[0].SendResolved,
		"discord (set false)":    ints[1].SendResolved,
		"teams (default true)":   !ints[2].SendResolved,
		"webhook (default true)": !ints[3].SendResolved,
		"ntfy (default true)":    !ints[4].SendResolved,
	} {
		if got {
			t.Errorf("send_resolved wrong for %s", name)
		}
	}
	if sl.Count() != 1 || dc.Count() != 1 || tm.Count() != 1 || wh.Count() != 1 || nt.Count() != 1 {
		t.Errorf("deliveries: slack %d discord %d teams %d webhook %d ntfy %d", sl.Count(), dc.Count(), tm.Count(), wh.Count(), nt.Count())
	}
	if ch := sl.Received()[0].Channel; ch != "#gpu" {
		t.Errorf("slack channel %q", ch)
	}
	var m notify.Message
	if err := wh.Received()[0].JSON(&m); err != nil || len(m.Alerts) != 1 || m.TruncatedAlerts != 2 {
		t.Errorf("webhook max_alerts: %d alerts, %d truncated (%v)", len(m.Alerts), m.TruncatedAlerts, err)
	}
	if nt.Received()[0].Priority != 4 {
		t.Errorf("ntfy priority %d", nt.Received()[0].Priority)
	}
	if strings.Contains(logs.String(), token) {
		t.Errorf("logs leak a secret: %s", logs.String())
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		r    Receiver
		want []string
	}{
		{Receiver{Name: "silence"}, nil},
		{Receiver{}, []string{"name is required"}},
		{Receiver{Name: "x", SlackConfigs: []slack.Config{{APIURL: "https://hooks.slack.com/" + token}, {}}},
			[]string{`receiver "x": slack_configs[1]: one of api_url and api_url_file is required`}},
		{Receiver{Name: "y", WebhookConfigs: []webhook.Config{{URL: "ftp://" + token}, {URL: "https://h/" + token, MaxAlerts: -1}}},
			[]string{`receiver "y": webhook_configs[0]: url: not an http or https URL`, `receiver "y": webhook_configs[1]: max_alerts`}},
	} {
		err := tc.r.Validate()
		if len(tc.want) == 0 {
			if err != nil {
				t.Errorf("%+v: %v", tc.r, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%+v: no error", tc.r)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q lacks %q", err, w)
			}
		}
		if strings.Contains(err.Error(), token) {
			t.Errorf("error leaks the URL: %v", err)
		}
		if _, ierr := tc.r.Integrations(Options{}); ierr == nil {
			t.Errorf("Integrations accepted an invalid receiver")
		}
	}
}

func TestConfigHash(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "url")
	write := func(s string) {
		if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	hash := func(r Receiver) string {
		t.Helper()
		ints, err := r.Integrations(Options{})
		if err != nil {
			t.Fatal(err)
		}
		return ints[0].ConfigHash
	}
	inline := func(u string, sr *bool) Receiver {
		return Receiver{Name: "r", SlackConfigs: []slack.Config{{APIURL: secret.Secret(u), SendResolved: sr}}}
	}
	no, yes := false, true
	base := hash(inline("https://hooks.slack.com/a", nil))
	if hash(inline("https://hooks.slack.com/a", nil)) != base {
		t.Error("the same configuration hashed differently")
	}
	if hash(inline("https://hooks.slack.com/a", &no)) != base {
		t.Error("send_resolved: false spelled out changed the hash of Slack's default")
	}
	if hash(inline("https://hooks.slack.com/a", &yes)) == base {
		t.Error("send_resolved did not change the hash")
	}
	if hash(inline("https://hooks.slack.com/b", nil)) == base {
		t.Error("a new webhook URL (a secret) did not change the hash")
	}
	write("https://hooks.slack.com/a")
	fromFile := Receiver{Name: "r", SlackConfigs: []slack.Config{{APIURLFile: file}}}
	before := hash(fromFile)
	write("https://hooks.slack.com/rotated")
	if hash(fromFile) == before {
		t.Error("rotating the URL file did not change the hash")
	}
	if strings.Contains(before, "hooks") || len(before) != 64 {
		t.Errorf("hash %q", before)
	}
}
