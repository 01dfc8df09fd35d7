package webhook

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/chattest"
	"github.com/gpu-watchdog/gpu-watchdog/internal/secret"
)

const (
	token = "s3cr3tXOXOtoken"
	cred  = "b3ar3rXOXOcredential"
)

type hookServer = chattest.Server[chattest.Request]

func hookURL(srv *hookServer) secret.Secret {
	return secret.Secret(srv.BaseURL() + "/hooks/" + token)
}

func newNotifier(t *testing.T, c Config) *Notifier {
	t.Helper()
	n, err := New(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPayloadIsAlertmanagersV4(t *testing.T) {
	srv := chattest.NewWebhook(t)
	n := newNotifier(t, Config{URL: hookURL(srv)})
	m := chattest.SampleMessage(1, 1)
	if err := n.Notify(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	req := srv.Received()[0]
	chattest.Golden(t, "message.json", req.Body)
	if ct := req.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var fields map[string]json.RawMessage
	if err := req.JSON(&fields); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"version", "groupKey", "truncatedAlerts", "status", "receiver", "groupLabels", "commonLabels", "commonAnnotations", "externalURL", "alerts"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("payload lacks %q", k)
		}
	}
	var got notify.Message
	if err := req.JSON(&got); err != nil {
		t.Fatal(err)
	}
	if got.Version != "4" || len(got.Alerts) != 2 || got.Alerts[0].Fingerprint != m.Alerts[0].Fingerprint {
		t.Errorf("payload %+v does not match the message", got)
	}
}

func TestMaxAlerts(t *testing.T) {
	for _, tc := range []struct {
		max, alerts, truncatedBefore int
		wantAlerts, wantTruncated    int
	}{
		{0, 5, 0, 5, 0},
		{3, 5, 0, 3, 2},
		{5, 5, 0, 5, 0},
		{2, 5, 4, 2, 7}, // already truncated upstream
	} {
		srv := chattest.NewWebhook(t)
		n := newNotifier(t, Config{URL: hookURL(srv), MaxAlerts: tc.max})
		m := chattest.SampleMessage(tc.alerts, 0)
		m.TruncatedAlerts = tc.truncatedBefore
		if err := n.Notify(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		var got notify.Message
		if err := srv.Received()[0].JSON(&got); err != nil {
			t.Fatal(err)
		}
		if len(got.Alerts) != tc.wantAlerts || got.TruncatedAlerts != tc.wantTruncated {
			t.Errorf("max_alerts %d of %d: sent %d, truncatedAlerts %d; want %d, %d", tc.max, tc.alerts, len(got.Alerts), got.TruncatedAlerts, tc.wantAlerts, tc.wantTruncated)
		}
		if len(m.Alerts) != tc.alerts {
			t.Errorf("the message itself was truncated")
		}
	}
}

func TestAuthorization(t *testing.T) {
	srv := chattest.NewWebhook(t)
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(cred+"-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	inline := newNotifier(t, Config{URL: hookURL(srv), HTTPConfig: HTTPConfig{Authorization: &Authorization{Type: "Token", Credentials: cred}}})
	fromFile := newNotifier(t, Config{URL: hookURL(srv), HTTPConfig: HTTPConfig{Authorization: &Authorization{CredentialsFile: file}}})
	m := chattest.SampleMessage(1, 0)
	for _, n := range []*Notifier{inline, fromFile} {
		if err := n.Notify(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	// Rotation: the file is read at each send.
	if err := os.WriteFile(file, []byte(cred+"-2"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := fromFile.Notify(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range srv.Received() {
		got = append(got, r.Header.Get("Authorization"))
	}
	want := []string{"Token " + cred, "Bearer " + cred + "-1", "Bearer " + cred + "-2"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Authorization headers %q, want %q", got, want)
	}
	os.Remove(file)
	err := fromFile.Notify(context.Background(), m)
	if e := notify.Classify(err); e == nil || e.Retry || !strings.Contains(e.Reason, file) {
		t.Errorf("missing credentials file: %v; want a permanent error naming it", err)
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script func(*hookServer)
		retry  bool
		after  time.Duration
	}{
		{"rate limited", func(s *hookServer) { s.FailNext(1, 429, 4*time.Second) }, true, 4 * time.Second},
		{"server error", func(s *hookServer) { s.FailNext(1, 500, 0) }, true, 0},
		{"unavailable with retry-after", func(s *hookServer) { s.FailNext(1, 503, 7*time.Second) }, true, 7 * time.Second},
		{"outage", func(s *hookServer) { s.SetDown(true) }, true, 0},
		{"timeout", func(s *hookServer) { s.HangNext(1) }, true, 0},
		{"bad request", func(s *hookServer) { s.FailNext(1, 400, 0) }, false, 0},
		{"not found", func(s *hookServer) { s.Delete() }, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := chattest.NewWebhook(t)
			tc.script(srv)
			n := newNotifier(t, Config{URL: hookURL(srv), Timeout: 100 * time.Millisecond,
				HTTPConfig: HTTPConfig{Authorization: &Authorization{Credentials: cred}}})
			err := n.Notify(context.Background(), chattest.SampleMessage(1, 0))
			e := notify.Classify(err)
			if e == nil || e.Retry != tc.retry || e.RetryAfter != tc.after || e.Disable {
				t.Fatalf("error %#v, want retry=%v after %v", e, tc.retry, tc.after)
			}
			assertNoSecret(t, err.Error())
		})
	}
}

func TestValidate(t *testing.T) {
	u := secret.Secret("https://hooks.example.com/" + token)
	for _, tc := range []struct {
		name string
		c    Config
		want string
	}{
		{"ok", Config{URL: u, MaxAlerts: 10}, ""},
		{"none", Config{}, "one of url and url_file is required"},
		{"both", Config{URL: u, URLFile: "/x"}, "only one of"},
		{"bad url", Config{URL: secret.Secret("hooks.example.com/" + token)}, "url"},
		{"max_alerts", Config{URL: u, MaxAlerts: -1}, "max_alerts"},
		{"timeout", Config{URL: u, Timeout: -1}, "timeout"},
		{"no credentials", Config{URL: u, HTTPConfig: HTTPConfig{Authorization: &Authorization{Type: "Bearer"}}}, "credentials"},
		{"two credentials", Config{URL: u, HTTPConfig: HTTPConfig{Authorization: &Authorization{Credentials: cred, CredentialsFile: "/x"}}}, "only one of credentials"},
		{"bad type", Config{URL: u, HTTPConfig: HTTPConfig{Authorization: &Authorization{Type: "Bearer " + cred, Credentials: cred}}}, "type"},
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
	if strings.Contains(s, token) || strings.Contains(s, cred) {
		t.Errorf("a secret leaked: %s", s)
	}
}
