package agent

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite golden files")

// logBuffer collects the agent's log for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// served is an agent serving on a loopback port.
type served struct {
	*Agent
	url string
	log *logBuffer
}

func serve(t *testing.T, opts Options) *served {
	t.Helper()
	if opts.SampleInterval == 0 {
		opts.SampleInterval = 100 * time.Millisecond
	}
	if opts.NVMLLibrary == "" {
		opts.NVMLLibrary = DefaultNVMLLibrary
	}
	if opts.Hostname == "" {
		opts.Hostname = "node-test"
	}
	logs := &logBuffer{}
	a, err := New(opts, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	scheme := "http"
	if opts.TLSCertFile != "" {
		scheme = "https"
	}
	return &served{Agent: a, url: scheme + "://" + ln.Addr().String(), log: logs}
}

func get(t *testing.T, url string, header ...string) (*http.Response, string) {
	t.Helper()
	return do(t, http.DefaultClient, "GET", url, header...)
}

func do(t *testing.T, c *http.Client, method, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// eventually polls cond until it holds; the bound only keeps a broken test
// from hanging.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never happened: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// volatile are the families whose values change from run to run.
var volatile = regexp.MustCompile(`^(go_|process_|promhttp_|gpuwd_collector_duration_seconds|gpuwd_sample_|gpuwd_build_info)`)

// stableExposition drops the volatile families from a text exposition.
func stableExposition(body string) string {
	var out []string
	for line := range strings.SplitSeq(body, "\n") {
		name := strings.TrimPrefix(strings.TrimPrefix(line, "# HELP "), "# TYPE ")
		if line == "" || volatile.MatchString(name) {
			continue
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n") + "\n"
}

func TestGoldenMetricsOfASimulatedEightGPUServer(t *testing.T) {
	a := serve(t, Options{Simulate: "h100x8", SimulateStable: true, Hostname: "node-golden"})
	a.sampler.sample() // GPM ratios need two samples
	_, body := get(t, a.url+"/metrics")
	got := stableExposition(body)
	golden := filepath.Join("testdata", "metrics-h100x8.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./agent -run Golden -update)", err)
	}
	if got != string(want) {
		t.Errorf("/metrics differs from %s (run with -update after checking the change):\n%s", golden, firstDiff(string(want), got))
	}
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl
		}
	}
	return ""
}

// dcgmCounters are dcgm-exporter's counters, whose names have no "_total".
var dcgmCounters = []string{
	"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "DCGM_FI_DEV_PCIE_REPLAY_COUNTER",
	"DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "DCGM_FI_DEV_ECC_SBE_AGG_TOTAL", "DCGM_FI_DEV_ECC_DBE_AGG_TOTAL",
	"DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS", "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS",
	"DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL", "DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL", "DCGM_FI_DEV_NVLINK_CRC_DATA_ERROR_COUNT_TOTAL",
	"DCGM_FI_DEV_NVLINK_REPLAY_ERROR_COUNT_TOTAL", "DCGM_FI_DEV_NVLINK_RECOVERY_ERROR_COUNT_TOTAL",
}

// allowedLint are promtool's findings that dcgm-exporter compatibility
// forces, by name: its camelCase modelName label (on every per-GPU series),
// its counters' names without _total, and one counter named _COUNTER.
// Nothing else may appear.
func allowedLint(finding string) bool {
	if strings.HasSuffix(finding, " label names should be written in 'snake_case' not 'camelCase'") {
		return true // modelName: checked below to be the only camelCase label
	}
	if finding == "DCGM_FI_DEV_PCIE_REPLAY_COUNTER metric name should not include type 'counter'" {
		return true
	}
	name, _, _ := strings.Cut(finding, " ")
	return finding == name+` counter metrics should have "_total" suffix` && slices.Contains(dcgmCounters, name)
}

func TestPromtoolCheckMetrics(t *testing.T) {
	promtool := testenv.LookPath(t, "promtool")
	a := serve(t, Options{Simulate: "mixed", CollectProcesses: true})
	a.sampler.sample()
	_, body := get(t, a.url+"/metrics")

	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	out, _ := cmd.CombinedOutput() // exit 1 whenever there is a finding
	findings := 0
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		if line == "" {
			continue
		}
		findings++
		if !allowedLint(line) {
			t.Errorf("promtool check metrics: %s", line)
		}
	}
	if findings == 0 {
		t.Log("promtool found nothing")
	}
	// The camelCase finding must come from modelName alone.
	for name := range labelNames(body) {
		if regexp.MustCompile(`[a-z][A-Z]`).MatchString(name) && name != "modelName" {
			t.Errorf("camelCase label %q is not one dcgm-exporter forces", name)
		}
	}
}

