package agent

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpu-watchdog/gpu-watchdog/agent/gpu"
)

// sampler reads the GPUs every interval and publishes the result as the
// current snapshot. Gathering is what runs the collectors, so the registry's
// consistency checks happen here, off the scrape path. The agent's own
// metrics (Go runtime, process) are gathered with each cycle too: at most
// one interval old, they cost a scrape nothing.
type sampler struct {
	logger   *slog.Logger
	interval time.Duration
	gatherer prometheus.Gatherer
	gpus     []*gpu.GPU
	now      func() time.Time

	cycle     sync.Mutex // one cycle at a time: collectors keep state between cycles
	current   atomic.Pointer[snapshot]
	wanted    wantedFormats
	duration  prometheus.Gauge
	sampledAt prometheus.Gauge
	failed    bool
}

func newSampler(logger *slog.Logger, interval time.Duration, sampled, self *prometheus.Registry, gpus []*gpu.GPU) *sampler {
	s := &sampler{logger: logger, interval: interval, gatherer: prometheus.Gatherers{sampled, self}, gpus: gpus, now: time.Now,
		duration: prometheus.NewGauge(prometheus.GaugeOpts{Name: "gpuwd_sample_duration_seconds",
			Help: "Time the previous sampling cycle took: reading every GPU and rendering the formats scrapers use."}),
		sampledAt: prometheus.NewGauge(prometheus.GaugeOpts{Name: "gpuwd_sample_timestamp_seconds",
			Help: "Unix time the GPUs in this output were read."}),
	}
	self.MustRegister(s.duration, s.sampledAt)
	return s
}

// sample runs one cycle and publishes its snapshot.
func (s *sampler) sample() {
	s.cycle.Lock()
	defer s.cycle.Unlock()
	start := s.now()
	s.sampledAt.Set(float64(start.UnixMilli()) / 1000)
	fams, err := s.gatherer.Gather()
	if err != nil {
		// Gather returns what it could; a bad series is dropped, the rest served.
		if !s.failed {
			s.logger.Error("sampling produced inconsistent metrics", "err", err)
		}
		s.failed = true
	} else {
		s.failed = false
	}
	snap := &snapshot{at: start, families: fams, openMetrics: forOpenMetrics(fams), gpus: statusOf(s.gpus),
		rendered: map[renderKey]*rendering{}}
	for _, k := range s.wanted.recent(start) {
		_, _ = snap.body(k) // an error is logged by the scrape that meets it
	}
	s.current.Store(snap)
	s.duration.Set(s.now().Sub(start).Seconds())
}

// run samples every interval until ctx ends.
func (s *sampler) run(ctx context.Context) {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.sample()
		}
	}
}

// snapshot returns the latest published snapshot.
func (s *sampler) snapshot() *snapshot { return s.current.Load() }

// stale reports whether sampling has stopped making progress (a hung driver
// call): no cycle finished within several intervals.
func (s *sampler) stale() bool {
	snap := s.snapshot()
	limit := max(5*s.interval, 10*time.Second)
	return snap == nil || s.now().Sub(snap.at) > limit
}
