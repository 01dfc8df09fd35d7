package discovery

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/target"
)

func TestStaticTargets(t *testing.T) {
	h := newHarness(t, `
scrape_configs:
  - job_name: gpu
    scheme: https
    metrics_path: /gpu/metrics
    static_configs:
      - targets: [gpu2:9400, gpu1]
        labels: {rack: r1}
  - job_name: node
    static_configs:
      - targets: ['gpu1:9100']
`, "", Options{})
	want := []target.Target{
		{Job: "gpu", Scheme: "https", Address: "gpu1:443", MetricsPath: "/gpu/metrics", Labels: map[string]string{"rack": "r1"}, Source: "static"},
		{Job: "gpu", Scheme: "https", Address: "gpu2:9400", MetricsPath: "/gpu/metrics", Labels: map[string]string{"rack": "r1"}, Source: "static"},
		{Job: "node", Scheme: "http", Address: "gpu1:9100", MetricsPath: "/metrics", Source: "static"},
	}
	if got := h.m.Targets(); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if got := h.metric(t, "gpuwd_sd_targets", "source", "static"); got != 3 {
		t.Errorf("gpuwd_sd_targets{source=static} = %v", got)
	}
}

// TestDuplicatesFirstSourceWins registers an agent that a static config and
// a file_sd file also name: static wins, then file_sd.
func TestDuplicatesFirstSourceWins(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "sd.json"), `[{"targets": ["10.0.0.5:9400", "10.0.0.6:9400"], "labels": {"from": "file"}}]`)
	h := newHarness(t, regConfig+`
scrape_configs:
  - job_name: gpuwd-agent
    static_configs:
      - targets: ['10.0.0.5:9400']
        labels: {from: static}
    file_sd_configs:
      - files: [sd.json]
`, dir, Options{})
	h.register(t, registerBody(agentURL, "1"))
	h.register(t, registerBody("http://10.0.0.6:9400/metrics", "1"))
	h.register(t, registerBody("http://10.0.0.7:9400/metrics", "1"))
	got := h.m.Targets()
	var sources []string
	for _, tg := range got {
		sources = append(sources, tg.Address+" "+tg.Source)
	}
	want := []string{"10.0.0.5:9400 static", "10.0.0.6:9400 file_sd:" + filepath.Join(dir, "sd.json"), "10.0.0.7:9400 registered"}
	if !reflect.DeepEqual(sources, want) {
		t.Errorf("got %q\nwant %q", sources, want)
	}
	if got[0].Labels["from"] != "static" || got[1].Labels["from"] != "file" {
		t.Errorf("labels: %+v", got)
	}
	if len(h.m.Agents()) != 3 {
		t.Error("a shadowed agent must stay registered")
	}
}

func TestApplyConfigKeepsRegisteredAgents(t *testing.T) {
	h := newHarness(t, regConfig+`
scrape_configs:
  - job_name: old
    static_configs: [{targets: ['a:1']}]
`, "", Options{})
	h.register(t, registerBody(agentURL, "1"))
	if err := h.m.ApplyConfig(parseConfig(t, regConfig+`  job_name: gpus
scrape_configs:
  - job_name: new
    static_configs: [{targets: ['b:1']}]
`, "")); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tg := range h.m.Targets() {
		got = append(got, tg.Job+"/"+tg.Address)
	}
	if want := []string{"gpus/10.0.0.5:9400", "new/b:1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("targets %v, want %v", got, want)
	}
	_, r := h.call(t, "POST", "/api/v1/agents/register", testToken, registerBody(agentURL, "1"))
	if want := `{"heartbeat_seconds":30,"job":"gpus","instance":"10.0.0.5:9400"}`; string(r.Data) != want {
		t.Errorf("reply after the reload %s, want %s", r.Data, want)
	}
}

// recorder collects OnChange calls.
type recorder struct {
	mu    sync.Mutex
	calls [][]target.Target
}

func (r *recorder) onChange(ts []target.Target) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, ts)
}

func (r *recorder) get() [][]target.Target {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]target.Target(nil), r.calls...)
}

func (r *recorder) last() []target.Target {
	c := r.get()
	if len(c) == 0 {
		return nil
	}
	return c[len(c)-1]
}

func runManager(t *testing.T, h *harness) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = h.m.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func TestRunDeliversChanges(t *testing.T) {
	dir := t.TempDir()
	sd := filepath.Join(dir, "sd")
	if err := os.Mkdir(sd, 0o755); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	h := newHarness(t, regConfig+fileSDConfig, dir, Options{
		OnChange: rec.onChange, PollInterval: 5 * time.Millisecond, MinUpdateInterval: time.Millisecond,
	})
	runManager(t, h)
	eventually(t, "the initial (empty) set", func() bool { return len(rec.get()) == 1 })

	writeFile(t, filepath.Join(sd, "a.json"), `[{"targets": ["10.0.0.1:9400"]}]`)
	eventually(t, "the file_sd target", func() bool {
		return reflect.DeepEqual(addresses(rec.last()), []string{"10.0.0.1:9400"})
	})
	h.register(t, registerBody(agentURL, "1"))
	eventually(t, "the registered target", func() bool {
		return reflect.DeepEqual(addresses(rec.last()), []string{"10.0.0.1:9400", "10.0.0.5:9400"})
	})
	n := len(rec.get())
	for range 3 {
		h.register(t, registerBody(agentURL, "1")) // heartbeats change nothing
	}
	h.m.pollOnce()
	time.Sleep(50 * time.Millisecond)
	if len(rec.get()) != n {
		t.Errorf("OnChange called for an unchanged set: %d calls, then %d", n, len(rec.get()))
	}
	for i, c := range rec.get() {
		if i > 0 && reflect.DeepEqual(c, rec.get()[i-1]) {
			t.Errorf("call %d repeats the set before it", i)
		}
	}
}

// TestRunCoalescesBursts sets an interval no test run reaches: after the
// first call, a burst of changes makes no call at all.
func TestRunCoalescesBursts(t *testing.T) {
	rec := &recorder{}
	h := newHarness(t, regConfig, "", Options{OnChange: rec.onChange, MinUpdateInterval: time.Hour})
	runManager(t, h)
	eventually(t, "the initial set", func() bool { return len(rec.get()) == 1 })
	for i := range 20 {
		h.register(t, registerBody("http://10.0.1."+string(rune('0'+i%10))+":9400/metrics", "1"))
	}
	time.Sleep(50 * time.Millisecond)
	if n := len(rec.get()); n != 1 {
		t.Errorf("%d calls during the burst, want none after the first", n-1)
	}
}
