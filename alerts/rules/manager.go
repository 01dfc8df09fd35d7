package rules

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// Notification is an alert as sent on to routing, in Alertmanager's terms:
// StartsAt is when it fired, EndsAt when it resolved or, while it fires,
// how long it may be believed without news.
type Notification struct {
	Labels       labels.Labels
	Annotations  labels.Labels
	StartsAt     time.Time
	EndsAt       time.Time
	GeneratorURL string
}

// NotifyFunc receives the alerts due to be sent after each evaluation of a
// group: firing ones every resend delay, resolved ones until sent.
type NotifyFunc func(ctx context.Context, alerts []Notification)

// Options configure a Manager. Query is required.
type Options struct {
	Query  QueryFunc
	Sink   Sink       // nil: ALERTS and recorded series are not stored
	Notify NotifyFunc // nil: alerts are not sent anywhere
	State  StateStore // nil: alert state is lost at restart
	// ExternalURL is the dashboard's address, for $externalURL and the
	// alerts' links; ExternalLabels are added to every alert sent.
	ExternalURL     string
	ExternalLabels  map[string]string
	DefaultInterval time.Duration // default 30s
	ResendDelay     time.Duration // default 1m
	// OutageTolerance: state older than this is not restored (default 1h);
	// ForGracePeriod: a restored pending alert fires no sooner than this
	// after the restart (default 10m). Both as in Prometheus.
	OutageTolerance time.Duration
	ForGracePeriod  time.Duration
	Logger          *slog.Logger
	// Now is the clock of evaluation slots and timestamps (default
	// time.Now); the waits between slots use real timers.
	Now     func() time.Time
	Metrics *Metrics // nil: none
	// Extra gives rules that come from elsewhere than files (the
	// dashboard's), as the content of a rule file and the name its groups
	// take as File(). Every Update and Reload asks it again and adds its
	// groups after the files'; an error, or content that does not parse,
	// fails the Update as a bad file does. Nil: files only.
	Extra func(ctx context.Context) (name string, content []byte, err error)
}

// Manager runs rule groups and keeps their alerts.
type Manager struct {
	opts        Options
	externalURL *url.URL
	log         *slog.Logger

	// updateMu serialises Update and Reload, so the last to start wins;
	// sources are the files of the last successful one, loaded whether
	// there was one.
	updateMu sync.Mutex
	sources  []source
	loaded   bool

	mu       sync.Mutex
	groups   []*Group
	files    []string
	restored bool
	runCtx   context.Context
	loops    map[*Group]context.CancelFunc
	wg       sync.WaitGroup
}

// NewManager returns a manager without rules; Update loads them.
func NewManager(opts Options) (*Manager, error) {
	if opts.Query == nil {
		return nil, fmt.Errorf("rules: Options.Query is required")
	}
	if opts.DefaultInterval <= 0 {
		opts.DefaultInterval = 30 * time.Second
	}
	if opts.ResendDelay <= 0 {
		opts.ResendDelay = time.Minute
	}
	if opts.OutageTolerance <= 0 {
		opts.OutageTolerance = time.Hour
	}
	if opts.ForGracePeriod <= 0 {
		opts.ForGracePeriod = 10 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m := &Manager{opts: opts, log: opts.Logger, loops: map[*Group]context.CancelFunc{}}
	if opts.ExternalURL != "" {
		u, err := url.Parse(opts.ExternalURL)
		if err != nil {
			return nil, fmt.Errorf("rules: external URL: %w", err)
		}
		m.externalURL = u
	}
	return m, nil
}

// setGroups replaces the groups; m.updateMu is held.
func (m *Manager) setGroups(ctx context.Context, files []string, groups []*Group) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.restored && m.opts.State != nil {
		if err := m.restore(ctx, groups); err != nil {
			m.log.Error("restoring alert state failed; alerts start fresh", "err", err)
		}
	}
	m.restored = true
	old := map[string]*Group{}
	for _, g := range m.groups {
		old[g.key()] = g
	}
	for _, g := range groups {
		if o, ok := old[g.key()]; ok {
			copyState(o, g)
			delete(old, g.key())
		}
	}
	for _, g := range m.groups {
		if cancel, ok := m.loops[g]; ok {
			cancel()
			delete(m.loops, g)
		}
	}
	// Groups that are gone mark their series stale once.
	for _, g := range old {
		m.markStale(ctx, g)
		if m.opts.State != nil {
			if err := m.opts.State.Delete(ctx, g.key()); err != nil {
				m.log.Warn("forgetting a removed group's alert state failed", "group", g.name, "err", err)
			}
		}
	}
	m.groups, m.files = groups, files
	if m.runCtx != nil {
		for _, g := range groups {
			m.startLoop(g)
		}
	}
	m.opts.Metrics.setGroups(groups)
	m.log.Info("rules loaded", "files", len(files), "groups", len(groups))
}

