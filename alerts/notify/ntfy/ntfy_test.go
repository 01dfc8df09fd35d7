package ntfy

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/chattest"
	"github.com/gpu-watchdog/gpu-watchdog/internal/secret"
)

const token = "tk_s3cr3tXOXOtoken"

func newNotifier(t *testing.T, c Config) *Notifier {
	t.Helper()
	n, err := New(c, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPublish(t *testing.T) {
	srv := chattest.NewNtfy(t)
	n := newNotifier(t, Config{URL: secret.Secret(srv.BaseURL() + "/ntfy/gpu-alerts"), Token: token, Tags: []string{"gpu"}})
	m := chattest.SampleMessage(2, 1)
	if err := n.Notify(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := srv.Received()[0]
	if got.Path != "/ntfy/" || got.Topic != "gpu-alerts" {
		t.Errorf("published to %s topic %q, want /ntfy/ and gpu-alerts (a path prefix is kept)", got.Path, got.Topic)
	}
	if got.Authorization != "Bearer "+token {
		t.Errorf("Authorization %q", got.Authorization)
	}
	if got.Priority != 5 || !slices.Equal(got.Tags, []string{"rotating_light", "gpu"}) || !got.Markdown {
		t.Errorf("priority %d tags %v markdown %v; want 5, [rotating_light gpu], true", got.Priority, got.Tags, got.Markdown)
	}
	if got.Click != "https://gpuwd.example.com/nodes/gpu-node-00" || got.Title != "[FIRING:2] GPUOverheating" {
		t.Errorf("click %q title %q", got.Click, got.Title)
	}
	body, err := notify.JSON(n.publish(m, "gpu-alerts"))
	if err != nil {
		t.Fatal(err)
	}
	chattest.Golden(t, "publish.json", body)
}

func TestPriority(t *testing.T) {
	firing := func(sev ...string) *notify.Message {
		var alerts []notify.Alert
		for i, s := range sev {
			a := chattest.SampleAlert(i, false)
			a.Labels["severity"] = s
			alerts = append(alerts, a)
		}
		return notify.NewMessage("r", "k", nil, "", alerts)
	}
	for _, tc := range []struct {
		name     string
		priority string
		m        *notify.Message
		want     int
	}{
		{"critical", "", firing("warning", "critical"), 5},
		{"warning", "", firing("info", "warning"), 4},
		{"other", "", firing("info"), 3},
		{"resolved", "", chattest.SampleMessage(0, 2), 2},
		{"configured", "high", firing("critical"), 4},
		{"configured number", "1", firing("critical"), 1},
		{"resolved below configured", "max", chattest.SampleMessage(0, 1), 2},
		{"resolved configured min", "min", chattest.SampleMessage(0, 1), 1},
	} {
		n := newNotifier(t, Config{URL: "https://ntfy.sh/alerts", Priority: tc.priority})
		if got := n.publish(tc.m, "alerts").Priority; got != tc.want {
			t.Errorf("%s: priority %d, want %d", tc.name, got, tc.want)
		}
	}
	resolved := newNotifier(t, Config{URL: "https://ntfy.sh/alerts"}).publish(chattest.SampleMessage(0, 1), "alerts")
	if resolved.Tags[0] != "white_check_mark" {
		t.Errorf("resolved tags %v", resolved.Tags)
	}
}

func TestMessageLimit(t *testing.T) {
	var alerts []notify.Alert
	for i := range 100 {
		a := chattest.SampleAlert(i, false)
		a.Annotations["summary"] = strings.Repeat("°C ", 3000)
		alerts = append(alerts, a)
	}
	p := newNotifier(t, Config{URL: "https://ntfy.sh/alerts"}).publish(notify.NewMessage("r", "k", nil, "", alerts), "alerts")
	if len(p.Message) > maxMessageBytes {
		t.Errorf("message is %d bytes", len(p.Message))
	}
	if !strings.Contains(p.Message, "GPUOverheating on gpu-node-00, GPU 0") {
		t.Errorf("the first alert is not named:\n%s", p.Message)
	}
}

func TestTokenFileAndErrors(t *testing.T) {
	srv := chattest.NewNtfy(t)
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	n := newNotifier(t, Config{URL: secret.Secret(srv.BaseURL() + "/alerts"), TokenFile: file, Timeout: 100 * time.Millisecond})
	m := chattest.SampleMessage(1, 0)
	if err := n.Notify(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if got := srv.Received()[0].Authorization; got != "Bearer "+token {
		t.Errorf("Authorization %q", got)
	}
	for _, tc := range []struct {
		name   string
		script func()
		retry  bool
	}{
		{"rate limited", func() { srv.FailNext(1, 429, time.Second) }, true},
		{"server error", func() { srv.FailNext(1, 500, 0) }, true},
		{"timeout", func() { srv.HangNext(1) }, true},
		{"forbidden", func() { srv.FailNext(1, 403, 0) }, false},
	} {
		tc.script()
		err := n.Notify(context.Background(), m)
		if e := notify.Classify(err); e == nil || e.Retry != tc.retry {
			t.Errorf("%s: error %v, want retry=%v", tc.name, err, tc.retry)
		} else if strings.Contains(err.Error(), token) {
			t.Errorf("%s: the token leaked: %v", tc.name, err)
		}
	}
	os.Remove(file)
	err := n.Notify(context.Background(), m)
	if e := notify.Classify(err); e == nil || e.Retry || !strings.Contains(e.Reason, file) {
		t.Errorf("missing token file: %v; want a permanent error naming it", err)
	}
}

func TestSplitTopic(t *testing.T) {
	for in, want := range map[string][2]string{
		"https://ntfy.sh/alerts":             {"https://ntfy.sh/", "alerts"},
		"https://ntfy.sh/alerts/":            {"https://ntfy.sh/", "alerts"},
		"https://host/ntfy/gpu_1?auth=x":     {"https://host/ntfy/?auth=x", "gpu_1"},
		"https://user:pw@host:8080/a/b/team": {"https://user:pw@host:8080/a/b/", "team"},
	} {
		u, _ := url.Parse(in)
		server, topic, err := splitTopic(u)
		if err != nil || server != want[0] || topic != want[1] {
			t.Errorf("%s: %q %q %v, want %q", in, server, topic, err, want)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Config
		want string
	}{
		{"ok", Config{URL: "https://ntfy.sh/alerts", Token: token, Priority: "high", Tags: []string{"gpu"}}, ""},
		{"none", Config{}, "one of url and url_file is required"},
		{"no topic", Config{URL: "https://ntfy.sh/"}, "topic"},
		{"bad topic", Config{URL: "https://ntfy.sh/a.b"}, "topic"},
		{"two tokens", Config{URL: "https://ntfy.sh/a", Token: token, TokenFile: "/x"}, "only one of token"},
		{"priority", Config{URL: "https://ntfy.sh/a", Priority: "6"}, "priority"},
		{"tag", Config{URL: "https://ntfy.sh/a", Tags: []string{"a,b"}}, "tags"},
		{"template", Config{URL: "https://ntfy.sh/a", Message: "{{ .Nope"}, "message"},
	} {
		err := tc.c.Validate()
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		} else if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "ntfy.sh") {
			t.Errorf("%s: error holds the URL or token: %v", tc.name, err)
		}
	}
}