// labelNames collects every label name in a text exposition.
func labelNames(body string) map[string]bool {
	names := map[string]bool{}
	re := regexp.MustCompile(`[{,]([A-Za-z_][A-Za-z0-9_]*)="`)
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		names[m[1]] = true
	}
	return names
}

func TestOpenMetricsKeepsDCGMNames(t *testing.T) {
	a := serve(t, Options{Simulate: "h100x2"})
	resp, body := get(t, a.url+"/metrics", "Accept", "application/openmetrics-text; version=1.0.0; charset=utf-8")
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/openmetrics-text") {
		t.Fatalf("Content-Type = %q, want OpenMetrics", ct)
	}
	if !strings.HasSuffix(body, "# EOF\n") {
		t.Error("OpenMetrics body must end with # EOF")
	}
	if !strings.Contains(body, "\nDCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{") || strings.Contains(body, "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION_total") {
		t.Error("the energy counter must keep its dcgm-exporter name under OpenMetrics")
	}
	if !strings.Contains(body, "# TYPE gpuwd_nvlink_transmit_bytes counter") {
		t.Error("our own _total counters stay counters")
	}
}

func TestMetricsAreGzippedWhenAsked(t *testing.T) {
	a := serve(t, Options{Simulate: "h100x8"})
	req, _ := http.NewRequest("GET", a.url+"/metrics", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding = %q", resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(zr)
	if !bytes.Contains(body, []byte("DCGM_FI_DEV_GPU_UTIL{")) {
		t.Error("gzipped body lacks GPU series")
	}
}

func TestBearerToken(t *testing.T) {
	a := serve(t, Options{Simulate: "h100x1", MetricsToken: "s3cret-token"})
	for _, c := range []struct {
		path, auth string
		want       int
	}{
		{"/metrics", "", 401},
		{"/metrics", "Bearer wrong", 401},
		{"/metrics", "s3cret-token", 401},
		{"/metrics", "Bearer s3cret-token", 200},
		{"/api/v1/node", "", 401},
		{"/api/v1/node", "Bearer s3cret-token", 200},
		{"/healthz", "", 200},
		{"/readyz", "", 200},
	} {
		var h []string
		if c.auth != "" {
			h = []string{"Authorization", c.auth}
		}
		resp, body := get(t, a.url+c.path, h...)
		if resp.StatusCode != c.want {
			t.Errorf("GET %s with %q: %d, want %d", c.path, c.auth, resp.StatusCode, c.want)
		}
		if resp.StatusCode == 401 && resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("401 without WWW-Authenticate")
		}
		if strings.Contains(body, "s3cret") {
			t.Errorf("%s leaks the token", c.path)
		}
	}
	if strings.Contains(a.log.String(), "s3cret") {
		t.Error("the token reached the log")
	}
}

func TestTokenFile(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "token")
	if err := os.WriteFile(f, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := serve(t, Options{Simulate: "h100x1", MetricsTokenFile: f})
	if resp, _ := get(t, a.url+"/metrics", "Authorization", "Bearer from-file"); resp.StatusCode != 200 {
		t.Errorf("token from file refused: %d", resp.StatusCode)
	}
}

