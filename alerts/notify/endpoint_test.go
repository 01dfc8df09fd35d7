package notify

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/internal/secret"
)

const token = "s3cr3tXOXOtoken"

func TestCheckEndpoint(t *testing.T) {
	for _, tc := range []struct {
		inline secret.Secret
		file   string
		want   string
	}{
		{"https://h/" + token, "", ""},
		{"", "/run/secrets/url", ""},
		{"", "", "one of url and url_file is required"},
		{"https://h/" + token, "/f", "only one of url and url_file"},
		{"h/" + token, "", "not an http or https URL"},
		{"https://h/%zz" + token, "", "not a valid URL"},
		{secret.Secret("https://h/\x7f" + token), "", "not a valid URL"},
	} {
		err := CheckEndpoint("url", tc.inline, tc.file)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%v", err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), token) {
			t.Errorf("error %v, want %q without the URL", err, tc.want)
		}
	}
}

func TestReadEndpoint(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "url")
	for _, tc := range []struct {
		content string
		want    string
	}{
		{"https://h/" + token + "\n", ""},
		{"  \n", "is empty"},
		{"ftp://h/" + token, "not an http or https URL"},
	} {
		if err := os.WriteFile(file, []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		u, err := ReadEndpoint("url", "", file)
		if tc.want == "" {
			if err != nil || u.Path != "/"+token {
				t.Errorf("%q: %v %v", tc.content, u, err)
			}
			continue
		}
		e := Classify(err)
		if e == nil || e.Retry || !strings.Contains(e.Reason, tc.want) || !strings.Contains(e.Reason, file) || strings.Contains(e.Reason, token) {
			t.Errorf("%q: error %v; want a permanent %q naming the file, not its content", tc.content, err, tc.want)
		}
	}
	_, err := ReadEndpoint("url", "", filepath.Join(dir, "missing"))
	if e := Classify(err); e == nil || e.Retry || !strings.Contains(e.Reason, "url_file") || !strings.Contains(e.Reason, "missing") {
		t.Errorf("missing file: %v", err)
	}
}

func TestAuthorizationHeader(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cred")
	if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := AuthorizationHeader("", "", file); err != nil || got != "Bearer "+token {
		t.Errorf("%q %v", got, err)
	}
	if got, err := AuthorizationHeader("Token", token, ""); err != nil || got != "Token "+token {
		t.Errorf("%q %v", got, err)
	}
	if _, err := AuthorizationHeader("", token+"\r\nX-Evil: 1", ""); err == nil || strings.Contains(err.Error(), token) {
		t.Errorf("a header injection: %v", err)
	}
}

func TestDo(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("status") {
		case "429":
			w.Header().Set("Retry-After", "1.5")
			w.WriteHeader(429)
		case "404":
			w.WriteHeader(404)
			_, _ = w.Write([]byte("gone"))
		case "hang":
			<-r.Context().Done()
		default:
			_, _ = w.Write([]byte("ok"))
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	u := srv.URL + "/" + token + "?status="
	if resp, err := Do(ctx, srv.Client(), Request{URL: u + "200", Body: []byte("{}")}); err != nil || string(resp.Body) != "ok" {
		t.Errorf("200: %v %v", resp, err)
	}
	_, err := Do(ctx, srv.Client(), Request{URL: u + "429"})
	if e := Classify(err); !e.Retry || e.RetryAfter != 1500*time.Millisecond {
		t.Errorf("429: %#v", e)
	}
	var seen []byte
	_, err = Do(ctx, srv.Client(), Request{URL: u + "404", OnError: func(e *Error, _ http.Header, body []byte) {
		seen, e.Disable = body, true
	}})
	if e := Classify(err); e.Retry || !e.Disable || string(seen) != "gone" {
		t.Errorf("404 with OnError: %#v body %q", e, seen)
	}
	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = Do(tctx, srv.Client(), Request{URL: u + "hang"})
	if e := Classify(err); !e.Retry || strings.Contains(e.Reason, token) {
		t.Errorf("timeout: %#v", e)
	}
}

func TestJSONKeepsHTML(t *testing.T) {
	b, err := JSON(map[string]string{"text": "<http://x|a & b>"})
	if err != nil || string(b) != `{"text":"<http://x|a & b>"}` {
		t.Errorf("%s %v", b, err)
	}
}
