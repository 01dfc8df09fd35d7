package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
)

// BenchmarkIngestCPU runs the real gpuwd serve and a real Prometheus side by
// side on the same targets: GPUWD_COMPARE_AGENTS (default 50) real
// gpuwd-agent --simulate h100x8 processes (each its own seed and hostname,
// sampling every second; 536 series each), scraped by both every second. After
// 15 s of warm-up (every series created) it counts, over
// GPUWD_COMPARE_SECONDS, each server's CPU time (utime+stime from
// /proc/PID/stat) and the samples it stored (gpuwd_storage_samples_appended_total,
// prometheus_tsdb_head_samples_appended_total), and reports CPU seconds per
// million samples, samples/s and peak RSS (VmHWM) of each. Neither compacts
// in so short a run (gpuwd's 30-minute windows, Prometheus' 2-hour head), so
// this is the cost of scraping, parsing and committing. Unset, it skips:
//
//	GPUWD_COMPARE_SECONDS=60 go test -run '^$' -bench IngestCPU -benchtime 1x ./cmd/gpuwd/
//
// It uses launch (e2e_test.go) and fleetCPU, fleetMetric and fleetPeakRSS
// (fleet_test.go).
func BenchmarkIngestCPU(b *testing.B) {
	secs, _ := strconv.Atoi(os.Getenv("GPUWD_COMPARE_SECONDS"))
	if secs <= 0 {
		b.Skip("set GPUWD_COMPARE_SECONDS to compare gpuwd serve's ingestion CPU with Prometheus'")
	}
	agents := 50
	if s := os.Getenv("GPUWD_COMPARE_AGENTS"); s != "" {
		var err error
		if agents, err = strconv.Atoi(s); err != nil || agents <= 0 {
			b.Fatalf("GPUWD_COMPARE_AGENTS=%q", s)
		}
	}
	promBin := testenv.LookPath(b, "prometheus")
	dir := b.TempDir()

	var targets []string
	var agentPids []int
	for i := range agents {
		p := launch(b, agentBin, "--simulate", "h100x8", "--simulate-seed", strconv.Itoa(i+1), "--hostname", fmt.Sprintf("node-%03d", i),
			"--sample-interval", "1s", "--listen", "127.0.0.1:0")
		targets = append(targets, "'"+p.addr+"'")
		agentPids = append(agentPids, p.cmd.Process.Pid)
	}
	cfg := filepath.Join(dir, "scrape.yml")
	config := "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: gpu\n    static_configs:\n      - targets: [" +
		strings.Join(targets, ", ") + "]\n"
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		b.Fatal(err)
	}

	for b.Loop() {
		run := b.TempDir()
		srv := launch(b, gpuwdBin, "serve", "--listen", "127.0.0.1:0", "--config", cfg, "--data-dir", filepath.Join(run, "gpuwd"), "--self-scrape=false")
		prom := startPrometheusServer(b, promBin, cfg, filepath.Join(run, "prometheus"))
		type server struct {
			name, base, counter string
			pid                 int
			cpu, samples        float64
		}
		servers := []*server{
			{name: "gpuwd", base: "http://" + srv.addr, counter: "gpuwd_storage_samples_appended_total", pid: srv.cmd.Process.Pid},
			{name: "prom", base: prom.base, counter: "prometheus_tsdb_head_samples_appended_total", pid: prom.cmd.Process.Pid},
		}
		time.Sleep(15 * time.Second)
		agentCPU0 := agentsCPU(b, agentPids)
		for _, s := range servers {
			s.cpu, s.samples = fleetCPU(b, s.pid), fleetMetric(b, s.base, s.counter)
		}
		start := time.Now()
		time.Sleep(time.Duration(secs) * time.Second)
		elapsed := time.Since(start).Seconds()
		for _, s := range servers {
			s.cpu, s.samples = fleetCPU(b, s.pid)-s.cpu, fleetMetric(b, s.base, s.counter)-s.samples
			if s.samples == 0 {
				b.Fatalf("%s stored no samples", s.name)
			}
			b.ReportMetric(s.cpu/s.samples*1e6, s.name+"-cpu-s/Msamples")
			b.ReportMetric(s.samples/elapsed, s.name+"-samples/s")
			b.ReportMetric(100*s.cpu/elapsed, s.name+"-%cpu")
			b.ReportMetric(float64(fleetPeakRSS(b, s.pid))/(1<<20), s.name+"-peak-RSS-MiB")
		}
		b.ReportMetric(servers[0].cpu/servers[0].samples/(servers[1].cpu/servers[1].samples), "gpuwd/prom-cpu")
		b.ReportMetric(100*(agentsCPU(b, agentPids)-agentCPU0)/elapsed, "agents-%cpu")
		prom.stop(b)
		srv.stop(b, syscall.SIGTERM)
	}
}

// agentsCPU is the agents' CPU seconds together.
func agentsCPU(b *testing.B, pids []int) float64 {
	sum := 0.0
	for _, pid := range pids {
		sum += fleetCPU(b, pid)
	}
	return sum
}

// promServer is a real Prometheus with a scrape configuration.
type promServer struct {
	cmd  *exec.Cmd
	base string
	done chan struct{}
	log  string
}

func startPrometheusServer(b *testing.B, bin, cfg, dataDir string) *promServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := &promServer{base: "http://" + addr, done: make(chan struct{}), log: dataDir + ".log"}
	logf, err := os.Create(p.log)
	if err != nil {
		b.Fatal(err)
	}
	defer logf.Close()
	p.cmd = exec.Command(bin, "--config.file="+cfg, "--storage.tsdb.path="+dataDir, "--web.listen-address="+addr, "--log.level=warn")
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	b.Cleanup(func() { p.stop(b) })
	deadline := time.Now().Add(time.Minute)
	for {
		if resp, err := http.Get(p.base + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case <-p.done:
			raw, _ := os.ReadFile(p.log)
			b.Fatalf("prometheus exited:\n%s", raw)
		default:
		}
		if time.Now().After(deadline) {
			b.Fatal("prometheus not ready after 1m")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *promServer) stop(b *testing.B) {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}
