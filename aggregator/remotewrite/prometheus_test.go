package remotewrite

import (
	"encoding/json"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
)

// TestRealPrometheusReceives pushes series to Debian's Prometheus (2.42,
// with its remote-write receiver on) and reads them back through its query
// API: labels, external labels, values, NaN and the staleness marker.
func TestRealPrometheusReceives(t *testing.T) {
	promBin := testenv.LookPath(t, "prometheus")
	addr := startPrometheus(t, promBin)

	q := newQueue(t, config.RemoteWrite{URL: "http://" + addr + "/api/v1/write", Name: "prom", MaxSamplesPerSend: 7},
		Options{ExternalLabels: map[string]string{"cluster": "dc1", "job": "not-this"}})
	const step = 30 // seconds
	start := time.Now().Add(-5 * time.Minute).Truncate(time.Second)
	at := func(i int) int64 { return start.Add(time.Duration(i*step) * time.Second).UnixMilli() }
	gpu := func(i string) labels.Labels {
		return labels.FromStrings("__name__", "DCGM_FI_DEV_GPU_TEMP", "gpu", i, "UUID", "GPU-5fd4a1b2-000"+i,
			"modelName", "NVIDIA H100 80GB HBM3", "Hostname", "node1", "instance", "node1:9400", "job", "gpuwd")
	}
	gone := labels.FromStrings("__name__", "gpuwd_job_gpus", "slurm_job", "4711", "job", "gpuwd")
	const points = 10
	want := map[string][]float64{"0": make([]float64, points), "1": make([]float64, points)}
	for i := range points {
		scrape := make([]Sample, 0, 3)
		for _, g := range []string{"0", "1"} {
			v := 30 + float64(i) + 0.25
			if g == "1" {
				v = float64(i) * 1.5e-3
				if i == 4 {
					v = math.NaN()
				}
			}
			want[g][i] = v
			scrape = append(scrape, Sample{Labels: gpu(g), T: at(i), V: v})
		}
		switch {
		case i < 5:
			scrape = append(scrape, Sample{Labels: gone, T: at(i), V: 8})
		case i == 5: // the job ended: Prometheus' own staleness marker
			scrape = append(scrape, Sample{Labels: gone, T: at(i), V: math.Float64frombits(value.StaleNaN)})
		}
		q.Append(scrape)
	}
	stop := run(q)
	defer stop()
	waitFor(t, "delivery", delivered(q))
	if st := q.Status(); st.LastError != "" {
		t.Fatalf("Prometheus refused: %+v", st)
	}

	res := promQuery(t, addr, "query", url.Values{"query": {"DCGM_FI_DEV_GPU_TEMP"}, "time": {unixSeconds(at(points - 1))}})
	if len(res) != 2 {
		t.Fatalf("%d series, want 2: %v", len(res), res)
	}
	for _, r := range res {
		g := r.Metric["gpu"]
		wantLabels := map[string]string{"cluster": "dc1"}
		gpu(g).Range(func(l labels.Label) { wantLabels[l.Name] = l.Value })
		if !maps.Equal(r.Metric, wantLabels) {
			t.Errorf("labels = %v, want %v", r.Metric, wantLabels)
		}
		checkPromValue(t, r.Value, at(points-1), want[g][points-1])
	}

	for _, g := range []string{"0", "1"} {
		res := promQuery(t, addr, "query_range", url.Values{"query": {`DCGM_FI_DEV_GPU_TEMP{gpu="` + g + `"}`},
			"start": {unixSeconds(at(0))}, "end": {unixSeconds(at(points - 1))}, "step": {strconv.Itoa(step)}})
		if len(res) != 1 || len(res[0].Values) != points {
			t.Fatalf("gpu %s: range query gave %v", g, res)
		}
		for i, v := range res[0].Values {
			checkPromValue(t, v, at(i), want[g][i])
		}
	}

	if res := promQuery(t, addr, "query", url.Values{"query": {"gpuwd_job_gpus"}, "time": {unixSeconds(at(4))}}); len(res) != 1 {
		t.Errorf("before the staleness marker: %v", res)
	}
	if res := promQuery(t, addr, "query", url.Values{"query": {"gpuwd_job_gpus"}, "time": {unixSeconds(at(5))}}); len(res) != 0 {
		t.Errorf("the staleness marker did not end the series: %v", res)
	}
}

func unixSeconds(ms int64) string { return strconv.FormatFloat(float64(ms)/1000, 'f', 3, 64) }

type promResult struct {
	Metric map[string]string
	Value  [2]any
	Values [][2]any
}

func checkPromValue(t *testing.T, got [2]any, wantT int64, want float64) {
	t.Helper()
	ts, _ := got[0].(float64)
	s, _ := got[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	if int64(math.Round(ts*1000)) != wantT || err != nil || !(v == want || math.IsNaN(v) && math.IsNaN(want)) {
		t.Errorf("point %v, want %v at %d", got, want, wantT)
	}
}

func promQuery(t *testing.T, addr, endpoint string, params url.Values) []promResult {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/api/v1/" + endpoint + "?" + params.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r struct {
		Status string
		Error  string
		Data   struct{ Result []promResult }
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Status != "success" {
		t.Fatalf("%s %v: %s %v", endpoint, params, body, err)
	}
	return r.Data.Result
}

// startPrometheus runs Prometheus on a free 127.0.0.1 port with an empty
// configuration and the remote-write receiver on, and waits until it is
// ready.
func startPrometheus(t *testing.T, bin string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte("global:\n  scrape_interval: 1m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ln := listenLoopback(t, "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr,
		"--web.enable-remote-write-receiver")
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("Prometheus log:\n%s", log.String())
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("Prometheus exited: %v", err)
		default:
		}
		if resp, err := http.Get("http://" + addr + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("Prometheus not ready after 60s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
