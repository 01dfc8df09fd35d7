package teams

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/chattest"
	"github.com/gpu-watchdog/gpu-watchdog/internal/secret"
)

// sig stands for the credential in a Workflows URL.
const sig = "s3cr3tXOXOsignature"

type teamsServer = chattest.Server[chattest.TeamsMessage]

func hookURL(srv *teamsServer) secret.Secret {
	return secret.Secret(srv.BaseURL() + "/workflows/abc/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=" + sig)
}

func newNotifier(t *testing.T, c Config) (*Notifier, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	n, err := New(c, nil, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	return n, &logs
}

func TestRender(t *testing.T) {
	for _, tc := range []struct {
		name   string
		msg    *notify.Message
		config func(*Config)
	}{
		{"firing", chattest.SampleMessage(1, 0), nil},
		{"mixed", chattest.SampleMessage(1, 1), nil},
		{"resolved", chattest.SampleMessage(0, 1), nil},
		{"many", chattest.SampleMessage(13, 0), nil},
		{"templates", chattest.SampleMessage(2, 0), func(c *Config) {
			c.Title = `{{ .CommonLabels.alertname }} on {{ len .Alerts }} GPUs`
			c.Text = `{{ range .Alerts }}- {{ node .Labels }} GPU {{ .Labels.gpu }} since {{ date .StartsAt }}{{ "\n" }}{{ end }}`
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := chattest.NewTeams(t)
			c := Config{WebhookURL: hookURL(srv)}
			if tc.config != nil {
				tc.config(&c)
			}
			n, _ := newNotifier(t, c)
			body, err := n.encode(tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			chattest.Golden(t, tc.name+".json", body)
			if err := n.Notify(context.Background(), tc.msg); err != nil {
				t.Fatalf("Teams refused it: %v", err)
			}
			card := srv.Received()[0].Attachments[0].Content
			if h := card.Body[0]; h.Color != color(tc.msg.Status) || h.Weight != "Bolder" {
				t.Errorf("heading %+v, want a bold %s heading", h, color(tc.msg.Status))
			}
			if len(card.Actions) != 1 || card.Actions[0].Type != "Action.OpenUrl" || !strings.HasPrefix(card.Actions[0].URL, "https://gpuwd.example.com/") {
				t.Errorf("actions %+v, want one Action.OpenUrl to the dashboard", card.Actions)
			}
		})
	}
}

func TestFactSet(t *testing.T) {
	srv := chattest.NewTeams(t)
	n, _ := newNotifier(t, Config{WebhookURL: hookURL(srv)})
	if err := n.Notify(context.Background(), chattest.SampleMessage(1, 0)); err != nil {
		t.Fatal(err)
	}
	facts := map[string]string{}
	for _, e := range srv.Received()[0].Attachments[0].Content.Body[1].Items {
		for _, f := range e.Facts {
			facts[f.Title] = f.Value
		}
	}
	for k, v := range map[string]string{"Node": "gpu-node-00", "Severity": "critical", "Slurm job": "4200", "User": "alice", "Value": "88", "Since": "2026-01-02 03:04:05 UTC"} {
		if facts[k] != v {
			t.Errorf("fact %s = %q, want %q (facts: %v)", k, facts[k], v, facts)
		}
	}
	if !strings.Contains(facts["GPU"], "GPU-5fa0b000") {
		t.Errorf("GPU fact %q lacks the UUID", facts["GPU"])
	}
}

func TestSizeLimit(t *testing.T) {
	srv := chattest.NewTeams(t)
	n, _ := newNotifier(t, Config{WebhookURL: hookURL(srv)})
	var alerts []notify.Alert
	for i := range 200 {
		a := chattest.SampleAlert(i, false)
		a.Annotations["summary"] = strings.Repeat("very long summary ", 500)
		a.Annotations["description"] = strings.Repeat("and a description ", 500)
		alerts = append(alerts, a)
	}
	m := notify.NewMessage("r", "k", nil, "https://gpuwd.example.com", alerts)
	if err := n.Notify(context.Background(), m); err != nil {
		t.Fatalf("Teams refused it: %v", err)
	}
	body := srv.Received()[0].Attachments[0].Content.Body
	last := body[len(body)-1]
	if last.Text == nil || !strings.Contains(*last.Text, "more alerts") {
		t.Errorf("the card does not count the alerts left out: %+v", last)
	}
}

func TestErrors(t *testing.T) {
	m := chattest.SampleMessage(1, 0)
	for _, tc := range []struct {
		name    string
		script  func(*teamsServer)
		retry   bool
		disable bool
		after   time.Duration
	}{
		{"throttled", func(s *teamsServer) { s.FailNext(1, 429, 2*time.Second) }, true, false, 2 * time.Second},
		{"server error", func(s *teamsServer) { s.FailNext(1, 500, 0) }, true, false, 0},
		{"outage", func(s *teamsServer) { s.SetDown(true) }, true, false, 0},
		{"timeout", func(s *teamsServer) { s.HangNext(1) }, true, false, 0},
		{"bad request", func(s *teamsServer) { s.FailNext(1, 400, 0) }, false, false, 0},
		{"unauthorized", func(s *teamsServer) { s.FailNext(1, 401, 0) }, false, false, 0},
		{"workflow deleted", func(s *teamsServer) { s.Delete() }, false, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := chattest.NewTeams(t)
			tc.script(srv)
			n, logs := newNotifier(t, Config{WebhookURL: hookURL(srv), Timeout: 100 * time.Millisecond})
			err := n.Notify(context.Background(), m)
			var e *notify.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T), want *notify.Error", err, err)
			}
			if e.Retry != tc.retry || e.Disable != tc.disable || e.RetryAfter != tc.after {
				t.Errorf("got retry=%v disable=%v after=%v, want %v %v %v (%v)", e.Retry, e.Disable, e.RetryAfter, tc.retry, tc.disable, tc.after, err)
			}
			assertNoSecret(t, err.Error()+logs.String())
		})
	}
}

func TestNetworkErrorHidesURL(t *testing.T) {
	n, logs := newNotifier(t, Config{WebhookURL: "http://127.0.0.1:1/workflows/x?sig=" + sig})
	err := n.Notify(context.Background(), chattest.SampleMessage(1, 0))
	if e := notify.Classify(err); e == nil || !e.Retry {
		t.Fatalf("error %v, want a retryable one", err)
	}
	assertNoSecret(t, err.Error()+logs.String())
}

func TestValidate(t *testing.T) {
	u := secret.Secret("https://prod-00.westeurope.logic.azure.com/workflows/x?sig=" + sig)
	for _, tc := range []struct {
		name string
		c    Config
		want string
	}{
		{"ok", Config{WebhookURL: u}, ""},
		{"none", Config{}, "one of webhook_url and webhook_url_file is required"},
		{"both", Config{WebhookURL: u, WebhookURLFile: "/x"}, "only one of"},
		{"bad url", Config{WebhookURL: secret.Secret("prod-00.logic.azure.com?sig=" + sig)}, "webhook_url"},
		{"template", Config{WebhookURL: u, Text: "{{ if }}"}, "text"},
		{"timeout", Config{WebhookURL: u, Timeout: -1}, "timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			assertNoSecret(t, err.Error())
		})
	}
}

func assertNoSecret(t *testing.T, s string) {
	t.Helper()
	if strings.Contains(s, sig) || strings.Contains(s, "/workflows/") {
		t.Errorf("the webhook URL leaked: %s", s)
	}
}
