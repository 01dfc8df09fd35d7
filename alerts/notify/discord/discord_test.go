package discord

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/chattest"
	"github.com/gpu-watchdog/gpu-watchdog/internal/secret"
)

// token stands for the secret part of a webhook URL.
const token = "123456789/s3cr3tXOXOtoken"

type discordServer = chattest.Server[chattest.DiscordMessage]

func hookURL(srv *discordServer) secret.Secret {
	return secret.Secret(srv.BaseURL() + "/api/webhooks/" + token)
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
		{"mixed", chattest.SampleMessage(1, 1), func(c *Config) { c.Username = "gpuwd"; c.AvatarURL = "https://gpuwd.example.com/icon.png" }},
		{"many", chattest.SampleMessage(12, 0), nil},
		{"templates", chattest.SampleMessage(2, 0), func(c *Config) {
			c.Title = `{{ len .Alerts }} hot GPUs`
			c.Message = `<@&123> look at {{ range .Alerts }}{{ node .Labels }}/{{ .Labels.gpu }} {{ end }}`
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := chattest.NewDiscord(t)
			c := Config{WebhookURL: hookURL(srv)}
			if tc.config != nil {
				tc.config(&c)
			}
			n, _ := newNotifier(t, c)
			body, err := notify.JSON(n.build(tc.msg))
			if err != nil {
				t.Fatal(err)
			}
			chattest.Golden(t, tc.name+".json", body)
			if err := n.Notify(context.Background(), tc.msg); err != nil {
				t.Fatalf("Discord refused it: %v", err)
			}
			got := srv.Received()[0].AllowedMentions
			if c.Message == "" && (got == nil || len(got.Parse) != 0) {
				t.Errorf("allowed_mentions %+v: the default rendering must ping nobody", got)
			}
			if c.Message != "" && got != nil {
				t.Errorf("allowed_mentions %+v: a user's message may mention whom it means to", got)
			}
		})
	}
}

// hugeMessage is 200 alerts whose every text is far past Discord's limits.
func hugeMessage() *notify.Message {
	var alerts []notify.Alert
	for i := range 200 {
		a := chattest.SampleAlert(i, i%3 == 0)
		a.Labels["node"] = strings.Repeat("n", 400) + "-" + a.Labels["node"]
		a.Labels["modelName"] = strings.Repeat("M", 2000)
		a.Annotations["summary"] = strings.Repeat("summary ", 2000)
		a.Annotations["description"] = strings.Repeat("déscription ", 2000)
		a.Annotations["value"] = strings.Repeat("9", 3000)
		alerts = append(alerts, a)
	}
	return notify.NewMessage("r", "k", map[string]string{"alertname": strings.Repeat("A", 3000)}, "https://gpuwd.example.com", alerts)
}

func TestLimits(t *testing.T) {
	srv := chattest.NewDiscord(t)
	n, _ := newNotifier(t, Config{WebhookURL: hookURL(srv), Message: strings.Repeat("x", 5000)})
	m := hugeMessage()
	m.TruncatedAlerts = 7
	if err := n.Notify(context.Background(), m); err != nil {
		t.Fatalf("Discord refused it: %v", err)
	}
	got := srv.Received()[0]
	if l := len([]rune(got.Content)); l > maxContent {
		t.Errorf("content is %d characters", l)
	}
	if len(got.Embeds) != maxEmbeds {
		t.Fatalf("%d embeds, want %d", len(got.Embeds), maxEmbeds)
	}
	total := 0
	for _, e := range got.Embeds {
		total += len([]rune(e.Title)) + len([]rune(e.Description))
		for _, f := range e.Fields {
			total += len([]rune(f.Name)) + len([]rune(f.Value))
		}
		if e.Footer != nil {
			total += len([]rune(e.Footer.Text))
		}
	}
	if total > maxEmbedTotal {
		t.Errorf("embeds hold %d characters, more than %d", total, maxEmbedTotal)
	}
	last := got.Embeds[maxEmbeds-1]
	if want := "…and 198 more alerts"; last.Title != want { // 191 left out + 7 truncated
		t.Errorf("last embed %q, want %q", last.Title, want)
	}
	// Each alert embed still says which GPU it is about.
	for _, e := range got.Embeds[:maxEmbeds-1] {
		if len(e.Fields) == 0 || e.Fields[0].Name != "Severity" {
			t.Errorf("embed %q lost its key facts: %+v", e.Title, e.Fields)
		}
	}
}

