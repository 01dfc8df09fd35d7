package agent

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"

	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
)

// grafana12239 are the queries of the dcgm-exporter Grafana dashboard 12239
// (its variables filled in): they must find the agent's series unchanged.
var grafana12239 = []string{
	`DCGM_FI_DEV_GPU_TEMP{instance=~"%[1]s", gpu=~".*"}`,
	`avg(DCGM_FI_DEV_GPU_TEMP{instance=~"%[1]s", gpu=~".*"})`,
	`DCGM_FI_DEV_POWER_USAGE{instance=~"%[1]s", gpu=~".*"}`,
	`sum(DCGM_FI_DEV_POWER_USAGE{instance=~"%[1]s", gpu=~".*"})`,
	`DCGM_FI_DEV_SM_CLOCK{instance=~"%[1]s", gpu=~".*"} * 1000000`,
	`DCGM_FI_DEV_GPU_UTIL{instance=~"%[1]s", gpu=~".*"}`,
	`DCGM_FI_DEV_FB_USED{instance=~"%[1]s", gpu=~".*"}`,
	`DCGM_FI_PROF_PIPE_TENSOR_ACTIVE{instance=~"%[1]s", gpu=~".*"}`,
	// Counters keep their dcgm-exporter names even though Prometheus
	// negotiates OpenMetrics.
	`rate(DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{instance=~"%[1]s"}[10s])`,
	`DCGM_FI_DEV_ECC_DBE_VOL_TOTAL{instance=~"%[1]s"}`,
}

// TestRealPrometheusScrapesTheAgent runs Debian's Prometheus against the
// agent, with the bearer token, and runs dashboard 12239's queries.
func TestRealPrometheusScrapesTheAgent(t *testing.T) {
	promBin := testenv.LookPath(t, "prometheus")
	a := serve(t, Options{Simulate: "h100x8", MetricsToken: "scrape-token", SampleInterval: 200 * time.Millisecond})
	target := strings.TrimPrefix(a.url, "http://")

	dir := t.TempDir()
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: gpuwd
    authorization:
      credentials: scrape-token
    static_configs:
      - targets: [%q]
`, target)
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

	query := func(q string) ([]promSample, error) {
		resp, err := httpGet("http://" + promAddr + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			return nil, err
		}
		var r struct {
			Status string
			Error  string
			Data   struct{ Result []promSample }
		}
		if err := json.Unmarshal(resp, &r); err != nil {
			return nil, err
		}
		if r.Status != "success" {
			return nil, fmt.Errorf("%s: %s", q, r.Error)
		}
		return r.Data.Result, nil
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := query(fmt.Sprintf(grafana12239[len(grafana12239)-2], target))
		if err == nil && len(res) == 8 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus never had 8 energy rates (last: %v, %v); its log:\n%s", res, err, log.String())
		}
		time.Sleep(250 * time.Millisecond)
	}
	for _, q := range grafana12239 {
		q = fmt.Sprintf(q, target)
		res, err := query(q)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		want := 8
		if strings.HasPrefix(q, "avg(") || strings.HasPrefix(q, "sum(") {
			want = 1
		}
		if len(res) != want {
			t.Errorf("%s: %d series, want %d", q, len(res), want)
		}
	}
	negotiated := false
	for _, k := range a.sampler.wanted.recent(time.Now()) {
		negotiated = negotiated || k.format.FormatType() == expfmt.TypeOpenMetrics
	}
	if !negotiated {
		t.Error("Prometheus did not negotiate OpenMetrics: the counter-name check proved nothing")
	}
	up, err := query(`up{job="gpuwd"}`)
	if err != nil || len(up) != 1 || up[0].Value[1] != "1" {
		t.Errorf("up = %v, %v", up, err)
	}
	res, _ := query(`DCGM_FI_DEV_GPU_UTIL{gpu="0"}`)
	if len(res) == 1 {
		for _, l := range []string{"UUID", "modelName", "hostname", "pci_bus_id", "device", "DCGM_FI_DRIVER_VERSION"} {
			if res[0].Metric[l] == "" {
				t.Errorf("label %s lost on the way into Prometheus: %v", l, res[0].Metric)
			}
		}
	}
}

type promSample struct {
	Metric map[string]string
	Value  [2]any
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