func TestWithoutNVMLTheAgentStillServes(t *testing.T) {
	a := serve(t, Options{NVMLLibrary: "/nonexistent/libnvidia-ml.so.1"})
	resp, body := get(t, a.url+"/metrics")
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	if !strings.Contains(body, "\ngpuwd_nvml_up 0\n") {
		t.Error("want gpuwd_nvml_up 0")
	}
	if !strings.Contains(body, "\ngpuwd_build_info{") || !strings.Contains(body, "\nprocess_resident_memory_bytes ") {
		t.Error("the agent's own metrics must still be served")
	}
	if strings.Contains(body, "DCGM_FI_") {
		t.Error("GPU series without a GPU")
	}
	_, node := get(t, a.url+"/api/v1/node")
	var info nodeInfo
	if err := json.Unmarshal([]byte(node), &info); err != nil {
		t.Fatal(err)
	}
	if info.NVML.Up || !strings.Contains(info.NVML.Error, "ERROR_LIBRARY_NOT_FOUND") || len(info.GPUs) != 0 {
		t.Errorf("inventory = %+v", info.NVML)
	}
	time.Sleep(3 * a.opts.SampleInterval) // several cycles: the reason is still logged once
	if n := strings.Count(a.log.String(), "no GPU metrics"); n != 1 {
		t.Errorf("the reason was logged %d times, want once:\n%s", n, a.log.String())
	}
	if r, _ := get(t, a.url+"/readyz"); r.StatusCode != 200 {
		t.Errorf("/readyz = %d", r.StatusCode)
	}
}

func TestNodeInventory(t *testing.T) {
	t.Setenv("RUNPOD_POD_ID", "abc123xyz")
	t.Setenv("RUNPOD_GPU_COUNT", "4")
	a := serve(t, Options{Simulate: "mixed", Version: "1.2.3"})
	resp, body := get(t, a.url+"/api/v1/node")
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var info nodeInfo
	if err := json.Unmarshal([]byte(body), &info); err != nil {
		t.Fatal(err)
	}
	if info.Hostname != "node-test" || info.AgentVersion != "1.2.3" || !info.Simulated || !info.NVML.Up || info.NVML.CUDAVersion != "12.4" {
		t.Errorf("inventory = %+v", info)
	}
	if len(info.GPUs) != 4 || info.GPUs[1].Name != "NVIDIA A100-SXM4-80GB" || !info.GPUs[3].Up || info.GPUs[0].MemoryTotalBytes == 0 {
		t.Errorf("gpus = %+v", info.GPUs)
	}
	if info.RunPod == nil || info.RunPod.PodID != "abc123xyz" || info.RunPod.GPUCount != 4 {
		t.Errorf("runpod = %+v", info.RunPod)
	}
}

func TestSimulatedXIDAndLostGPU(t *testing.T) {
	a := serve(t, Options{Simulate: "h100x4"})
	if r, body := do(t, http.DefaultClient, "POST", a.url+"/debug/sim/xid?gpu=2&xid=79"); r.StatusCode != 200 {
		t.Fatalf("inject XID: %d %s", r.StatusCode, body)
	}
	eventually(t, "XID 79 counted on GPU 2", func() bool {
		_, body := get(t, a.url+"/metrics")
		return regexp.MustCompile(`gpuwd_xid_errors_total\{[^}]*gpu="2"[^}]*xid="79"\} 1\n`).MatchString(body)
	})
	if r, _ := do(t, http.DefaultClient, "POST", a.url+"/debug/sim/lose?gpu=1"); r.StatusCode != 200 {
		t.Fatal("lose GPU refused")
	}
	eventually(t, "GPU 1 reported down", func() bool {
		_, body := get(t, a.url+"/metrics")
		return regexp.MustCompile(`gpuwd_gpu_up\{[^}]*gpu="1"[^}]*\} 0\n`).MatchString(body) &&
			regexp.MustCompile(`gpuwd_gpu_up\{[^}]*gpu="0"[^}]*\} 1\n`).MatchString(body)
	})
	_, node := get(t, a.url+"/api/v1/node")
	if !strings.Contains(node, "ERROR_GPU_IS_LOST") {
		t.Errorf("inventory does not say why GPU 1 is down:\n%s", node)
	}
	if r, _ := do(t, http.DefaultClient, "POST", a.url+"/debug/sim/xid?gpu=9&xid=1"); r.StatusCode != 400 {
		t.Errorf("XID on a GPU that does not exist: %d, want 400", r.StatusCode)
	}
	if r, body := do(t, http.DefaultClient, "POST", a.url+"/debug/sim/heat?gpu=3&celsius=97"); r.StatusCode != 200 {
		t.Fatalf("heat: %d %s", r.StatusCode, body)
	}
	eventually(t, "GPU 3 at 97 °C", func() bool {
		_, body := get(t, a.url+"/metrics")
		return regexp.MustCompile(`DCGM_FI_DEV_GPU_TEMP\{[^}]*gpu="3"[^}]*\} 97\n`).MatchString(body)
	})
	if r, _ := do(t, http.DefaultClient, "POST", a.url+"/debug/sim/heat?gpu=3&celsius=hot"); r.StatusCode != 400 {
		t.Errorf("heat without a number: %d, want 400", r.StatusCode)
	}
}

