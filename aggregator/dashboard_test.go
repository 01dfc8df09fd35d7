package aggregator_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// The dashboard is at /, beside the API; /api lists the APIs.
func TestDashboardIsServedBesideTheAPI(t *testing.T) {
	s := startServer(t, "")
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