func TestFitSharesTheTotal(t *testing.T) {
	small := embed{Title: "small", Description: "tiny"}
	big := func() embed { return embed{Title: "big", Description: strings.Repeat("d", 4000)} }
	embeds := []embed{big(), small, big(), big()}
	fit(embeds)
	total := 0
	for _, e := range embeds {
		total += e.size()
	}
	if total > maxEmbedTotal {
		t.Errorf("total %d", total)
	}
	if embeds[1].Description != "tiny" {
		t.Errorf("a small embed was cut: %q", embeds[1].Description)
	}
	if embeds[0].size() != embeds[2].size() {
		t.Errorf("large embeds got unequal shares: %d and %d", embeds[0].size(), embeds[2].size())
	}
}

func TestErrors(t *testing.T) {
	m := chattest.SampleMessage(1, 0)
	rateLimited := func(header string, body float64) func(*discordServer) {
		return func(s *discordServer) {
			s.Script(1, chattest.Failure{
				Status: 429,
				Header: http.Header{"Retry-After": {header}},
				Body:   `{"message":"You are being rate limited.","retry_after":` + strconv.FormatFloat(body, 'f', -1, 64) + `,"global":false}`,
			})
		}
	}
	for _, tc := range []struct {
		name    string
		script  func(*discordServer)
		retry   bool
		disable bool
		after   time.Duration
		reason  string
	}{
		{"rate limited", func(s *discordServer) { s.FailNext(1, 429, 1500*time.Millisecond) }, true, false, 2 * time.Second, "rate limited"},
		{"body says longer", rateLimited("1", 2.5), true, false, 2500 * time.Millisecond, "429"},
		{"header says longer", rateLimited("3", 1.5), true, false, 3 * time.Second, "429"},
		{"server error", func(s *discordServer) { s.FailNext(1, 502, 0) }, true, false, 0, "502"},
		{"outage", func(s *discordServer) { s.SetDown(true) }, true, false, 0, "503"},
		{"timeout", func(s *discordServer) { s.HangNext(1) }, true, false, 0, "timed out"},
		{"bad request", func(s *discordServer) { s.FailNext(1, 400, 0) }, false, false, 0, "400"},
		{"deleted", func(s *discordServer) { s.Delete() }, false, true, 0, "Unknown Webhook"},
		{"bad token", func(s *discordServer) { s.FailNext(1, 401, 0) }, false, true, 0, "Invalid Webhook Token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := chattest.NewDiscord(t)
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
			if !strings.Contains(e.Reason, tc.reason) {
				t.Errorf("reason %q lacks %q", e.Reason, tc.reason)
			}
			assertNoSecret(t, err.Error()+logs.String())
		})
	}
}

func TestWaitsForTheBucketAfterA429(t *testing.T) {
	srv := chattest.NewDiscord(t)
	srv.FailNext(1, 429, time.Hour)
	n, _ := newNotifier(t, Config{WebhookURL: hookURL(srv)})
	m := chattest.SampleMessage(1, 0)
	if err := n.Notify(context.Background(), m); err == nil {
		t.Fatal("the 429 was not an error")
	}
	// The bucket refills past this call's deadline: it must not send.
	err := n.Notify(context.Background(), m)
	if e := notify.Classify(err); e == nil || !e.Retry || e.RetryAfter <= 0 {
		t.Fatalf("error %v, want a retry after the bucket refills", err)
	}
	if got := srv.Attempts(); got != 1 {
		t.Errorf("%d requests: the empty bucket was not respected", got)
	}
}

func TestNetworkErrorHidesURL(t *testing.T) {
	n, logs := newNotifier(t, Config{WebhookURL: "http://127.0.0.1:1/api/webhooks/" + token})
	err := n.Notify(context.Background(), chattest.SampleMessage(1, 0))
	if e := notify.Classify(err); e == nil || !e.Retry {
		t.Fatalf("error %v, want a retryable one", err)
	}
	assertNoSecret(t, err.Error()+logs.String())
}

func TestValidate(t *testing.T) {
	u := secret.Secret("https://discord.com/api/webhooks/" + token)
	for _, tc := range []struct {
		name string
		c    Config
		want string
	}{
		{"ok", Config{WebhookURL: u, Username: "GPU watchdog"}, ""},
		{"none", Config{}, "one of webhook_url and webhook_url_file is required"},
		{"both", Config{WebhookURL: u, WebhookURLFile: "/x"}, "only one of"},
		{"bad url", Config{WebhookURL: secret.Secret("discord.com/api/webhooks/" + token)}, "not an http or https URL"},
		{"username", Config{WebhookURL: u, Username: "Discord alerts"}, "username"},
		{"long username", Config{WebhookURL: u, Username: strings.Repeat("x", 81)}, "username"},
		{"avatar", Config{WebhookURL: u, AvatarURL: "/icon.png"}, "avatar_url"},
		{"template", Config{WebhookURL: u, Message: "{{ end }}"}, "message"},
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
	if strings.Contains(s, "s3cr3t") || strings.Contains(s, "/api/webhooks/") {
		t.Errorf("the webhook URL leaked: %s", s)
	}
}