// copyState moves alerts and series from the old version of a group to the
// new one, matching rules by name and labels in order.
func copyState(from, to *Group) {
	used := make([]bool, len(from.rules))
	from.mu.Lock()
	prev := from.previous
	from.mu.Unlock()
	to.previous = make([]map[uint64]labels.Labels, len(to.rules))
	for i, nr := range to.rules {
		for j, or := range from.rules {
			if used[j] || nr.Name() != or.Name() || !labels.Equal(nr.Labels(), or.Labels()) {
				continue
			}
			used[j] = true
			if j < len(prev) {
				to.previous[i] = prev[j]
			}
			to.rules[i].lastHealth().set(or.lastHealth().get())
			na, aok := nr.(*AlertingRule)
			oa, bok := or.(*AlertingRule)
			if aok && bok {
				oa.mu.Lock()
				na.active = oa.active
				oa.mu.Unlock()
			}
			break
		}
	}
	to.lastEval, to.evalTook = from.LastEvaluation()
	to.saved = from.saved
	// Rules that are gone: their series end.
	for j, u := range used {
		if !u && j < len(prev) {
			to.orphans = append(to.orphans, prev[j])
		}
	}
}

// Groups returns the loaded groups.
func (m *Manager) Groups() []*Group {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*Group(nil), m.groups...)
}

// Files returns the loaded rule files.
func (m *Manager) Files() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.files...)
}

// Run evaluates every group at its interval until ctx ends.
func (m *Manager) Run(ctx context.Context) {
	m.mu.Lock()
	m.runCtx = ctx
	for _, g := range m.groups {
		m.startLoop(g)
	}
	m.mu.Unlock()
	<-ctx.Done()
	m.mu.Lock()
	for g, cancel := range m.loops {
		cancel()
		delete(m.loops, g)
	}
	m.runCtx = nil
	m.mu.Unlock()
	m.wg.Wait()
}

// startLoop runs g in its slots; m.mu is held.
func (m *Manager) startLoop(g *Group) {
	ctx, cancel := context.WithCancel(m.runCtx)
	m.loops[g] = cancel
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		next := g.evalTimestamp(m.opts.Now()).Add(g.interval)
		timer := time.NewTimer(m.untilSlot(g, &next))
		defer timer.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
			if missed := m.opts.Now().Sub(next) / g.interval; missed > 0 {
				m.opts.Metrics.missed(g, int(missed))
				next = next.Add(missed * g.interval)
			}
			m.EvalGroup(ctx, g, next)
			next = next.Add(g.interval)
			timer.Reset(m.untilSlot(g, &next))
		}
	}()
}

// untilSlot is the wait until the slot *next. Slots are wall-clock times;
// when the wall clock has gone back by more than an interval, the group
// takes its first slot after the new time instead of waiting (evaluation
// would otherwise stop for as long as the clock went back).
func (m *Manager) untilSlot(g *Group, next *time.Time) time.Duration {
	now := m.opts.Now()
	if next.Sub(now) > g.interval {
		*next = g.evalTimestamp(now).Add(g.interval)
	}
	return next.Sub(now)
}

// EvalAt evaluates every group at ts, in order: what the loops do, for
// tests and `gpuwd rules test`.
func (m *Manager) EvalAt(ctx context.Context, ts time.Time) {
	for _, g := range m.Groups() {
		m.EvalGroup(ctx, g, ts)
	}
}

// EvalGroup evaluates g at ts, sends its due alerts and saves its state.
func (m *Manager) EvalGroup(ctx context.Context, g *Group, ts time.Time) {
	env := evalEnv{
		query:       m.opts.Query,
		sink:        m.opts.Sink,
		externalURL: m.externalURL,
		now:         m.opts.Now,
		onError: func(rule string, err error) {
			m.log.Warn("rule evaluation failed", "group", g.name, "rule", rule, "err", err)
		},
	}
	g.writeOrphans(ctx, ts, m.opts.Sink)
	g.Eval(ctx, ts, env)
	m.opts.Metrics.observe(g)
	m.send(ctx, g, ts)
	m.save(ctx, g, ts)
}

func (m *Manager) send(ctx context.Context, g *Group, ts time.Time) {
	if m.opts.Notify == nil {
		return
	}
	var out []Notification
	for _, r := range g.rules {
		ar, ok := r.(*AlertingRule)
		if !ok {
			continue
		}
		for _, a := range ar.alertsToSend(ts, m.opts.ResendDelay, g.interval) {
			out = append(out, m.notification(ar, a))
		}
	}
	if len(out) > 0 {
		m.opts.Notify(ctx, out)
	}
}

func (m *Manager) notification(r *AlertingRule, a Alert) Notification {
	lb := labels.NewBuilder(a.Labels)
	for k, v := range m.opts.ExternalLabels {
		if a.Labels.Get(k) == "" {
			lb.Set(k, v)
		}
	}
	n := Notification{
		Labels:       lb.Labels(),
		Annotations:  a.Annotations,
		StartsAt:     a.FiredAt,
		EndsAt:       a.ValidUntil,
		GeneratorURL: m.generatorURL(r),
	}
	if !a.ResolvedAt.IsZero() {
		n.EndsAt = a.ResolvedAt
	}
	return n
}

// generatorURL links an alert to its rule on the dashboard's alerts page.
func (m *Manager) generatorURL(r *AlertingRule) string {
	if m.externalURL == nil {
		return ""
	}
	return m.externalURL.JoinPath("alerts").String() + "?rule=" + url.QueryEscape(r.name)
}

// markStale ends every series a removed group wrote.
func (m *Manager) markStale(ctx context.Context, g *Group) {
	g.mu.Lock()
	g.orphans = append(g.orphans, g.previous...)
	g.previous = nil
	g.mu.Unlock()
	g.writeOrphans(ctx, m.opts.Now(), m.opts.Sink)
}
