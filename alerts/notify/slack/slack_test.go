package slack

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/chattest"
	"github.com/gpu-watchdog/gpu-watchdog/internal/secret"
)

// token stands for the secret part of a webhook URL.
const token = "T0000/B0000/s3cr3tXOXOtoken"

func hookURL(srv interface{ BaseURL() string }) secret.Secret {
	return secret.Secret(srv.BaseURL() + "/services/" + token)
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
	withTemplates := func(c *Config) {
		c.Title = `{{ .Status | toUpper }}: {{ len .Alerts }} GPU alerts`
		c.Text = `{{ range .Alerts }}• {{ (alert $ .).Heading }}{{ "\n" }}{{ end }}`
	}
	for _, tc := range []struct {
		name   string
		msg    *notify.Message
		config func(*Config)
	}{
		{"firing", chattest.SampleMessage(1, 0), nil},
		{"mixed", chattest.SampleMessage(2, 1), func(c *Config) { c.Username = "gpuwd"; c.IconEmoji = ":fire:"; c.Channel = "#gpu" }},
		{"resolved", chattest.SampleMessage(0, 2), nil},
		{"many", chattest.SampleMessage(14, 0), nil},
		{"templates", chattest.SampleMessage(2, 0), withTemplates},
		{"escaped", escapedMessage(), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := chattest.NewSlack(t)
			c := Config{APIURL: hookURL(srv)}
			if tc.config != nil {
				tc.config(&c)
			}
			n, _ := newNotifier(t, c)
			body, err := notify.JSON(n.payload(tc.msg))
			if err != nil {
				t.Fatal(err)
			}
			chattest.Golden(t, tc.name+".json", body)
			if err := n.Notify(context.Background(), tc.msg); err != nil {
				t.Fatalf("Slack refused it: %v", err)
			}
		})
	}
}

func escapedMessage() *notify.Message {
	a := chattest.SampleAlert(0, false)
	a.Labels["node"] = "a<b>&c"
	a.Annotations["summary"] = "temp > 90 & <rising>"
	return notify.NewMessage("r", "k", nil, "", []notify.Alert{a})
}

func TestRenderSaysWhatAPersonNeeds(t *testing.T) {
	n, _ := newNotifier(t, Config{APIURL: "https://hooks.slack.com/services/x"})
	p := n.payload(chattest.SampleMessage(1, 0))
	a := p.Attachments[0]
	all := a.Title + a.TitleLink + a.Text
	for _, f := range a.Fields {
		all += "\n" + f.Title + ": " + f.Value
	}
	for _, want := range []string{
		"GPUOverheating", "gpu-node-00", "GPU 0", "GPU-5fa0b000", "NVIDIA H100", // which GPU where
		"88 °C", "Value: 88", // the value
		"Slurm job: 4200", "User: alice", "Severity: critical",
		"2026-01-02 03:04:05 UTC", "https://gpuwd.example.com/nodes/gpu-node-00",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("message lacks %q:\n%s", want, all)
		}
	}
	if a.Color != "danger" {
		t.Errorf("color %q, want danger", a.Color)
	}
}

func TestMaxAlerts(t *testing.T) {
	n, _ := newNotifier(t, Config{APIURL: "https://hooks.slack.com/services/x"})
	m := chattest.SampleMessage(25, 0)
	m.TruncatedAlerts = 5
	p := n.payload(m)
	if len(p.Attachments) != maxAlerts+1 {
		t.Fatalf("%d attachments, want %d alerts and a summary", len(p.Attachments), maxAlerts)
	}
	if last := p.Attachments[maxAlerts].Text; !strings.Contains(last, "20 more alerts") {
		t.Errorf("summary %q does not count the 20 alerts left out", last)
	}
}

func TestErrors(t *testing.T) {
	m := chattest.SampleMessage(1, 0)
	for _, tc := range []struct {
		name    string
		script  func(*chattest.Server[chattest.SlackMessage])
		retry   bool
		disable bool
		after   time.Duration
		reason  string
	}{
		{"rate limited", func(s *chattest.Server[chattest.SlackMessage]) { s.FailNext(1, 429, 3*time.Second) }, true, false, 3 * time.Second, "rate_limited"},
		{"server error", func(s *chattest.Server[chattest.SlackMessage]) { s.FailNext(1, 500, 0) }, true, false, 0, "rollup_error"},
		{"outage", func(s *chattest.Server[chattest.SlackMessage]) { s.SetDown(true) }, true, false, 0, "503"},
		{"timeout", func(s *chattest.Server[chattest.SlackMessage]) { s.HangNext(1) }, true, false, 0, "timed out"},
		{"invalid payload", func(s *chattest.Server[chattest.SlackMessage]) { s.FailNext(1, 400, 0) }, false, false, 0, "invalid_payload"},
		{"prohibited", func(s *chattest.Server[chattest.SlackMessage]) { s.FailNext(1, 403, 0) }, false, false, 0, "action_prohibited"},
		{"channel not found", func(s *chattest.Server[chattest.SlackMessage]) { s.FailNext(1, 404, 0) }, false, true, 0, "channel_not_found"},
		{"archived", func(s *chattest.Server[chattest.SlackMessage]) { s.FailNext(1, 410, 0) }, false, true, 0, "channel_is_archived"},
		{"revoked", func(s *chattest.Server[chattest.SlackMessage]) { s.Delete() }, false, true, 0, "no_service"},
		{"error in a 200", func(s *chattest.Server[chattest.SlackMessage]) {
			s.Script(1, chattest.Failure{Status: 200, Body: "invalid_token"})
		}, false, false, 0, "invalid_token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := chattest.NewSlack(t)
			tc.script(srv)
			n, logs := newNotifier(t, Config{APIURL: hookURL(srv), Timeout: 100 * time.Millisecond})
			err := n.Notify(context.Background(), m)
			var e *notify.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T), want *notify.Error", err, err)
			}
			if e.Retry != tc.retry || e.Disable != tc.disable || e.RetryAfter != tc.after {
				t.Errorf("got retry=%v disable=%v after=%v, want %v %v %v (%v)", e.Retry, e.Disable, e.RetryAfter, tc.retry, tc.disable, tc.after, err)
			}
			if !strings.Contains(e.Reason, tc.reason) {
				t.Errorf("reason %q lacks %q", e.Reason, tc.reason)
			}
			assertNoSecret(t, err.Error()+logs.String())
		})
	}
}

