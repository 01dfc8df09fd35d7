package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/gpu-watchdog/gpu-watchdog/agent/collector"
	"github.com/gpu-watchdog/gpu-watchdog/agent/gpu"
	"github.com/gpu-watchdog/gpu-watchdog/agent/sim"
	"github.com/gpu-watchdog/gpu-watchdog/slurm"
	"github.com/gpu-watchdog/gpu-watchdog/slurm/slurmsim"
)

// shutdownGrace is how long in-flight requests get to finish on SIGTERM, and
// samplerStopWait how long a sampling cycle gets to end.
const (
	shutdownGrace   = 5 * time.Second
	samplerStopWait = 10 * time.Second
)

// Agent is a running gpuwd-agent: its GPUs, sampler and HTTP handler.
type Agent struct {
	opts     Options
	logger   *slog.Logger
	hostname string

	lib       *gpu.Library // nil without NVML
	nvmlError string
	driver    string // driver and CUDA versions, for the inventory
	cuda      string
	simulated *sim.Library // non-nil with --simulate
	set       *collector.Set
	sampler   *sampler
	self      *prometheus.Registry // the agent's own live metrics
	registrar *registrar           // nil without --aggregator-url
	slurm     *slurm.Node          // nil with --slurm-role none

	simCluster *slurmsim.Cluster  // non-nil with --simulate-slurm
	simNode    string             // this agent's node in it
	simSlurm   *slurmsim.Exporter // non-nil with --simulate-slurm
}

// New opens NVML (or the simulator), finds the GPUs and takes the first
// sample. A host without NVML is not an error: the agent then reports
// gpuwd_nvml_up 0 and serves what it has.
func New(opts Options, logger *slog.Logger) (*Agent, error) {
	if err := opts.Check(); err != nil {
		return nil, err
	}
	a := &Agent{opts: opts, logger: logger, hostname: opts.Hostname, self: prometheus.NewRegistry()}
	if a.hostname == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("hostname: %w (set --hostname)", err)
		}
		a.hostname = h
	}
	if err := a.openSimulatedSlurm(); err != nil {
		return nil, err
	}
	lib, err := a.openNVML()
	if err != nil {
		return nil, err
	}
	a.lib = lib

	sampled := prometheus.NewRegistry()
	sampled.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gpuwd_nvml_up",
		Help: "Whether NVML could be initialised (1) or not (0); the agent's log says why."},
		func() float64 { return boolFloat(lib != nil) }))
	var gpus []*gpu.GPU
	if a.lib != nil {
		if gpus, err = gpu.Discover(a.lib, a.hostname); err != nil {
			a.closeNVML()
			return nil, fmt.Errorf("finding GPUs: %w", err)
		}
		set, err := collector.NewSet(collector.Deps{Logger: logger, Lib: a.lib, GPUs: gpus}, opts.collectorNames())
		if err != nil {
			a.closeNVML()
			return nil, err
		}
		a.set = set
		a.driver, a.cuda = a.lib.DriverVersion, a.lib.CUDAVersion
		sampled.MustRegister(set)
		logger.Info("GPUs found", "count", len(gpus), "driver", a.lib.DriverVersion, "cuda", a.lib.CUDAVersion,
			"simulated", a.simulated != nil)
	}
	a.self.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gpuwd_build_info",
			Help:        "gpuwd-agent's version (always 1).",
			ConstLabels: prometheus.Labels{"version": opts.Version, "revision": opts.Revision, "goversion": runtime.Version()}},
			func() float64 { return 1 }),
	)
	if opts.CostPerHour > 0 {
		a.self.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gpuwd_node_cost_per_hour_dollars",
			Help: "What this pod costs per hour, in US dollars (--cost-per-hour)."},
			func() float64 { return opts.CostPerHour }))
	}
	if opts.Slurm.Enabled() {
		if a.slurm, err = slurm.New(opts.Slurm, slurmGPUs(gpus), a.hostname, logger); err != nil {
			a.closeNVML()
			return nil, err
		}
		sampled.MustRegister(a.slurm)
	}
	if a.simCluster != nil && a.lib != nil {
		if err := a.newSimulatedSlurm(gpus); err != nil {
			a.closeNVML()
			return nil, err
		}
		sampled.MustRegister(a.simSlurm)
	}
	a.registrar = newRegistrar(opts, logger, a.hostname, gpus, a.self)
	a.sampler = newSampler(logger, opts.SampleInterval, sampled, a.self, gpus)
	a.sampler.sample()
	return a, nil
}