func TestDebugEndpointsOnlyWhenSimulating(t *testing.T) {
	a := serve(t, Options{NVMLLibrary: "/nonexistent/libnvidia-ml.so.1"})
	if r, _ := do(t, http.DefaultClient, "POST", a.url+"/debug/sim/xid?gpu=0&xid=79"); r.StatusCode != 404 {
		t.Errorf("debug endpoint on a real agent: %d, want 404", r.StatusCode)
	}
}

func TestBadOptionsAreClearErrors(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty")
	_ = os.WriteFile(empty, nil, 0o600)
	for _, c := range []struct {
		opts Options
		want string
	}{
		{Options{SampleInterval: time.Millisecond}, "--sample-interval"},
		{Options{SampleInterval: time.Second, TLSCertFile: "c.pem"}, "--tls-cert-file and --tls-key-file"},
		{Options{SampleInterval: time.Second, MetricsTokenFile: "/nonexistent/token"}, "--metrics-token-file"},
		{Options{SampleInterval: time.Second, MetricsTokenFile: empty}, "is empty"},
		{Options{SampleInterval: time.Second, Simulate: "v100x8"}, `unknown GPU model "v100"`},
		{Options{SampleInterval: time.Second, CostPerHour: -2}, "--cost-per-hour"},
		{Options{SampleInterval: time.Second, Simulate: "h100x8", Collectors: "utilization,nope"}, `unknown collector "nope"`},
	} {
		_, err := New(c.opts, slog.New(slog.DiscardHandler))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want %q", c.opts, err, c.want)
		}
	}
}

func TestHealthzFailsWhenSamplingStalls(t *testing.T) {
	a := serve(t, Options{Simulate: "h100x1", SampleInterval: time.Hour})
	if r, _ := get(t, a.url+"/healthz"); r.StatusCode != 200 {
		t.Fatalf("/healthz = %d", r.StatusCode)
	}
	a.sampler.now = func() time.Time { return time.Now().Add(6 * time.Hour) }
	if r, _ := get(t, a.url+"/healthz"); r.StatusCode != 503 {
		t.Errorf("/healthz with a stalled sampler = %d, want 503", r.StatusCode)
	}
}

func TestCollectorSelection(t *testing.T) {
	a := serve(t, Options{Simulate: "h100x2", Collectors: "power, temperature"})
	_, body := get(t, a.url+"/metrics")
	var collectors []string
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if m := regexp.MustCompile(`^gpuwd_collector_success\{collector="(\w+)"\}`).FindStringSubmatch(sc.Text()); m != nil {
			collectors = append(collectors, m[1])
		}
	}
	sort.Strings(collectors)
	if strings.Join(collectors, ",") != "power,temperature" {
		t.Errorf("collectors run: %v", collectors)
	}
	if strings.Contains(body, "DCGM_FI_DEV_GPU_UTIL") {
		t.Error("a collector that was not asked for ran")
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func httpGet(u string) ([]byte, error) {
	resp, err := http.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}