func TestNetworkErrorHidesURL(t *testing.T) {
	// Nothing listens on port 1: the connection is refused.
	n, logs := newNotifier(t, Config{APIURL: "http://127.0.0.1:1/services/" + token})
	err := n.Notify(context.Background(), chattest.SampleMessage(1, 0))
	if e := notify.Classify(err); e == nil || !e.Retry {
		t.Fatalf("error %v, want a retryable one", err)
	}
	assertNoSecret(t, err.Error()+logs.String())
}

func TestURLFile(t *testing.T) {
	a, b := chattest.NewSlack(t), chattest.NewSlack(t)
	file := filepath.Join(t.TempDir(), "slack-url")
	if err := os.WriteFile(file, []byte(hookURL(a)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	n, _ := newNotifier(t, Config{APIURLFile: file})
	m := chattest.SampleMessage(1, 0)
	if err := n.Notify(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	// Rotation: the next message goes to the new URL, without a restart.
	if err := os.WriteFile(file, []byte(hookURL(b)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := n.Notify(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if a.Count() != 1 || b.Count() != 1 {
		t.Errorf("old URL got %d, new URL %d; want 1 and 1", a.Count(), b.Count())
	}
	os.Remove(file)
	err := n.Notify(context.Background(), m)
	e := notify.Classify(err)
	if e == nil || e.Retry || !strings.Contains(e.Reason, file) {
		t.Errorf("missing file: %v; want a permanent error naming %s", err, file)
	}
}

func TestTemplateFailureFallsBack(t *testing.T) {
	srv := chattest.NewSlack(t)
	n, logs := newNotifier(t, Config{APIURL: hookURL(srv), Title: `{{ index .Alerts 99 }}`})
	if err := n.Notify(context.Background(), chattest.SampleMessage(1, 0)); err != nil {
		t.Fatal(err)
	}
	if got := srv.Received()[0].Text; got != "[FIRING:1] GPUOverheating" {
		t.Errorf("text %q, want the default title", got)
	}
	if !strings.Contains(logs.String(), "template failed") {
		t.Errorf("the template's failure was not logged: %s", logs)
	}
}

func TestValidate(t *testing.T) {
	secretURL := "https://hooks.slack.com/services/" + token
	for _, tc := range []struct {
		name string
		c    Config
		want string
	}{
		{"ok", Config{APIURL: secret.Secret(secretURL)}, ""},
		{"ok file", Config{APIURLFile: "/run/secrets/slack"}, ""},
		{"none", Config{}, "one of api_url and api_url_file is required"},
		{"both", Config{APIURL: secret.Secret(secretURL), APIURLFile: "/x"}, "only one of"},
		{"scheme", Config{APIURL: secret.Secret("ftp://hooks.slack.com/" + token)}, "not an http or https URL"},
		{"unparsable", Config{APIURL: secret.Secret("https://hooks.slack.com/%zz" + token)}, "not a valid URL"},
		{"no host", Config{APIURL: secret.Secret("https:///" + token)}, "no host"},
		{"timeout", Config{APIURL: secret.Secret(secretURL), Timeout: -time.Second}, "timeout"},
		{"icon", Config{APIURL: secret.Secret(secretURL), IconURL: "nope"}, "icon_url"},
		{"emoji", Config{APIURL: secret.Secret(secretURL), IconEmoji: "fire"}, "icon_emoji"},
		{"title", Config{APIURL: secret.Secret(secretURL), Title: "{{ .Status "}, "title"},
		{"text", Config{APIURL: secret.Secret(secretURL), Text: "{{ nosuchfunc }}"}, "nosuchfunc"},
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
	if strings.Contains(s, "s3cr3t") || strings.Contains(s, "/services/") {
		t.Errorf("the webhook URL leaked: %s", s)
	}
}
