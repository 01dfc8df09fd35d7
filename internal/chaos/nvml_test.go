package chaos

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/prometheus/common/model"

	"github.com/gpu-watchdog/gpu-watchdog/agent"
	"github.com/gpu-watchdog/gpu-watchdog/agent/sim"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/api"
	"github.com/gpu-watchdog/gpu-watchdog/internal/metrictest"
)

// NVML faults the flaky library injects on GPU 0.
const (
	nvmlOK     = iota
	nvmlErrors // readings fail with ERROR_UNKNOWN
	nvmlHang   // readings block until the fault is cleared
)

// flakyNVML is the simulated NVML with faults on GPU 0's readings
// (temperature, power, utilisation), switched at run time.
type flakyNVML struct {
	*sim.Library
	mode    atomic.Int32
	mu      sync.Mutex
	cleared chan struct{} // closed when the fault is cleared
	calls   atomic.Int64  // readings that failed or hung
}

func newFlakyNVML(t *testing.T, spec string) *flakyNVML {
	lib, err := sim.New(sim.Options{Spec: spec, Stable: true})
	if err != nil {
		t.Fatal(err)
	}
	return &flakyNVML{Library: lib, cleared: make(chan struct{})}
}

func (f *flakyNVML) set(mode int32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if mode == nvmlOK {
		close(f.cleared)
		f.cleared = make(chan struct{})
	}
	f.mode.Store(mode)
}

// fault is the return of a reading on GPU 0 under the current fault.
func (f *flakyNVML) fault() nvml.Return {
	switch f.mode.Load() {
	case nvmlErrors:
		f.calls.Add(1)
		return nvml.ERROR_UNKNOWN
	case nvmlHang:
		f.calls.Add(1)
		f.mu.Lock()
		cleared := f.cleared
		f.mu.Unlock()
		<-cleared
	}
	return nvml.SUCCESS
}

func (f *flakyNVML) DeviceGetHandleByIndex(i int) (nvml.Device, nvml.Return) {
	d, ret := f.Library.DeviceGetHandleByIndex(i)
	if ret != nvml.SUCCESS || i != 0 {
		return d, ret
	}
	return &flakyDevice{Device: d, f: f}, ret
}

type flakyDevice struct {
	nvml.Device
	f *flakyNVML
}

func (d *flakyDevice) GetTemperature(s nvml.TemperatureSensors) (uint32, nvml.Return) {
	if ret := d.f.fault(); ret != nvml.SUCCESS {
		return 0, ret
	}
	return d.Device.GetTemperature(s)
}

func (d *flakyDevice) GetPowerUsage() (uint32, nvml.Return) {
	if ret := d.f.fault(); ret != nvml.SUCCESS {
		return 0, ret
	}
	return d.Device.GetPowerUsage()
}

func (d *flakyDevice) GetUtilizationRates() (nvml.Utilization, nvml.Return) {
	if ret := d.f.fault(); ret != nvml.SUCCESS {
		return nvml.Utilization{}, ret
	}
	return d.Device.GetUtilizationRates()
}

// syncBuffer is a log shared by the agent's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// firingFor lists the firing alerts named alert as "hostname/gpu".
func firingFor(t *testing.T, base, alert string) []string {
	t.Helper()
	var out []string
	for _, a := range firingAlerts(t, base) {
		if name, rest, _ := strings.Cut(a, "/"); name == alert {
			out = append(out, strings.Replace(rest[:strings.IndexByte(rest, '@')], "/gpu", "/", 1))
		}
	}
	return out
}

