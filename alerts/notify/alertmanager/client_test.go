package alertmanager

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/chattest"
	"github.com/gpu-watchdog/gpu-watchdog/internal/secret"
)

const token = "s3cr3tXOXOtoken"

type amServer = chattest.Server[chattest.AlertmanagerPost]

// amURL is the server's URL under a path prefix, with a user and password
// that must never show in names, errors or logs.
func amURL(srv *amServer) secret.Secret {
	u, _ := url.Parse(srv.BaseURL())
	u.User = url.UserPassword("gpuwd", token)
	u.Path = "/am"
	return secret.Secret(u.String())
}

func alert(i int) PostableAlert {
	a := chattest.SampleAlert(i, false)
	return PostableAlert{
		Labels:       a.Labels,
		Annotations:  a.Annotations,
		StartsAt:     a.StartsAt,
		EndsAt:       a.StartsAt.Add(4 * time.Minute),
		GeneratorURL: a.GeneratorURL,
	}
}

func newClient(t *testing.T, c Config) *Client {
	t.Helper()
	cl, err := NewClient(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func TestClientSend(t *testing.T) {
	srv := chattest.NewAlertmanager(t)
	c := newClient(t, Config{URL: amURL(srv), Authorization: &Authorization{Credentials: token}})
	if want := srv.BaseURL(); c.Name() != want {
		t.Errorf("name %q, want %q (scheme and host only)", c.Name(), want)
	}
	if err := c.Send(context.Background(), []PostableAlert{alert(0), alert(1)}); err != nil {
		t.Fatal(err)
	}
	got := srv.Received()[0]
	if got.Path != "/am/api/v2/alerts" {
		t.Errorf("posted to %s, want the prefix kept: /am/api/v2/alerts", got.Path)
	}
	if got.Header.Get("Authorization") != "Bearer "+token {
		t.Errorf("Authorization %q", got.Header.Get("Authorization"))
	}
	if len(got.Alerts) != 2 || got.Alerts[1].Labels["gpu"] != "1" || !got.Alerts[0].EndsAt.Equal(alert(0).EndsAt) {
		t.Errorf("alerts %+v", got.Alerts)
	}
}

func TestClientOmitsZeroTimes(t *testing.T) {
	b, err := json.Marshal(PostableAlert{Labels: map[string]string{"alertname": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"labels":{"alertname":"x"}}` {
		t.Errorf("%s: zero times must be left out (Alertmanager fills them)", b)
	}
}

func TestClientErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script func(*amServer)
		retry  bool
	}{
		{"unavailable", func(s *amServer) { s.FailNext(1, 503, time.Second) }, true},
		{"rate limited", func(s *amServer) { s.FailNext(1, 429, 0) }, true},
		{"timeout", func(s *amServer) { s.HangNext(1) }, true},
		{"bad alerts", func(s *amServer) { s.FailNext(1, 400, 0) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := chattest.NewAlertmanager(t)
			tc.script(srv)
			c := newClient(t, Config{URL: amURL(srv), Timeout: 100 * time.Millisecond})
			err := c.Send(context.Background(), []PostableAlert{alert(0)})
			if e := notify.Classify(err); e == nil || e.Retry != tc.retry {
				t.Fatalf("error %v, want retry=%v", err, tc.retry)
			}
			if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "/am") {
				t.Errorf("error holds the URL: %v", err)
			}
		})
	}
}

func TestClientURLFile(t *testing.T) {
	srv := chattest.NewAlertmanager(t)
	file := filepath.Join(t.TempDir(), "am-url")
	if err := os.WriteFile(file, []byte(amURL(srv)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, Config{URLFile: file})
	if err := c.Send(context.Background(), []PostableAlert{alert(0)}); err != nil {
		t.Fatal(err)
	}
	os.Remove(file)
	err := c.Send(context.Background(), []PostableAlert{alert(0)})
	if e := notify.Classify(err); e == nil || e.Retry || !strings.Contains(e.Reason, file) {
		t.Errorf("missing file: %v; want a permanent error naming it", err)
	}
	if _, err := NewClient(Config{URLFile: file}, nil); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("NewClient with a missing url_file: %v", err)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		c    Config
		want string
	}{
		{Config{}, "one of url and url_file"},
		{Config{URL: "am:9093/" + token}, "url"},
		{Config{URL: "http://am:9093", Timeout: -1}, "timeout"},
		{Config{URL: "http://am:9093", Authorization: &Authorization{}}, "authorization"},
	} {
		err := tc.c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), token) {
			t.Errorf("%+v: error %v, want %q without the URL", tc.c, err, tc.want)
		}
	}
}
