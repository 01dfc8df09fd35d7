package discovery

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/target"
)

// Defaults of Options.
const (
	DefaultPollInterval      = 2 * time.Second
	DefaultMinUpdateInterval = 500 * time.Millisecond
	DefaultMaintainInterval  = time.Minute
	DefaultPersistInterval   = 5 * time.Minute
)

// Options are the Manager's collaborators and timings; the zero value of
// each field is a sensible default.
type Options struct {
	Logger *slog.Logger
	// Registerer gets the gpuwd_sd_* metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// KV keeps registered agents across restarts; nil keeps them in memory.
	KV KV
	// OnChange receives the whole target set, sorted, when Run starts and
	// whenever the set changes afterwards. It is called from one goroutine,
	// at most once per MinUpdateInterval; it must not modify the targets.
	OnChange func([]target.Target)
	// PollInterval is how often file_sd globs are matched and the files
	// stat'ed (default 2s).
	PollInterval time.Duration
	// MinUpdateInterval coalesces bursts of changes (default 500ms).
	MinUpdateInterval time.Duration
	// MaintainInterval is how often agents past forget_after are dropped and
	// failed store writes retried (default 1m).
	MaintainInterval time.Duration
	// PersistInterval is how stale an agent's saved last-seen time may get
	// before it is written again (default 5m); changes are written at once.
	PersistInterval time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Manager merges the targets of every source: static_configs, file_sd,
// self-registered agents and the pods providers list.
type Manager struct {
	opts    Options
	log     *slog.Logger
	metrics *metrics
	now     func() time.Time
	reg     *registry

	mu          sync.Mutex
	static      []target.Target
	files       []*fileSD
	provisioned []Pod

	gen      atomic.Uint64 // bumped after every change of a source
	notify   chan struct{}
	cacheMu  sync.Mutex
	cacheGen uint64
	cache    []target.Target // nil: not computed
}

// New builds a Manager for cfg and restores the agents saved in opts.KV. It
// reads the file_sd files once, so Targets is complete on return; Run keeps
// the sources up to date.
func New(ctx context.Context, cfg *config.Config, opts Options) (*Manager, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.PollInterval = orDefault(opts.PollInterval, DefaultPollInterval)
	opts.MinUpdateInterval = orDefault(opts.MinUpdateInterval, DefaultMinUpdateInterval)
	opts.MaintainInterval = orDefault(opts.MaintainInterval, DefaultMaintainInterval)
	opts.PersistInterval = orDefault(opts.PersistInterval, DefaultPersistInterval)
	met, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("discovery metrics: %w", err)
	}
	m := &Manager{
		opts: opts, log: opts.Logger, metrics: met, now: opts.Now,
		notify: make(chan struct{}, 1),
	}
	m.reg = &registry{
		log: m.log, m: met, now: opts.Now, kv: opts.KV, persistEvery: opts.PersistInterval,
		onChange: m.changed, agents: map[string]*agentState{}, pendingDeletes: map[string]bool{},
	}
	if err := m.ApplyConfig(cfg); err != nil {
		return nil, err
	}
	if err := m.reg.load(ctx); err != nil {
		return nil, err
	}
	m.changed()
	return m, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// ApplyConfig switches to a new configuration: static targets and file_sd
// files are taken from it (the files read again), the registration settings
// change, and registered agents stay. On error nothing changes.
func (m *Manager) ApplyConfig(cfg *config.Config) error {
	if cfg == nil {
		return errors.New("discovery: nil config")
	}
	s, err := registrationSettings(cfg.Registration)
	if err != nil {
		return err
	}
	static := staticTargets(cfg)
	var files []*fileSD
	for _, sc := range cfg.ScrapeConfigs {
		for _, fc := range sc.FileSDConfigs {
			f := newFileSD(sc, fc, m.log, m.metrics, m.now)
			f.poll()
			files = append(files, f)
		}
	}
	m.mu.Lock()
	m.static, m.files = static, files
	m.mu.Unlock()
	m.reg.configure(s)
	m.changed()
	return nil
}

func registrationSettings(rc config.Registration) (regSettings, error) {
	s := regSettings{
		job:         rc.JobName,
		heartbeat:   time.Duration(rc.Heartbeat),
		forgetAfter: time.Duration(rc.ForgetAfter),
	}
	token, err := rc.LoadToken()
	if err != nil {
		return s, fmt.Errorf("registration token: %w", err)
	}
	if token == "" && rc.TokenFile != "" {
		return s, fmt.Errorf("registration token_file %s is empty", rc.TokenFile)
	}
	if token != "" {
		s.enabled, s.tokenSum = true, sha256.Sum256([]byte(token))
	}
	return s, nil
}

// changed records that a source changed and wakes the notifier.
func (m *Manager) changed() {
	m.gen.Add(1)
	select {
	case m.notify <- struct{}{}:
	default:
	}
}

// Targets returns the current targets, de-duplicated by target.Key (static
// before file_sd before registered; within a source, config and file
// order) and sorted with target.Sort. The slice is the caller's; the maps
// in the targets are shared and must not be modified.
func (m *Manager) Targets() []target.Target {
	gen := m.gen.Load()
	m.cacheMu.Lock()
	defer m.cacheMu.Unlock()
	if m.cache == nil || m.cacheGen != gen {
		m.cache, m.cacheGen = m.compute(), gen
	}
	return slices.Clone(m.cache)
}

func (m *Manager) compute() []target.Target {
	m.mu.Lock()
	all := slices.Clone(m.static)
	files, pods := m.files, m.provisioned
	m.mu.Unlock()
	for _, f := range files {
		all = append(all, f.targets()...)
	}
	all = append(all, m.reg.targets()...)
	all = append(all, m.provisionedTargets(pods, m.reg.list())...)

	seen := make(map[string]bool, len(all))
	out := make([]target.Target, 0, len(all))
	counts := map[string]int{}
	for _, t := range all {
		if k := t.Key(); !seen[k] {
			seen[k] = true
			out = append(out, t)
			src, _, _ := strings.Cut(t.Source, ":")
			counts[src]++
		}
	}
	for _, src := range []string{"static", "file_sd", "registered", "provisioned"} {
		m.metrics.targets.WithLabelValues(src).Set(float64(counts[src]))
	}
	target.Sort(out)
	return out
}

// Errors lists the file_sd files whose last read failed, by path.
func (m *Manager) Errors() []FileError {
	m.mu.Lock()
	files := m.files
	m.mu.Unlock()
	var es []FileError
	for _, f := range files {
		es = append(es, f.errors()...)
	}
	slices.SortFunc(es, func(a, b FileError) int {
		return strings.Compare(a.Path+"\x00"+a.Job, b.Path+"\x00"+b.Job)
	})
	return es
}

// Agents lists the self-registered agents, by URL.
func (m *Manager) Agents() []Agent { return m.reg.list() }
