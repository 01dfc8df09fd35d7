package aggregator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/agent"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator"
	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
)

// startAgent runs a simulated agent in this process; stable readings make
// two scrapers taking samples at different instants see the same values.
func startAgent(t *testing.T, spec, host string, seed uint64) string {
	t.Helper()
	opts := agent.DefaultOptions()
	opts.Simulate, opts.SimulateSeed, opts.SimulateStable, opts.Hostname = spec, seed, true, host
	opts.SampleInterval = 200 * time.Millisecond
	a, err := agent.New(opts, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	return ln.Addr().String()
}

// startServer runs gpuwd serve in this process with the given config.
func startServer(t testing.TB, config string) *aggregator.Server {
	t.Helper()
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "gpuwd.yml")
	if err := os.WriteFile(cfgFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := aggregator.DefaultOptions()
	opts.ConfigFile, opts.Listen, opts.DataDir, opts.SelfScrape = cfgFile, "127.0.0.1:0", filepath.Join(dir, "data"), false
	s, err := aggregator.New(context.Background(), opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return s
}

// startPrometheus runs Debian's Prometheus with the given config.
func startPrometheus(t *testing.T, config string, extraArgs ...string) string {
	t.Helper()
	bin := testenv.LookPath(t, "prometheus")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	args := append([]string{"--config.file=" + filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path=" + filepath.Join(dir, "data"), "--web.listen-address=" + addr}, extraArgs...)
	cmd := exec.Command(bin, args...)
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus log:\n%s", log.String())
		}
	})
	return "http://" + addr
}

type apiSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
	Values [][2]any          `json:"values"`
}

// apiQuery runs an instant (step 0) or range query against a Prometheus API.
func apiQuery(base, expr string, at time.Time, rangeFrom time.Time, step time.Duration) ([]apiSample, error) {
	form := url.Values{"query": {expr}}
	path := "/api/v1/query"
	if step > 0 {
		path = "/api/v1/query_range"
		form.Set("start", unix(rangeFrom))
		form.Set("end", unix(at))
		form.Set("step", strconv.FormatFloat(step.Seconds(), 'f', -1, 64))
	} else {
		form.Set("time", unix(at))
	}
	resp, err := http.PostForm(base+path, form)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r struct {
		Status, Error string
		Data          struct{ Result []apiSample }
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("%s: %v: %s", expr, err, body)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("%s: %s", expr, r.Error)
	}
	return r.Data.Result, nil
}

func unix(t time.Time) string { return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64) }

// canonical renders a result without timestamps: every series with its
// value(s), sorted, so two servers that sampled at different instants
// compare equal when the values are the same.
func canonical(res []apiSample) []string {
	var out []string
	for _, s := range res {
		keys := make([]string, 0, len(s.Metric))
		for k := range s.Metric {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "%s=%q,", k, s.Metric[k])
		}
		b.WriteString(" =>")
		if s.Value[1] != nil {
			b.WriteString(" " + round(s.Value[1]))
		}
		for _, v := range s.Values {
			b.WriteString(" " + round(v[1]))
		}
		out = append(out, b.String())
	}
	slices.Sort(out)
	return out
}

func round(v any) string {
	f, err := strconv.ParseFloat(fmt.Sprint(v), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Sprint(v)
	}
	return strconv.FormatFloat(f, 'g', 12, 64)
}