// openNVML opens Options.NVML, the simulator or the real library. Only a
// bad --simulate is an error; a missing driver is logged once and leaves
// lib nil.
func (a *Agent) openNVML() (*gpu.Library, error) {
	var raw nvml.Interface
	switch {
	case a.opts.NVML != nil:
		raw = a.opts.NVML
	case a.opts.Simulate != "":
		s, err := sim.New(sim.Options{Spec: a.opts.Simulate, Seed: a.opts.SimulateSeed, Stable: a.opts.SimulateStable,
			Schedule: a.simSchedule()})
		if err != nil {
			return nil, err
		}
		a.simulated, raw = s, s
	default:
		raw = nvml.New(nvml.WithLibraryPath(a.opts.NVMLLibrary))
	}
	lib, err := gpu.Open(raw)
	if err != nil {
		a.nvmlError = err.Error()
		a.logger.Warn("no GPU metrics: serving gpuwd_nvml_up 0 and everything else", "reason", err.Error())
		return nil, nil
	}
	return lib, nil
}

func (a *Agent) closeNVML() {
	if a.lib != nil {
		if err := a.lib.Close(); err != nil {
			a.logger.Warn("closing NVML", "err", err)
		}
	}
}

// Run serves on opts.Listen until ctx ends, then shuts down gracefully.
func (a *Agent) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", a.opts.Listen)
	if err != nil {
		a.Close()
		return fmt.Errorf("listen %s: %w", a.opts.Listen, err)
	}
	return a.Serve(ctx, ln)
}

// Serve serves on ln until ctx ends. It closes the agent before returning.
func (a *Agent) Serve(ctx context.Context, ln net.Listener) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	if a.set != nil {
		a.set.Start(ctx)
	}
	samplerDone := make(chan struct{})
	go func() { a.sampler.run(ctx); close(samplerDone) }()
	defer a.Close()
	defer func() {
		stop()
		select {
		case <-samplerDone:
		case <-time.After(samplerStopWait):
			// An NVML call has hung: shutting NVML down under it could crash,
			// and the process is exiting anyway.
			a.logger.Error("sampling did not stop: leaving NVML as it is", "waited", samplerStopWait)
			a.set, a.lib = nil, nil
		}
	}()

	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.logger.Handler(), slog.LevelWarn),
	}
	tls := a.opts.TLSCertFile != ""
	a.logger.Info("serving", "addr", ln.Addr().String(), "tls", tls, "auth", a.opts.MetricsToken != "")
	errc := make(chan error, 1)
	go func() {
		if tls {
			errc <- srv.ServeTLS(ln, a.opts.TLSCertFile, a.opts.TLSKeyFile)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	deregister := func() {}
	if a.registrar != nil {
		deregister = a.registrar.start(ctx, ln.Addr())
	}
	if a.slurm != nil {
		// Slurm comes up in the background: metrics are served meanwhile.
		a.slurm.Start(ctx)
		defer a.slurm.Stop()
	}
	if a.simSlurm != nil {
		simDone := make(chan struct{})
		go func() { a.simSlurm.Run(ctx, a.opts.Slurm.CollectInterval); close(simDone) }()
		defer func() { stop(); <-simDone }()
	}
	select {
	case err := <-errc:
		deregister()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.logger.Info("shutting down")
	if a.slurm != nil {
		a.slurm.Stop() // leave the cluster while still answering scrapes
	}
	deregister()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close stops the collectors' background work and releases NVML. Serve
// calls it; call it yourself only for an agent never served.
func (a *Agent) Close() {
	if a.set != nil {
		a.set.Close()
		a.set = nil
	}
	a.closeNVML()
	a.lib = nil
}

// Run is the whole program: New, then Serve on opts.Listen until ctx ends.
func Run(ctx context.Context, opts Options, logger *slog.Logger) error {
	a, err := New(opts, logger)
	if err != nil {
		return err
	}
	return a.Run(ctx)
}

// slurmGPUs is what the Slurm side needs of each GPU.
func slurmGPUs(gpus []*gpu.GPU) []slurm.GPU {
	out := make([]slurm.GPU, len(gpus))
	for i, g := range gpus {
		out[i] = slurm.GPU{Index: g.Index, UUID: g.UUID, Model: g.Name, DeviceFile: g.DeviceFile}
	}
	return out
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
