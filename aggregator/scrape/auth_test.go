package scrape

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
)

// tokenAgent serves a page only with the bearer token it currently expects.
type tokenAgent struct {
	mu    sync.Mutex
	token string
}

func (a *tokenAgent) expect(tok string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.token = tok
}

func (a *tokenAgent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	want := "Bearer " + a.token
	a.mu.Unlock()
	if r.Header.Get("Authorization") != want {
		http.Error(w, "401 unauthorized", http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", textPlain)
	_, _ = w.Write([]byte("a 1\n"))
}

func TestBearerTokenFileRotates(t *testing.T) {
	ta := &tokenAgent{token: "first"}
	srv := httptest.NewServer(ta)
	t.Cleanup(srv.Close)
	file := filepath.Join(t.TempDir(), "token")
	write := func(s string) {
		if err := os.WriteFile(file, []byte(s+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("first")
	cfg := jobConfig("j", time.Minute, 10*time.Second)
	cfg.Authorization = &config.Authorization{Type: "Bearer", CredentialsFile: file}
	h := newHarness(t, cfg, targetFor(t, "j", srv.URL))

	h.scrape()
	if st := h.status(); st.Health != HealthUp {
		t.Fatalf("with the token: %s %q", st.Health, st.LastError)
	}
	ta.expect("second") // the agent's token is rotated…
	h.scrape()
	if st := h.status(); st.LastError != "server returned HTTP status 401 Unauthorized" {
		t.Fatalf("with the old token: %s %q", st.Health, st.LastError)
	}
	write("second") // …and so is the file
	h.scrape()
	if st := h.status(); st.Health != HealthUp {
		t.Fatalf("with the rotated token: %s %q", st.Health, st.LastError)
	}
	os.Remove(file)
	h.scrape()
	if st := h.status(); !strings.HasPrefix(st.LastError, "authorization: read secret:") {
		t.Fatalf("without a token file: %q", st.LastError)
	}
}

func TestInlineCredentials(t *testing.T) {
	ta := &tokenAgent{token: "s3cret"}
	srv := httptest.NewServer(ta)
	t.Cleanup(srv.Close)
	cfg := jobConfig("j", time.Minute, 10*time.Second)
	cfg.Authorization = &config.Authorization{Type: "Bearer", Credentials: "s3cret"}
	h := newHarness(t, cfg, targetFor(t, "j", srv.URL))
	h.scrape()
	if st := h.status(); st.Health != HealthUp {
		t.Fatalf("%s %q", st.Health, st.LastError)
	}
}

func TestTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", textPlain)
		_, _ = w.Write([]byte("a 1\n"))
	}))
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		tls  config.TLSConfig
		want Health
	}{
		{"trusted CA", config.TLSConfig{CAFile: ca}, HealthUp},
		{"unknown CA", config.TLSConfig{}, HealthDown},
		{"insecure", config.TLSConfig{InsecureSkipVerify: true}, HealthUp},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := jobConfig("j", time.Minute, 10*time.Second)
			cfg.Scheme = "https"
			cfg.TLSConfig = tc.tls
			h := newHarness(t, cfg, targetFor(t, "j", srv.URL))
			h.scrape()
			if st := h.status(); st.Health != tc.want {
				t.Errorf("health %s (%q), want %s", st.Health, st.LastError, tc.want)
			}
		})
	}
	// A CA file that cannot be read fails the configuration, not a scrape.
	m := NewManager(newFakeStorage(), Options{})
	cfg := jobConfig("j", time.Minute, 10*time.Second)
	cfg.TLSConfig.CAFile = filepath.Join(t.TempDir(), "missing.pem")
	if err := m.ApplyConfig([]config.ScrapeConfig{cfg}); err == nil || !strings.Contains(err.Error(), `scrape job "j": tls_config`) {
		t.Errorf("ApplyConfig with a missing CA file: %v", err)
	}
}
