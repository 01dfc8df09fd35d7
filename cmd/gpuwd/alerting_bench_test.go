package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/chattest"
)

// BenchmarkAlertLatency measures, with the real programs, how long it takes
// from a simulated GPU passing the threshold to Slack (a fake on loopback)
// receiving the message: scrape (2 s), rule evaluation (2 s), routing
// (group_wait 0) and delivery. The goal is one scrape interval plus one
// evaluation interval plus 1 s. Each op heats another GPU (at most 16 ops:
// two 8-GPU agents), which starts a new group (group_by gpu).
func BenchmarkAlertLatency(b *testing.B) {
	dir := b.TempDir()
	slack := chattest.NewSlack(b)
	cfg := alertingSetup(b, dir, slack.URL(), "")
	rewrite := func(name string, pairs ...string) {
		p := filepath.Join(dir, name)
		old, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.NewReplacer(pairs...).Replace(string(old))), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	const scrape, eval = 2 * time.Second, 2 * time.Second
	rewrite("gpuwd.yml", "scrape_interval: 1s", "scrape_interval: 2s", "scrape_timeout: 1s", "scrape_timeout: 2s", "evaluation_interval: 1s", "evaluation_interval: 2s")
	rewrite("alerting.yml", "group_by: [alertname, instance]", "group_by: [alertname, instance, gpu]")
	srv := launch(b, gpuwdBin, "serve", "--listen", "127.0.0.1:0", "--config", cfg, "--data-dir", filepath.Join(dir, "data"), "--token", "bench-token")
	var agents []*proc
	for i := range 2 {
		agents = append(agents, launch(b, agentBin, "--simulate", "h100x8", "--simulate-stable", "--hostname", fmt.Sprintf("node-%d", i),
			"--listen", "127.0.0.1:0", "--aggregator-url", "http://"+srv.addr, "--token", "bench-token"))
	}
	time.Sleep(3 * scrape) // both agents registered and scraped
	if b.N > 16 {
		b.Fatalf("at most 16 ops (16 GPUs); run with -benchtime 16x or less, not %d", b.N)
	}
	var lat []time.Duration
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		post(b, fmt.Sprintf("http://%s/debug/sim/heat?gpu=%d&celsius=97", agents[i/8].addr, i%8))
		waitCount(b, slack, i+1)
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(lat[len(lat)-1].Seconds(), "max-s")
	b.ReportMetric(lat[len(lat)/2].Seconds(), "median-s")
	b.ReportMetric((scrape + eval + time.Second).Seconds(), "goal-s")
}