// TestChaosNVMLErrors makes NVML fail under two agents scraped by the real
// gpuwd, which evaluates the default rule pack's GPU and agent rules
// (packaging/rules, every `for` divided by 60). On the real gpuwd-agent
// binary (--simulate), through its fault injection: a GPU overheats, one
// reports XID 48, one falls off the bus (every NVML call on it answers
// ERROR_GPU_IS_LOST). On an agent run in this test process (the agent
// package, its NVML a simulated library wrapped to fail, since a real
// binary cannot be made to): GPU 0's readings fail with ERROR_UNKNOWN, then
// hang. Both agents keep serving their other GPUs throughout; the lost GPU
// is gpuwd_gpu_up 0 and the failing readings gpuwd_collector_success 0,
// each logged once; a hung call turns /healthz 503 while /metrics still
// answers; everything recovers when the fault ends; and the aggregator's
// GPUTemperatureHigh, GPUXidCritical and GPULost fire for the right GPUs.
func TestChaosNVMLErrors(t *testing.T) {
	dir := t.TempDir()
	health, agents := scaledRules(t, dir, "gpu-health.yml"), scaledRules(t, dir, "agents.yml")
	writeFiles(t, dir, map[string]string{"gpuwd.yml": `global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
rule_files: [` + health + `, ` + agents + `]
`})
	addr := freeAddr(t)
	srv := launch(t, gpuwdBin, "serve", "--listen", addr, "--config", filepath.Join(dir, "gpuwd.yml"), "--data-dir", filepath.Join(dir, "data"), "--token", agentToken)
	c := &api.Client{BaseURL: srv.url(""), HTTP: httpClient}
	real := startAgent(t, "h100x4", "node-sim", freeAddr(t), addr)

	flaky := newFlakyNVML(t, "h100x2")
	var agentLog syncBuffer
	opts := agent.DefaultOptions()
	opts.NVML, opts.Hostname, opts.Collectors = flaky, "node-flaky", "temperature,power,utilization,memory"
	opts.SampleInterval, opts.AggregatorURL, opts.AggregatorToken = 500*time.Millisecond, "http://"+addr, agentToken
	a, err := agent.New(opts, slog.New(slog.NewJSONHandler(&agentLog, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx, ln) }()
	t.Cleanup(func() {
		flaky.set(nvmlOK)
		cancel()
		if err := <-served; err != nil {
			t.Errorf("in-process agent: %v", err)
		}
		if t.Failed() {
			t.Logf("in-process agent's log:\n%s", tail(agentLog.String(), 8<<10))
		}
	})
	flakyURL := "http://" + ln.Addr().String()
	waitQuery(t, c, `up{job="gpuwd-agent"} == 1`, 60*time.Second, func(v model.Vector) bool { return len(v) == 2 })

	// The real agent: heat, XID 48, a lost GPU.
	post(t, real.url("/debug/sim/heat?gpu=1&celsius=95"))
	post(t, real.url("/debug/sim/xid?gpu=2&xid=48"))
	post(t, real.url("/debug/sim/lose?gpu=3"))
	injected := time.Now()
	eventually(t, 20*time.Second, "gpuwd_gpu_up 0 for the lost GPU", func() bool {
		return metric(real.url("/metrics"), "gpuwd_gpu_up", "gpu", "3") == 0
	})
	if status(real.url("/healthz")) != 200 || metric(real.url("/metrics"), "DCGM_FI_DEV_GPU_TEMP", "gpu", "0") <= 0 {
		t.Error("the real agent stopped serving its other GPUs after losing one")
	}
	want := map[string]string{"GPUTemperatureHigh": "node-sim/1", "GPUXidCritical": "node-sim/2", "GPULost": "node-sim/3"}
	fired := map[string]time.Duration{}
	for len(fired) < len(want) {
		for alert, gpu := range want {
			if _, ok := fired[alert]; !ok && strings.Contains(strings.Join(firingFor(t, c.BaseURL, alert), " "), gpu) {
				fired[alert] = time.Since(injected)
			}
		}
		if time.Since(injected) > 60*time.Second {
			t.Fatalf("60s after the faults only %v fire of %v; firing: %v", fired, want, firingAlerts(t, c.BaseURL))
		}
		time.Sleep(100 * time.Millisecond)
	}
	for alert, gpu := range want {
		for _, got := range firingFor(t, c.BaseURL, alert) { // GPUTemperatureHigh has two severities
			if got != gpu {
				t.Errorf("%s fires for %s, want only %s", alert, got, gpu)
			}
		}
	}

	// The in-process agent: failing readings on GPU 0.
	flaky.set(nvmlErrors)
	eventually(t, 20*time.Second, "gpuwd_collector_success 0 at gpuwd", func() bool {
		v, err := query(c, `gpuwd_collector_success{collector="temperature"} == 0`, time.Time{})
		return err == nil && len(v) == 1
	})
	fams, err := metricFamilies(flakyURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if metrictest.Value(fams, "DCGM_FI_DEV_GPU_TEMP", "gpu", "1") <= 0 || metrictest.Value(fams, "DCGM_FI_DEV_GPU_TEMP", "gpu", "0") != -1 {
		t.Error("while GPU 0's readings fail, GPU 1 must still be read and GPU 0's temperature left out")
	}
	for _, c := range []string{"temperature", "power", "utilization"} {
		if v := metrictest.Value(fams, "gpuwd_collector_success", "collector", c); v != 0 {
			t.Errorf("gpuwd_collector_success{collector=%q} = %v while its reading fails", c, v)
		}
	}
	if metrictest.Value(fams, "gpuwd_collector_success", "collector", "memory") != 1 {
		t.Error("the memory collector, whose calls work, reports failure")
	}
	flaky.set(nvmlOK)
	eventually(t, 20*time.Second, "the collectors recovering", func() bool {
		return metric(flakyURL+"/metrics", "gpuwd_collector_success", "collector", "temperature") == 1
	})
	if n := strings.Count(agentLog.String(), `"msg":"collector failing"`); n != 3 {
		t.Errorf("%d 'collector failing' log lines for 3 failing collectors, want one each", n)
	}

	// A hung NVML call: /healthz says so, /metrics still answers.
	flaky.set(nvmlHang)
	hung := time.Now()
	eventually(t, 30*time.Second, "/healthz 503 while NVML hangs", func() bool { return status(flakyURL+"/healthz") == 503 })
	unhealthyAfter := time.Since(hung)
	if status(flakyURL+"/metrics") != 200 {
		t.Error("/metrics does not answer while an NVML call hangs")
	}
	if v := scalarOf(t, c, fmt.Sprintf(`up{instance=%q}`, ln.Addr().String()), time.Time{}); v != 1 {
		t.Errorf("the aggregator cannot scrape the agent whose NVML hangs: up = %v", v)
	}
	flaky.set(nvmlOK)
	eventually(t, 20*time.Second, "/healthz 200 again", func() bool { return status(flakyURL+"/healthz") == 200 })
	summary(t, "NVML errors mid-run", "real agent: heat, XID 48 and a lost GPU (gpuwd_gpu_up 0) → GPUTemperatureHigh, GPUXidCritical, GPULost firing "+
		"%.1f/%.1f/%.1f s after injection (for ÷60), other GPUs served; in-process agent: %d failing or hung NVML readings → "+
		"gpuwd_collector_success 0 for 3 collectors (one log line each), GPU 1 still read, /healthz 503 %.1f s into a hang, /metrics and scrapes served throughout, recovered after",
		fired["GPUTemperatureHigh"].Seconds(), fired["GPUXidCritical"].Seconds(), fired["GPULost"].Seconds(), flaky.calls.Load(), unhealthyAfter.Seconds())
}