// TestSameAnswersAsPrometheus scrapes the same simulated agents with gpuwd
// and a real Prometheus and asks both the same instant and range queries.
func TestSameAnswersAsPrometheus(t *testing.T) {
	var targets []string
	for i, spec := range []string{"h100x8", "a100x8", "mixed"} {
		targets = append(targets, strconv.Quote(startAgent(t, spec, fmt.Sprintf("node-%d", i), uint64(i+1))))
	}
	scrapeConfig := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: gpu
    static_configs:
      - targets: [%s]
        labels: {cluster: compat}
`, strings.Join(targets, ", "))
	srv := startServer(t, scrapeConfig)
	gpuwd := "http://" + srv.Addr()
	prom := startPrometheus(t, scrapeConfig)

	// Both must have scraped every target for a few seconds.
	ready := func(base string) bool {
		res, err := apiQuery(base, `count_over_time(up{job="gpu"}[1m]) >= 8`, time.Now(), time.Time{}, 0)
		return err == nil && len(res) == len(targets)
	}
	deadline := time.Now().Add(90 * time.Second)
	for !ready(gpuwd) || !ready(prom) {
		if time.Now().After(deadline) {
			t.Fatal("gpuwd and Prometheus did not both scrape every target 8 times within 90s")
		}
		time.Sleep(250 * time.Millisecond)
	}
	at := time.Now().Add(-time.Second)
	queries := []string{
		`up{job="gpu"}`,
		`count by (__name__) ({job="gpu", __name__=~"DCGM_.*"})`,
		`DCGM_FI_DEV_GPU_TEMP`,
		`DCGM_FI_DEV_FB_USED{modelName=~".*A100.*"}`,
		`avg by (Hostname) (DCGM_FI_DEV_GPU_UTIL)`,
		`sum by (cluster) (DCGM_FI_DEV_POWER_USAGE)`,
		`max_over_time(DCGM_FI_DEV_MEMORY_TEMP[30s])`,
		`rate(DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION[30s])`,
		`max by (modelName) (DCGM_FI_DEV_SM_CLOCK)`, // not topk: ties break by series order
		`gpuwd_gpu_info`,
		`gpuwd_clock_event_active > 0`,
		`count(DCGM_FI_DEV_GPU_UTIL) by (modelName)`,
		`DCGM_FI_DEV_POWER_USAGE / on (UUID) group_left gpuwd_power_limit_watts`,
		`DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE) > 0.1`,
	}
	for _, q := range queries {
		got, err1 := apiQuery(gpuwd, q, at, time.Time{}, 0)
		want, err2 := apiQuery(prom, q, at, time.Time{}, 0)
		if err1 != nil || err2 != nil {
			t.Errorf("%s: gpuwd %v, prometheus %v", q, err1, err2)
			continue
		}
		if len(want) == 0 {
			t.Errorf("%s: Prometheus returned nothing; the query proves nothing", q)
		}
		if g, w := canonical(got), canonical(want); !slices.Equal(g, w) {
			t.Errorf("%s:\ngpuwd      %q\nprometheus %q", q, g, w)
		}
	}
	for _, q := range []string{`avg(DCGM_FI_DEV_GPU_TEMP)`, `DCGM_FI_DEV_POWER_USAGE{gpu="0"}`} {
		got, err1 := apiQuery(gpuwd, q, at, at.Add(-3*time.Second), time.Second)
		want, err2 := apiQuery(prom, q, at, at.Add(-3*time.Second), time.Second)
		if err1 != nil || err2 != nil {
			t.Errorf("range %s: gpuwd %v, prometheus %v", q, err1, err2)
			continue
		}
		if g, w := canonical(got), canonical(want); !slices.Equal(g, w) || len(w) == 0 {
			t.Errorf("range %s:\ngpuwd      %q\nprometheus %q", q, g, w)
		}
	}
}

// TestRemoteWriteIntoPrometheus forwards everything gpuwd scrapes to a real
// Prometheus' remote-write receiver and reads it back from there.
func TestRemoteWriteIntoPrometheus(t *testing.T) {
	agentAddr := startAgent(t, "h100x8", "node-rw", 7)
	prom := startPrometheus(t, "global: {scrape_interval: 1h}\n", "--web.enable-remote-write-receiver")
	srv := startServer(t, fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  external_labels: {replica: gpuwd-a}
scrape_configs:
  - job_name: gpu
    static_configs: [{targets: [%q]}]
remote_write:
  - url: %s/api/v1/write
`, agentAddr, prom))
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := apiQuery(prom, `count_over_time(DCGM_FI_DEV_GPU_TEMP{job="gpu", replica="gpuwd-a"}[1m]) >= 4`, time.Now(), time.Time{}, 0)
		if err == nil && len(res) == 8 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus never received the 8 GPU temperatures by remote write (last %v, %v)", res, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
	at := time.Now().Add(-2 * time.Second)
	q := `DCGM_FI_DEV_POWER_USAGE{job="gpu"}`
	got, err1 := apiQuery("http://"+srv.Addr(), q, at, time.Time{}, 0)
	want, err2 := apiQuery(prom, q, at, time.Time{}, 0)
	if err1 != nil || err2 != nil || len(got) != 8 {
		t.Fatalf("gpuwd %v %v; prometheus %v %v", got, err1, want, err2)
	}
	// The same samples, plus the external label on the receiving side.
	for i := range want {
		delete(want[i].Metric, "replica")
	}
	if g, w := canonical(got), canonical(want); !slices.Equal(g, w) {
		t.Errorf("gpuwd      %q\nprometheus %q", g, w)
	}
}
