package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkAgentProcess runs the real agent with 8 simulated H100s sampled
// every second, scrapes it every second (gzip, as Prometheus does) for
// GPUWD_FOOTPRINT_SECONDS (default 60), and reports the CPU it used as a
// share of one core and its peak RSS. Run it with -benchtime 1x (make bench).
func BenchmarkAgentProcess(b *testing.B) {
	seconds := 60
	if s := os.Getenv("GPUWD_FOOTPRINT_SECONDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatalf("GPUWD_FOOTPRINT_SECONDS=%q: %v", s, err)
		}
		seconds = n
	}
	for b.Loop() {
		p := start(b, nil, "--simulate", "h100x8", "--sample-interval", "1s", "--listen", "127.0.0.1:0", "--log-format", "json")
		pid := p.cmd.Process.Pid
		time.Sleep(2 * time.Second) // past start-up
		cpu0 := cpuSeconds(b, pid)
		t0 := time.Now()
		var scrapes, bytes int
		var scrapeTime time.Duration
		tick := time.NewTicker(time.Second)
		for time.Since(t0) < time.Duration(seconds)*time.Second {
			<-tick.C
			s := time.Now()
			n, err := scrapeGzip("http://" + p.addr + "/metrics")
			if err != nil {
				b.Fatal(err)
			}
			scrapeTime += time.Since(s)
			scrapes++
			bytes += n
		}
		tick.Stop()
		elapsed := time.Since(t0).Seconds()
		cpu := cpuSeconds(b, pid) - cpu0
		hwm := peakRSS(b, pid)
		_ = p.cmd.Process.Kill()
		b.ReportMetric(100*cpu/elapsed, "%cpu")
		b.ReportMetric(cpu, "cpu-seconds")
		b.ReportMetric(float64(hwm)/(1<<20), "peak-RSS-MiB")
		b.ReportMetric(float64(scrapeTime.Microseconds())/float64(scrapes), "µs/scrape-over-loopback")
		b.ReportMetric(float64(bytes)/float64(scrapes), "gzip-bytes/scrape")
	}
}

func scrapeGzip(url string) (int, error) {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	return int(n), err
}

// cpuSeconds reads user+system CPU time of pid from /proc/PID/stat.
func cpuSeconds(b *testing.B, pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name (which is in parentheses); utime and
	// stime are fields 14 and 15, in clock ticks (100 per second on Linux).
	fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / 100
}

// peakRSS reads VmHWM (the resident set's high-water mark) of pid, in bytes.
func peakRSS(b *testing.B, pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	b.Fatal("no VmHWM")
	return 0
}
