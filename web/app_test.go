package web

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/web/pages/targets"
	"github.com/gpu-watchdog/gpu-watchdog/web/ui"
)

type noTargets struct{}

func (noTargets) Targets() []targets.Target { return nil }

func serve(t *testing.T, path string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	New(Options{Targets: noTargets{}, Version: "test"}).ServeHTTP(rec, req)
	return rec
}

func TestSecurityHeadersOnEveryPage(t *testing.T) {
	rec := serve(t, "/targets")
	if rec.Code != 200 {
		t.Fatalf("GET /targets: %d", rec.Code)
	}
	h := rec.Header()
	for name, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		"Referrer-Policy":        "same-origin",
	} {
		if h.Get(name) != want {
			t.Errorf("%s = %q, want %q", name, h.Get(name), want)
		}
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	if !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Errorf("Content-Type = %q", h.Get("Content-Type"))
	}
}

func TestStylesheetIsEmbeddedVersionedAndCompressed(t *testing.T) {
	path := ui.AssetPath("style.css")
	if !strings.Contains(path, "?v=") {
		t.Fatalf("asset path %q has no version", path)
	}
	rec := serve(t, path, "Accept-Encoding", "gzip")
	if rec.Code != 200 || rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("GET %s: %d, encoding %q", path, rec.Code, rec.Header().Get("Content-Encoding"))
	}
	if !strings.Contains(rec.Header().Get("Cache-Control"), "immutable") {
		t.Errorf("Cache-Control = %q", rec.Header().Get("Cache-Control"))
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	css, _ := io.ReadAll(zr)
	if !strings.Contains(string(css), "prefers-color-scheme: dark") {
		t.Error("the stylesheet has no dark theme")
	}
}

func TestUnknownPathIsAPlainNotFound(t *testing.T) {
	rec := serve(t, "/static/nope.css")
	if rec.Code != http.StatusNotFound {
		t.Errorf("missing asset: %d", rec.Code)
	}
}

func TestPagesCarryTheRefreshIntervalAndTheScript(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/targets", nil)
	rec := httptest.NewRecorder()
	New(Options{Targets: noTargets{}, Refresh: 15 * time.Second}).ServeHTTP(rec, req)
	body := rec.Body.String()
	if !strings.Contains(body, `<meta name="gpuwd-refresh" content="15">`) || !strings.Contains(body, `<main data-live>`) {
		t.Error("the page does not tell the script how often to refresh, or what")
	}
	script := serve(t, ui.AssetPath("live.js"))
	if script.Code != 200 || !strings.Contains(script.Body.String(), "main[data-live]") {
		t.Errorf("live.js: %d", script.Code)
	}
}
