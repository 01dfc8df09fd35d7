package collector

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpu-watchdog/gpu-watchdog/agent/gpu"
)

// Collector reads one signal from every GPU and sends the resulting metrics.
// An error means the signal could not be read; what was sent stays valid.
type Collector interface {
	Update(ch chan<- prometheus.Metric) error
}

// Deps is what a collector is built from; tests build their own.
type Deps struct {
	Logger *slog.Logger
	Lib    *gpu.Library
	GPUs   []*gpu.GPU
	// Now is the clock (time.Now unless a test sets it).
	Now func() time.Time
}

type factory struct {
	name      string
	defaultOn bool
	build     func(Deps) (Collector, error)
}

var factories []factory

func register(name string, defaultOn bool, build func(Deps) (Collector, error)) {
	factories = append(factories, factory{name, defaultOn, build})
}

// registerPerGPU registers a collector that needs nothing but a function
// reading one GPU: most signals are that.
func registerPerGPU(name string, defaultOn bool, read func(r *reader)) {
	register(name, defaultOn, func(d Deps) (Collector, error) { return perGPU{d.GPUs, read}, nil })
}

// perGPU runs read on every GPU that answers.
type perGPU struct {
	gpus []*gpu.GPU
	read func(r *reader)
}

func (c perGPU) Update(ch chan<- prometheus.Metric) error {
	return eachGPU(c.gpus, func(g *gpu.GPU) error {
		r := newReader(g, ch)
		c.read(r)
		return r.err()
	})
}

// Names lists every collector, and which are on unless asked otherwise.
func Names() (all, defaults []string) {
	for _, f := range factories {
		all = append(all, f.name)
		if f.defaultOn {
			defaults = append(defaults, f.name)
		}
	}
	slices.Sort(all)
	slices.Sort(defaults)
	return all, defaults
}

// Set runs the enabled collectors as one prometheus.Collector and adds, per
// collector, gpuwd_collector_success and gpuwd_collector_duration_seconds, and
// per GPU gpuwd_gpu_up.
type Set struct {
	logger     *slog.Logger
	lib        *gpu.Library
	gpus       []*gpu.GPU
	names      []string
	collectors []Collector

	mu      sync.Mutex
	failing map[string]bool // last cycle's failures, to log changes only

	running sync.WaitGroup
}

// NewSet builds the collectors named in enabled (nil: the defaults) over deps.
func NewSet(deps Deps, enabled []string) (*Set, error) {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	all, defaults := Names()
	if enabled == nil {
		enabled = defaults
	}
	s := &Set{logger: deps.Logger, lib: deps.Lib, gpus: deps.GPUs, failing: map[string]bool{}}
	for _, name := range enabled {
		i := slices.IndexFunc(factories, func(f factory) bool { return f.name == name })
		if i < 0 {
			return nil, fmt.Errorf("unknown collector %q (known: %s)", name, strings.Join(all, ", "))
		}
		d := deps
		d.Logger = deps.Logger.With("collector", name)
		c, err := factories[i].build(d)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("collector %s: %w", name, err)
		}
		s.names = append(s.names, name)
		s.collectors = append(s.collectors, c)
	}
	return s, nil
}

// Start runs the collectors' background work (the XID event watcher) until
// ctx ends.
func (s *Set) Start(ctx context.Context) {
	for _, c := range s.collectors {
		if r, ok := c.(interface{ Run(context.Context) }); ok {
			s.running.Go(func() { r.Run(ctx) })
		}
	}
}

// Close releases what collectors hold in NVML (GPM samples, event sets). The
// context given to Start must be done: Close waits for the background work
// to stop before freeing what it uses.
func (s *Set) Close() {
	s.running.Wait()
	for _, c := range s.collectors {
		if cl, ok := c.(io.Closer); ok {
			_ = cl.Close()
		}
	}
}

var (
	successDesc = prometheus.NewDesc("gpuwd_collector_success",
		"Whether the collector read its signal in the last sampling cycle (1) or failed (0).", []string{"collector"}, nil)
	durationDesc = prometheus.NewDesc("gpuwd_collector_duration_seconds",
		"Time the collector took in the last sampling cycle.", []string{"collector"}, nil)
	gpuUpDesc = gpuDesc("gpuwd_gpu_up",
		"Whether the GPU answered NVML in the last sampling cycle (0: lost from the bus, or no handle).")
)

// Describe is empty: the set is an unchecked collector, because which series
// exist depends on what each GPU supports.
func (s *Set) Describe(chan<- *prometheus.Desc) {}

// Collect runs one sampling cycle.
func (s *Set) Collect(ch chan<- prometheus.Metric) {
	for _, g := range s.gpus {
		g.Reacquire(s.lib)
		probeLost(g)
	}
	for i, c := range s.collectors {
		name := s.names[i]
		start := time.Now()
		err := safeUpdate(c, ch)
		ch <- prometheus.MustNewConstMetric(durationDesc, prometheus.GaugeValue, time.Since(start).Seconds(), name)
		ch <- prometheus.MustNewConstMetric(successDesc, prometheus.GaugeValue, boolValue(err == nil), name)
		s.noteResult(name, err)
	}
	for _, g := range s.gpus {
		ch <- gpuMetric(gpuUpDesc, prometheus.GaugeValue, boolValue(g.Up()), g)
	}
}

// probeLost asks a GPU marked lost whether it answers again (after a reset,
// say), whichever collectors run.
func probeLost(g *gpu.GPU) {
	if g.Device == nil || g.Up() {
		return
	}
	if _, ret := g.Device.GetTemperature(nvml.TEMPERATURE_GPU); ret == nvml.SUCCESS || gpu.Absent(ret) {
		g.MarkFound()
	}
}

// noteResult logs a collector's failure when it starts and its recovery when
// it ends, not every cycle.
func (s *Set) noteResult(name string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	was := s.failing[name]
	switch {
	case err != nil && !was:
		s.logger.Warn("collector failing", "collector", name, "err", err)
	case err == nil && was:
		s.logger.Info("collector recovered", "collector", name)
	}
	s.failing[name] = err != nil
}

// safeUpdate keeps one collector's panic from taking the agent down.
func safeUpdate(c Collector, ch chan<- prometheus.Metric) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return c.Update(ch)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
