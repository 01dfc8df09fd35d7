package chaos

import (
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/api"
	"github.com/gpu-watchdog/gpu-watchdog/internal/metrictest"
)

// alertEpisodes counts, per instance, how often alert went to firing and
// back to inactive, from the alert history.
func alertEpisodes(t *testing.T, base, alert string) (fired, resolved map[string]int) {
	t.Helper()
	var body struct {
		Data []struct {
			Labels   map[string]string `json:"labels"`
			From, To string
		} `json:"data"`
	}
	if !getJSON(base+"/api/v1/alerts/history?alertname="+alert, &body) {
		t.Fatalf("GET %s/api/v1/alerts/history failed", base)
	}
	fired, resolved = map[string]int{}, map[string]int{}
	for _, e := range body.Data {
		switch {
		case e.To == "firing":
			fired[e.Labels["instance"]]++
		case e.From == "firing" && e.To == "inactive":
			resolved[e.Labels["instance"]]++
		}
	}
	return fired, resolved
}

// gpuwdRuntime is the aggregator's goroutines and heap in use, from its
// own /metrics.
func gpuwdRuntime(t *testing.T, base string) (goroutines, heap float64) {
	t.Helper()
	fams, err := metricFamilies(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	return metrictest.Value(fams, "go_goroutines"), metrictest.Value(fams, "go_memstats_heap_inuse_bytes")
}

// TestChaosAgentFlapping runs three registered simulated agents under the
// real gpuwd with the default rule pack's agent rules (packaging/rules/
// agents.yml, every `for` divided by 60: GpuwdAgentDown fires after 5s of
// up == 0). Agent A is killed (SIGKILL, or SIGTERM, which deregisters it)
// and restarted at random intervals, briefly each time, then once for
// longer than the alert's `for`; meanwhile agent B hangs (SIGSTOP) for as
// long, then goes on (SIGCONT); agent C is left alone. Each time, `up`
// follows (0 within seconds of a kill or hang, absent after a deregistering
// SIGTERM, 1 again after the restart), the dead agent's GPU series end at
// once with staleness markers instead of lingering for the 5m lookback,
// the targets stay three (no duplicate after restarts and
// re-registrations), GpuwdAgentDown fires once for A and once for B and
// resolves each time, never for the brief outages nor for C, and the
// aggregator's goroutines and heap come back to where they were.
func TestChaosAgentFlapping(t *testing.T) {
	rng, _ := seeded(t)
	dir := t.TempDir()
	rules := scaledRules(t, dir, "agents.yml")
	writeFiles(t, dir, map[string]string{"gpuwd.yml": `global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
rule_files: [` + rules + `]
`})
	addr := freeAddr(t)
	srv := launch(t, gpuwdBin, "serve", "--listen", addr, "--config", filepath.Join(dir, "gpuwd.yml"), "--data-dir", filepath.Join(dir, "data"), "--token", agentToken)
	c := &api.Client{BaseURL: srv.url(""), HTTP: httpClient}
	addrA, addrB, addrC := freeAddr(t), freeAddr(t), freeAddr(t)
	a := startAgent(t, "h100x2", "node-a", addrA, addr)
	b := startAgent(t, "h100x2", "node-b", addrB, addr)
	startAgent(t, "h100x2", "node-c", addrC, addr)
	upOf := func(inst string) string { return fmt.Sprintf(`up{job="gpuwd-agent",instance=%q}`, inst) }
	waitQuery(t, c, `up{job="gpuwd-agent"} == 1`, 60*time.Second, func(v model.Vector) bool { return len(v) == 3 })
	time.Sleep(3 * time.Second) // warmed up: connections open, caches full
	goroutines0, heap0 := gpuwdRuntime(t, srv.url(""))

	targets := func() int {
		var body struct {
			Data struct {
				ActiveTargets []api.Target `json:"activeTargets"`
			} `json:"data"`
		}
		if !getJSON(srv.url("/api/v1/targets?state=active"), &body) {
			t.Fatal("GET /api/v1/targets failed")
		}
		n := 0
		for _, tg := range body.Data.ActiveTargets {
			if tg.ScrapePool == "gpuwd-agent" {
				n++
			}
		}
		return n
	}
	var detect, recover []time.Duration
	kills, terms := 0, 0
	for i := range 6 {
		sig := syscall.SIGKILL
		if i%3 == 2 {
			sig = syscall.SIGTERM
		}
		a.stop(t, sig)
		downAt := time.Now()
		if sig == syscall.SIGKILL {
			kills++
			eventually(t, 20*time.Second, "up 0 for the killed agent", func() bool { return scalarOf(t, c, upOf(addrA), time.Time{}) == 0 })
		} else {
			terms++
			eventually(t, 20*time.Second, "no up for the deregistered agent", func() bool { return scalarOf(t, c, upOf(addrA), time.Time{}) == -1 })
		}
		detect = append(detect, time.Since(downAt))
		time.Sleep(time.Duration(rng.IntN(500)) * time.Millisecond)
		restartAt := time.Now()
		a = startAgent(t, "h100x2", "node-a", addrA, addr)
		eventually(t, 20*time.Second, "up 1 again", func() bool { return scalarOf(t, c, upOf(addrA), time.Time{}) == 1 })
		recover = append(recover, time.Since(restartAt))
		if n := targets(); n != 3 {
			t.Fatalf("after restart %d of agent A: %d gpuwd-agent targets, want 3", i+1, n)
		}
		time.Sleep(time.Duration(500+rng.IntN(2000)) * time.Millisecond)
	}
	if fired, _ := alertEpisodes(t, srv.url(""), "GpuwdAgentDown"); len(fired) != 0 {
		t.Fatalf("GpuwdAgentDown fired for brief outages: %v", fired)
	}

	// A long outage of A and a hang of B, longer than the alert's `for`.
	a.stop(t, syscall.SIGKILL)
	b.signal(t, syscall.SIGSTOP)
	var staleAfter time.Duration
	var wg sync.WaitGroup
	wg.Go(func() {
		start := time.Now()
		for time.Since(start) < 20*time.Second {
			if v, err := query(c, fmt.Sprintf(`DCGM_FI_DEV_GPU_TEMP{instance=%q}`, addrA), time.Time{}); err == nil && len(v) == 0 {
				staleAfter = time.Since(start)
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	firedAfter := eventually(t, 30*time.Second, "GpuwdAgentDown firing for A and B", func() bool {
		fired, _ := alertEpisodes(t, srv.url(""), "GpuwdAgentDown")
		return fired[addrA] == 1 && fired[addrB] == 1
	})
	wg.Wait()
	if staleAfter == 0 {
		t.Error("the killed agent's GPU series were still there 20s after the kill: no staleness markers")
	}
	if v := scalarOf(t, c, upOf(addrB), time.Time{}); v != 0 {
		t.Errorf("up of the hung agent: %v, want 0", v)
	}
	startAgent(t, "h100x2", "node-a", addrA, addr)
	b.signal(t, syscall.SIGCONT)
	resolvedAfter := eventually(t, 30*time.Second, "GpuwdAgentDown resolved for A and B", func() bool {
		_, resolved := alertEpisodes(t, srv.url(""), "GpuwdAgentDown")
		return resolved[addrA] == 1 && resolved[addrB] == 1
	})
	waitQuery(t, c, `up{job="gpuwd-agent"} == 1`, 30*time.Second, func(v model.Vector) bool { return len(v) == 3 })
	if n := targets(); n != 3 {
		t.Fatalf("%d gpuwd-agent targets at the end, want 3", n)
	}
	if v, err := query(c, `count by (instance) (up{job="gpuwd-agent"}) > 1`, time.Time{}); err != nil || len(v) != 0 {
		t.Fatalf("duplicate up series: %v %v", v, err)
	}
	time.Sleep(3 * time.Second)
	fired, resolved := alertEpisodes(t, srv.url(""), "GpuwdAgentDown")
	if fired[addrA] != 1 || fired[addrB] != 1 || fired[addrC] != 0 || len(fired) != 2 || resolved[addrA] != 1 || resolved[addrB] != 1 {
		t.Errorf("GpuwdAgentDown fired %v and resolved %v; want once each for A (%s) and B (%s), never for C", fired, resolved, addrA, addrB)
	}
	goroutines1, heap1 := gpuwdRuntime(t, srv.url(""))
	if goroutines1 > goroutines0+10 {
		t.Errorf("gpuwd's goroutines grew from %v to %v", goroutines0, goroutines1)
	}
	if heap1 > heap0+32<<20 {
		t.Errorf("gpuwd's heap in use grew from %.1f to %.1f MiB", heap0/(1<<20), heap1/(1<<20))
	}
	sort.Slice(detect, func(i, j int) bool { return detect[i] < detect[j] })
	sort.Slice(recover, func(i, j int) bool { return recover[i] < recover[j] })
	summary(t, "agent flapping", "agent A stopped %d times (%d SIGKILL, %d SIGTERM) plus one long kill, agent B hung 1 time: up followed "+
		"(down seen in %.1f–%.1f s, up again %.1f–%.1f s after restart); GPU series stale %.1f s after the kill; 3 targets throughout; "+
		"GpuwdAgentDown fired for A and B within %.1f s, resolved within %.1f s, 0 times for brief outages or C; "+
		"gpuwd goroutines %v → %v, heap in use %.1f → %.1f MiB",
		kills+terms, kills, terms, detect[0].Seconds(), detect[len(detect)-1].Seconds(), recover[0].Seconds(), recover[len(recover)-1].Seconds(),
		staleAfter.Seconds(), firedAfter.Seconds(), resolvedAfter.Seconds(), goroutines0, goroutines1, heap0/(1<<20), heap1/(1<<20))
}
