package scrape

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/store"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/target"
)

// Storage is where scraped samples go. The SQLite store implements it.
type Storage interface {
	// Ref returns the series' reference, creating the series if new. Labels
	// are sorted, include __name__.
	Ref(lset labels.Labels) (store.SeriesRef, error)
	// Append stores samples durably; when it returns nil they are
	// acknowledged. The slice is reused after Append returns.
	Append(ctx context.Context, samples []store.Sample) error
	// SetMetadata records a metric family's type/help/unit (called when
	// first seen or changed).
	SetMetadata(metric string, m store.Metadata)
}

// Options are the Manager's settings; the zero value works.
type Options struct {
	Logger *slog.Logger
	// Registerer receives the scraper's own metrics (gpuwd_scrape_*); nil
	// keeps them unregistered.
	Registerer prometheus.Registerer
	// Version makes the User-Agent header, gpuwd/<Version> ("dev" if empty).
	Version string
	// Transport, when set, carries every scrape instead of the per-job
	// transports built from each job's tls_config.
	Transport http.RoundTripper
	// IdleConnTimeout is how long a kept-alive connection to a target may
	// stay idle (default 5m, as Prometheus).
	IdleConnTimeout time.Duration
	// Now is the clock (default time.Now). Waiting uses real timers, so a
	// replacement must advance with real time; it may jump, as a wall clock
	// does (forward: the ticks missed are skipped; back: the loop takes the
	// first tick from the new time).
	Now func() time.Time
	// OffsetSeed shifts every target's phase within its interval, as
	// Prometheus' per-server seed does.
	OffsetSeed uint64
}

// Manager runs one scrape loop per target.
type Manager struct {
	st      Storage
	opts    Options
	log     *slog.Logger
	metrics *metrics
	meta    metadataSent

	mu      sync.Mutex
	jobs    map[string]*job
	loops   map[string]*loop // by target key
	exiting map[string]*loop // removed loops still writing stale markers
	targets []target.Target  // the last Sync
	dropped []target.Target
	stopped bool
	wg      sync.WaitGroup
}

// NewManager returns a Manager with no jobs and no targets.
func NewManager(st Storage, opts Options) *Manager {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	if opts.IdleConnTimeout == 0 {
		opts.IdleConnTimeout = 5 * time.Minute
	}
	return &Manager{
		st:      st,
		opts:    opts,
		log:     opts.Logger,
		metrics: newMetrics(opts.Registerer),
		meta:    metadataSent{sent: map[string]store.Metadata{}},
		jobs:    map[string]*job{},
		loops:   map[string]*loop{},
		exiting: map[string]*loop{},
	}
}

// ApplyConfig replaces the scrape jobs. Targets of jobs that went away stop
// (their series are marked stale) and are listed as dropped; loops of jobs
// whose settings changed restart with the new settings. On error (a
// tls_config that cannot be loaded) nothing changes.
func (m *Manager) ApplyConfig(jobs []config.ScrapeConfig) error {
	next := make(map[string]*job, len(jobs))
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, cfg := range jobs {
		if old := m.jobs[cfg.JobName]; old != nil && sameSettings(old.given, cfg) {
			next[cfg.JobName] = old // keep its client and connections
			continue
		}
		j, err := newJob(cfg, m.opts)
		if err != nil {
			return err
		}
		next[cfg.JobName] = j
	}
	m.jobs = next
	m.syncLocked(m.targets)
	return nil
}

// Sync makes the running loops match targets: new targets start, removed
// ones stop and have their series marked stale, and targets whose job
// settings or labels changed restart. Targets naming no configured job are
// dropped. Of targets sharing a key (job and URL), the first is kept.
func (m *Manager) Sync(targets []target.Target) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.syncLocked(targets)
}

func (m *Manager) syncLocked(targets []target.Target) {
	if m.stopped {
		return
	}
	m.targets = targets
	m.dropped = nil
	want := make(map[string]target.Target, len(targets))
	for _, t := range targets {
		if m.jobs[t.Job] == nil {
			m.dropped = append(m.dropped, t)
			continue
		}
		if _, dup := want[t.Key()]; !dup {
			want[t.Key()] = t
		}
	}
	for key, l := range m.exiting {
		if l.finished() {
			delete(m.exiting, key)
		}
	}
	for key, l := range m.loops {
		t, ok := want[key]
		switch {
		case !ok:
			l.stop(false)
			delete(m.loops, key)
			m.exiting[key] = l
		case l.job != m.jobs[t.Job] || !sameLabels(l.target(), t):
			l.stop(true)
			m.startLocked(t, l)
		default:
			l.setTarget(t) // only discovery facts changed
		}
		delete(want, key)
	}
	for key, t := range want {
		prev := m.exiting[key]
		delete(m.exiting, key)
		m.startLocked(t, prev)
	}
}

// startLocked starts a loop for t after prev (if any) has finished.
func (m *Manager) startLocked(t target.Target, prev *loop) {
	l := m.newLoop(t, m.jobs[t.Job], prev)
	m.loops[t.Key()] = l
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		l.run()
	}()
}

// Stop stops every loop, marks every target's series stale and returns when
// they are written (or given up on after each job's scrape timeout).
func (m *Manager) Stop() {
	m.mu.Lock()
	m.stopped = true
	for key, l := range m.loops {
		l.stop(false)
		delete(m.loops, key)
	}
	m.mu.Unlock()
	m.wg.Wait()
}

// Dropped lists the targets of the last Sync that name no configured job.
func (m *Manager) Dropped() []target.Target {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := append([]target.Target(nil), m.dropped...)
	target.Sort(out)
	return out
}
