package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/agent"
)

// BenchmarkFleet measures gpuwd serve scraping a large simulated fleet on
// loopback: GPUWD_FLEET_AGENTS agents × 8 simulated H100s (in this process,
// sampling every 15 s), scraped every 15 s for GPUWD_FLEET_SECONDS after one
// warm-up interval. It reports the aggregator's CPU (cores), peak RSS,
// samples/s, scrape delay and missed scrapes. Unset, it does nothing:
//
//	GPUWD_FLEET_AGENTS=1000 GPUWD_FLEET_SECONDS=120 go test -run '^$' -bench Fleet -benchtime 1x ./cmd/gpuwd/
func BenchmarkFleet(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("GPUWD_FLEET_AGENTS"))
	secs, _ := strconv.Atoi(os.Getenv("GPUWD_FLEET_SECONDS"))
	if n <= 0 || secs <= 0 {
		b.Skip("set GPUWD_FLEET_AGENTS and GPUWD_FLEET_SECONDS")
	}
	dir := b.TempDir()
	var targets []string
	for i := range n {
		targets = append(targets, startFleetAgent(b, i))
	}
	sd, _ := json.Marshal([]map[string]any{{"targets": targets}})
	if err := os.WriteFile(filepath.Join(dir, "fleet.json"), sd, 0o600); err != nil {
		b.Fatal(err)
	}
	cfg := filepath.Join(dir, "gpuwd.yml")
	if err := os.WriteFile(cfg, []byte("scrape_configs:\n  - job_name: fleet\n    file_sd_configs: [{files: [fleet.json]}]\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		srv := launch(b, gpuwdBin, "serve", "--listen", "127.0.0.1:0", "--config", cfg, "--data-dir", filepath.Join(dir, "data"))
		base, pid := "http://"+srv.addr, srv.cmd.Process.Pid
		time.Sleep(20 * time.Second) // every target scraped once at least
		cpu0, samples0, start := fleetCPU(b, pid), fleetMetric(b, base, "gpuwd_storage_samples_appended_total"), time.Now()
		delay0, delays0 := fleetMetric(b, base, "gpuwd_scrape_delay_seconds_sum"), fleetMetric(b, base, "gpuwd_scrape_delay_seconds_count")
		missed0 := fleetMetric(b, base, "gpuwd_scrape_missed_total")
		time.Sleep(time.Duration(secs) * time.Second)
		elapsed := time.Since(start).Seconds()
		cpu := (fleetCPU(b, pid) - cpu0) / elapsed
		samples := (fleetMetric(b, base, "gpuwd_storage_samples_appended_total") - samples0) / elapsed
		delay := (fleetMetric(b, base, "gpuwd_scrape_delay_seconds_sum") - delay0) / (fleetMetric(b, base, "gpuwd_scrape_delay_seconds_count") - delays0)
		missed := fleetMetric(b, base, "gpuwd_scrape_missed_total") - missed0
		b.ReportMetric(cpu, "cores")
		b.ReportMetric(float64(fleetPeakRSS(b, pid))/(1<<20), "MiB-peak-RSS")
		b.ReportMetric(samples, "samples/s")
		b.ReportMetric(delay*1000, "ms-mean-scrape-delay")
		b.ReportMetric(missed, "missed-scrapes")
		srv.stop(b, syscall.SIGTERM)
	}
}

// startFleetAgent serves a simulated 8-GPU agent on a loopback port.
func startFleetAgent(b *testing.B, i int) string {
	opts := agent.DefaultOptions()
	opts.Simulate, opts.SimulateSeed, opts.Hostname = "h100x8", uint64(i+1), fmt.Sprintf("node-%04d", i)
	opts.SampleInterval = 15 * time.Second
	a, err := agent.New(opts, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Serve(ctx, ln); close(done) }()
	b.Cleanup(func() { cancel(); <-done })
	return ln.Addr().String()
}

// fleetMetric reads one series' value (summed over its label sets) from a
// /metrics page.
func fleetMetric(b *testing.B, base, name string) float64 {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+" ") && !strings.HasPrefix(line, name+"{") {
			continue
		}
		f := strings.Fields(line)
		v, _ := strconv.ParseFloat(f[len(f)-1], 64)
		sum += v
	}
	return sum
}

// fleetCPU is a process' user+system CPU seconds.
func fleetCPU(b *testing.B, pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100 // clock ticks, USER_HZ = 100 on Linux
}

// fleetPeakRSS is a process' VmHWM in bytes.
func fleetPeakRSS(b *testing.B, pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
