package aggregator_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/agent"
)

// runpodProxy is an HTTPS reverse proxy in front of the agent at target
// that behaves as RunPod's (https://POD-9400.proxy.runpod.net, behind
// Cloudflare): TLS to the client, plain HTTP to the pod's port, the
// X-Forwarded-* and Cloudflare headers added, the Authorization header
// passed on. It counts the requests the agent answered 200.
func runpodProxy(t *testing.T, target string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	u, _ := url.Parse("http://" + target)
	var ok atomic.Int64
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			r.SetXForwarded()
			ip, _, _ := strings.Cut(r.In.RemoteAddr, ":")
			r.Out.Header.Set("CF-Connecting-IP", ip)
			r.Out.Header.Set("CF-Ray", "8c0ffee0c0ffee00-AMS")
			r.Out.Header.Set("CF-Visitor", `{"scheme":"https"}`)
			r.Out.Header.Set("CF-IPCountry", "NL")
			r.Out.Header.Set("CDN-Loop", "cloudflare")
		},
		ModifyResponse: func(resp *http.Response) error {
			if resp.StatusCode == http.StatusOK {
				ok.Add(1)
			}
			return nil
		},
	}
	srv := httptest.NewTLSServer(rp)
	t.Cleanup(srv.Close)
	return srv, &ok
}

// An agent with --metrics-token behind a RunPod-like HTTPS proxy: the
// aggregator scraping through the proxy with the token gets its GPUs'
// series; without it the target is down with the agent's 401. The token
// shows in neither program's log, nor in the targets (API, page, SD) or
// their errors.
func TestSecurityAgentTokenWorksThroughTheRunPodProxy(t *testing.T) {
	t.Parallel()
	raw := make([]byte, 12)
	_, _ = rand.Read(raw)
	token := "proxy-canary-" + hex.EncodeToString(raw)
	addr, agentLog := startAgentLogged(t, agent.Options{Simulate: "h100x8", Hostname: "pod-abc123", MetricsToken: token})
	proxy, answered := runpodProxy(t, addr)

	dir := t.TempDir()
	ca, tokenFile := filepath.Join(dir, "proxy-ca.pem"), filepath.Join(dir, "metrics-token")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: proxy.Certificate().Raw}), 0o600)
	os.WriteFile(tokenFile, []byte(token+"\n"), 0o600)
	host := strings.TrimPrefix(proxy.URL, "https://")
	s, serverLog := startServerLogged(t, `global: {scrape_interval: 1s, scrape_timeout: 1s}
scrape_configs:
  - job_name: runpod-proxy
    scheme: https
    tls_config: {ca_file: `+ca+`}
    authorization: {credentials_file: `+tokenFile+`}
    static_configs: [{targets: ["`+host+`"]}]
  - job_name: runpod-proxy-no-token
    scheme: https
    tls_config: {ca_file: `+ca+`}
    static_configs: [{targets: ["`+host+`"]}]
`, nil)
	base := "http://" + s.Addr()

	type target struct {
		Labels    map[string]string
		ScrapeURL string
		Health    string
		LastError string
	}
	var targets []target
	var targetsJSON string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		resp, body := send(t, http.DefaultClient, mustRequest(t, http.MethodGet, base+"/api/v1/targets", ""))
		var out struct {
			Data struct{ ActiveTargets []target }
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &out) != nil {
			t.Fatalf("/api/v1/targets: %d %s", resp.StatusCode, body)
		}
		targets, targetsJSON = out.Data.ActiveTargets, body
		health := map[string]target{}
		for _, tg := range targets {
			health[tg.Labels["job"]] = tg
		}
		if health["runpod-proxy"].Health == "up" && health["runpod-proxy-no-token"].Health == "down" {
			if e := health["runpod-proxy-no-token"].LastError; !strings.Contains(e, "401") {
				t.Errorf("the target without the token is down for %q, want the agent's 401", e)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("targets never up (with the token) and down (without): %+v", targets)
		}
	}
	if got := query(t, s, `DCGM_FI_DEV_GPU_UTIL{job="runpod-proxy"}`); len(got) != 8 {
		t.Errorf("%d GPU utilisation series through the proxy, want 8: %v", len(got), got)
	}
	if answered.Load() == 0 {
		t.Error("nothing was scraped through the proxy")
	}

	// Straight through the proxy, as anyone on the internet could.
	c := proxy.Client()
	resp, body := send(t, c, mustRequest(t, http.MethodGet, proxy.URL+"/metrics", ""))
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("/metrics through the proxy without the token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	req := mustRequest(t, http.MethodGet, proxy.URL+"/metrics", "")
	req.Header.Set("Authorization", "Bearer "+token)
	if resp, body := send(t, c, req); resp.StatusCode != http.StatusOK || !strings.Contains(body, "DCGM_FI_DEV_GPU_UTIL{") {
		t.Errorf("/metrics through the proxy with the token: %d", resp.StatusCode)
	}

	seen := map[string]string{"the agent's log": agentLog.String(), "the aggregator's log": serverLog.String(),
		"/api/v1/targets": targetsJSON, "/metrics through the proxy without the token": body}
	b := login(t, s)
	for _, p := range []string{"/targets", "/nodes", "/nodes/pod-abc123"} {
		resp, err := b.HTTP().Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		seen[p] = string(page)
	}
	for _, p := range []string{"/api/v1/sd", "/metrics", "/api/v1/status/flags", "/api/v1/query?query=up"} {
		_, seen[p] = send(t, http.DefaultClient, mustRequest(t, http.MethodGet, base+p, ""))
	}
	for where, text := range seen {
		if strings.Contains(text, token) {
			t.Errorf("the metrics token is in %s", where)
		}
	}
	if !strings.Contains(seen["/targets"], "runpod-proxy-no-token") {
		t.Errorf("the targets page does not list the targets:\n%s", seen["/targets"])
	}
}
