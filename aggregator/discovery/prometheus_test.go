package discovery

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
)

// TestRealPrometheusUsesHTTPSD points Debian's Prometheus at /api/v1/sd
// and checks that it scrapes a static, a file_sd and a registered target
// with the labels the aggregator gives them, and drops a deregistered one.
func TestRealPrometheusUsesHTTPSD(t *testing.T) {
	promBin := testenv.LookPath(t, "prometheus")
	exporter := func() *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4")
			fmt.Fprint(w, "# TYPE gpuwd_test gauge\ngpuwd_test 1\n")
		}))
		t.Cleanup(s.Close)
		return s
	}
	static, fileSD, agent := exporter(), exporter(), exporter()
	hostPort := func(s *httptest.Server) string { return strings.TrimPrefix(s.URL, "http://") }

	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "sd.yml"), fmt.Sprintf("- targets: [%q]\n  labels: {rack: r2}\n", hostPort(fileSD)))
	h := newHarness(t, regConfig+fmt.Sprintf(`
scrape_configs:
  - job_name: gpu
    static_configs:
      - targets: [%q]
        labels: {rack: r1}
  - job_name: inventory
    file_sd_configs:
      - files: [sd.yml]
`, hostPort(static)), dir, Options{})
	h.register(t, registerBody(agent.URL+"/metrics", "1.2"))
	sd := httptest.NewServer(h.m.Handler())
	t.Cleanup(sd.Close)

	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: gpuwd-sd
    http_sd_configs:
      - url: %s/api/v1/sd
        refresh_interval: 1s
`, sd.URL)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	promAddr := freeLoopbackAddr(t)
	cmd := exec.Command(promBin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+promAddr)
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	want := map[string]map[string]string{ // by scrape URL: labels Prometheus must show
		static.URL + "/metrics": {"job": "gpu", "instance": hostPort(static), "rack": "r1"},
		fileSD.URL + "/metrics": {"job": "inventory", "instance": hostPort(fileSD), "rack": "r2",
			"__meta_filepath": filepath.Join(dir, "sd.yml")},
		agent.URL + "/metrics": {"job": "gpuwd-agent", "instance": hostPort(agent), "cluster": "train", "team": "ml",
			"__meta_gpuwd_node": "node-a", "__meta_gpuwd_version": "1.2", "__meta_gpuwd_gpus": "8"},
	}
	var last []promTarget
	waitFor := func(what string, ok func([]promTarget) bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			ts, err := activeTargets(promAddr)
			if err == nil && ok(ts) {
				return
			}
			last = ts
			if time.Now().After(deadline) {
				t.Fatalf("Prometheus never showed %s (last: %+v, %v); its log:\n%s", what, last, err, log.String())
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	waitFor("the three targets up with their labels", func(ts []promTarget) bool {
		if len(ts) != len(want) {
			return false
		}
		for _, pt := range ts {
			labels := want[pt.ScrapeURL]
			if labels == nil || pt.Health != "up" {
				return false
			}
			for k, v := range labels {
				got := pt.Labels[k]
				if strings.HasPrefix(k, "__meta_") {
					got = pt.DiscoveredLabels[k]
				}
				if got != v {
					return false
				}
			}
		}
		return true
	})

	h.call(t, "POST", "/api/v1/agents/deregister", testToken, fmt.Sprintf(`{"url": %q}`, agent.URL+"/metrics"))
	waitFor("the deregistered agent gone", func(ts []promTarget) bool {
		return len(ts) == 2 && !slices.ContainsFunc(ts, func(pt promTarget) bool { return pt.ScrapeURL == agent.URL+"/metrics" })
	})
}

type promTarget struct {
	DiscoveredLabels map[string]string `json:"discoveredLabels"`
	Labels           map[string]string `json:"labels"`
	ScrapeURL        string            `json:"scrapeUrl"`
	Health           string            `json:"health"`
}

func activeTargets(promAddr string) ([]promTarget, error) {
	resp, err := http.Get("http://" + promAddr + "/api/v1/targets?state=active")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var r struct {
		Status string
		Data   struct {
			ActiveTargets []promTarget `json:"activeTargets"`
		}
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("targets: %s", b)
	}
	return r.Data.ActiveTargets, nil
}

// freeLoopbackAddr finds a free port on 127.0.0.1 for a program that cannot
// be told to pick one itself.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
