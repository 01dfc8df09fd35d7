package aggregator_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator"
)

// The dashboard is at /, beside the API; /api lists the APIs.
func TestDashboardIsServedBesideTheAPI(t *testing.T) {
	s := startServer(t, "dashboard: {public: true}\n")
	base := "http://" + s.Addr()
	for path, want := range map[string]string{
		"/":        `data-testid="gpus-total"`,
		"/targets": `data-testid="targets-summary"`,
		"/nodes":   `data-testid="gpu-summary"`,
		"/slurm":   `data-testid="no-slurm"`,
		"/alerts":  `data-testid="no-rules"`,
		"/api":     "Prometheus API",
	} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d, want a page with %s", path, resp.StatusCode, want)
		}
	}
	// The API still answers: the dashboard does not shadow it.
	resp, err := http.Get(base + "/api/v1/query?query=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("/api/v1/query: %d", resp.StatusCode)
	}
}

// Without dashboard.public every page asks for a login, and the API's
// state-changing calls need the admin token gpuwd made at first start.
func TestPrivateDashboardAndGuardedAPI(t *testing.T) {
	s := startServer(t, "")
	base := "http://" + s.Addr()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/", "/nodes", "/alerts", "/audit"} {
		resp, err := noFollow.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
			t.Errorf("GET %s: %d → %q; want a redirect to /login", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	// Reading the API stays open, as Prometheus' does.
	if resp, err := http.Get(base + "/api/v2/silences"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /api/v2/silences: %v %v", resp, err)
	}
	silence := `{"matchers":[{"name":"alertname","value":"X","isRegex":false}],"startsAt":"2026-01-01T00:00:00Z","endsAt":"2036-01-01T00:00:00Z","createdBy":"t","comment":"c"}`
	post := func(token string) int {
		req, _ := http.NewRequest(http.MethodPost, base+"/api/v2/silences", strings.NewReader(silence))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(""); code != http.StatusUnauthorized {
		t.Errorf("POST /api/v2/silences without a token: %d", code)
	}
	if code := post("not-the-token-at-all"); code != http.StatusUnauthorized {
		t.Errorf("POST /api/v2/silences with a wrong token: %d", code)
	}
	token, err := os.ReadFile(filepath.Join(s.DataDir(), aggregator.AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(filepath.Join(s.DataDir(), aggregator.AdminTokenFile)); info.Mode().Perm() != 0o600 {
		t.Errorf("admin token file mode %v", info.Mode().Perm())
	}
	if code := post(strings.TrimSpace(string(token))); code != http.StatusOK {
		t.Errorf("POST /api/v2/silences with the admin token: %d", code)
	}
}
