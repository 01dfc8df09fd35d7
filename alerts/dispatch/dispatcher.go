package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/matcher"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/route"
)

// maintenance is the longest Run sleeps without a Tick, which forgets the
// resolved alerts notified long ago (Alertmanager's maintenance interval).
const maintenance = 30 * time.Second

// tombstoneTTL is how long the dispatcher remembers a resolved alert it has
// notified and dropped, so that the rule engine re-sending it (Prometheus
// does for 15 minutes) does not make it news again.
const tombstoneTTL = time.Hour

// Dispatcher routes alerts into aggregation groups and notifies them. It is
// safe for concurrent use.
type Dispatcher struct {
	log         Log
	sil         Silencer
	externalURL string
	now         func() time.Time
	logger      *slog.Logger
	m           *metrics
	holdUntil   time.Time
	wake        chan struct{}

	tickMu sync.Mutex // serialises Tick and ApplyConfig

	mu     sync.Mutex
	cfg    *route.Config
	inhib  *inhibitor
	alerts map[string]*entry    // by fingerprint
	groups map[string]*group    // by route ID and group labels
	tombs  map[string]time.Time // fingerprint → EndsAt of a resolved alert already notified and dropped
}

// entry is an alert the dispatcher holds, with its last known status.
type entry struct {
	alert   *Alert // replaced, never modified, on update
	timeout bool   // EndsAt came from resolve_timeout
	groups  int    // how many groups hold it

	silencedBy  []string
	inhibitedBy []string
}

// group is an aggregation group: the alerts of one route with the same
// group labels.
type group struct {
	id      string
	key     string
	route   *route.Route
	labels  map[string]string
	alerts  map[string]*Alert
	next    time.Time // next flush
	flushed bool
}

// New returns a dispatcher for cfg. It panics without o.Log.
func New(cfg *route.Config, o Options) (*Dispatcher, error) {
	if o.Log == nil {
		panic("dispatch: Options.Log is required")
	}
	d := &Dispatcher{
		log:         o.Log,
		sil:         o.Silences,
		externalURL: o.ExternalURL,
		now:         o.Now,
		logger:      o.Logger,
		wake:        make(chan struct{}, 1),
		alerts:      map[string]*entry{},
		groups:      map[string]*group{},
		tombs:       map[string]time.Time{},
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.logger == nil {
		d.logger = slog.New(slog.DiscardHandler)
	}
	d.holdUntil = d.now().Add(o.Hold)
	d.cfg, d.inhib = cfg, newInhibitor(cfg.InhibitRules)
	m, err := newMetrics(o.Registerer, d)
	if err != nil {
		return nil, err
	}
	d.m = m
	return d, nil
}

// Put adds or updates alerts, as Alertmanager's POST /api/v2/alerts does:
// empty labels are dropped, a zero StartsAt is now, a zero EndsAt is now
// plus global.resolve_timeout, and an update that overlaps the alert's
// activity keeps its earliest start. Invalid alerts are left out and
// reported in the error; the others are added.
func (d *Dispatcher) Put(alerts ...Alert) error {
	now := d.now()
	var errs []error
	d.mu.Lock()
	resolveTimeout := d.cfg.ResolveTimeout()
	for _, in := range alerts {
		a := in.clone()
		maps.DeleteFunc(a.Labels, func(_, v string) bool { return v == "" })
		a.UpdatedAt = now
		if a.StartsAt.IsZero() {
			a.StartsAt = now
			if !a.EndsAt.IsZero() {
				a.StartsAt = a.EndsAt
			}
		}
		timeout := a.EndsAt.IsZero()
		if timeout {
			a.EndsAt = now.Add(resolveTimeout)
		}
		if err := validate(a); err != nil {
			errs = append(errs, fmt.Errorf("alert %v: %w", a.Labels, err))
			continue
		}
		d.put(a, timeout, now)
	}
	d.mu.Unlock()
	d.poke()
	return errors.Join(errs...)
}

// validate is Alertmanager's check of an alert.
func validate(a *Alert) error {
	if a.EndsAt.Before(a.StartsAt) {
		return errors.New("start time must be before end time")
	}
	if len(a.Labels) == 0 {
		return errors.New("at least one label pair required")
	}
	for k, v := range a.Labels {
		if !matcher.IsValidLabelName(k) {
			return fmt.Errorf("invalid label name %q", k)
		}
		if !utf8.ValidString(v) {
			return fmt.Errorf("invalid value of label %q: not UTF-8", k)
		}
	}
	for k := range a.Annotations {
		if !matcher.IsValidLabelName(k) {
			return fmt.Errorf("invalid annotation name %q", k)
		}
	}
	return nil
}

func (d *Dispatcher) put(a *Alert, timeout bool, now time.Time) {
	fp := a.Fingerprint()
	if a.Resolved(now) {
		if t, ok := d.tombs[fp]; ok && !a.EndsAt.After(t) && d.alerts[fp] == nil {
			return // notified, dropped, and now sent again
		}
	} else {
		delete(d.tombs, fp)
	}
	e := d.alerts[fp]
	if e == nil {
		e = &entry{}
		d.alerts[fp] = e
	} else if old := e.alert; overlaps(old, a) {
		a, timeout = merge(old, e.timeout, a, timeout, now)
	}
	e.alert, e.timeout = a, timeout
	d.inhib.set(fp, a)
	d.route(fp, e, now)
}

// overlaps is Alertmanager's test for merging an update into the alert it
// has: their activity ranges overlap.
func overlaps(old, a *Alert) bool {
	return (a.EndsAt.After(old.StartsAt) && a.EndsAt.Before(old.EndsAt)) ||
		(a.StartsAt.After(old.StartsAt) && a.StartsAt.Before(old.EndsAt))
}

// merge is Alertmanager's Alert.Merge of an update into the alert held:
// the update's fields, the earliest start, and the latest end where it
// means something (a resolution, or an end that did not come from the
// resolve timeout).
func merge(old *Alert, oldTimeout bool, a *Alert, timeout bool, now time.Time) (*Alert, bool) {
	res := *a
	if old.StartsAt.Before(a.StartsAt) {
		res.StartsAt = old.StartsAt
	}
	if a.Resolved(now) {
		if old.Resolved(now) && old.EndsAt.After(a.EndsAt) {
			res.EndsAt = old.EndsAt
		}
	} else if old.EndsAt.After(a.EndsAt) && !oldTimeout {
		res.EndsAt, timeout = old.EndsAt, false
	}
	return &res, timeout
}

// route puts the alert into the groups of the routes it matches. A group
// that has not flushed yet flushes at once when the alert started more than
// group_wait ago (it is old news: after a restart or a reload).
func (d *Dispatcher) route(fp string, e *entry, now time.Time) {
	for _, r := range d.cfg.Root().Match(e.alert.Labels) {
		labels := r.GroupLabels(e.alert.Labels)
		key := r.GroupKey(labels)
		id := r.ID() + "\x00" + key
		g := d.groups[id]
		if g == nil {
			g = &group{id: id, key: key, route: r, labels: labels, alerts: map[string]*Alert{}, next: now.Add(r.GroupWait)}
			d.groups[id] = g
		}
		if _, ok := g.alerts[fp]; !ok {
			e.groups++
		}
		g.alerts[fp] = e.alert
		if !g.flushed && e.alert.StartsAt.Add(r.GroupWait).Before(now) && now.Before(g.next) {
			g.next = now
		}
	}
}

// ApplyConfig switches to a new configuration without losing alerts: like
// an Alertmanager reload, every group starts again and the alerts are
// routed anew. Groups whose alerts are older than group_wait flush at once,
// and notify only what changed since their last notification.
func (d *Dispatcher) ApplyConfig(cfg *route.Config) {
	d.tickMu.Lock()
	defer d.tickMu.Unlock()
	d.mu.Lock()
	now := d.now()
	d.cfg = cfg
	d.inhib = newInhibitor(cfg.InhibitRules)
	d.groups = map[string]*group{}
	for _, fp := range slices.Sorted(maps.Keys(d.alerts)) {
		e := d.alerts[fp]
		e.groups = 0
		d.inhib.set(fp, e.alert)
		d.route(fp, e, now)
	}
	d.mu.Unlock()
	d.poke()
}

// Config is the configuration in use.
func (d *Dispatcher) Config() *route.Config {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg
}

// poke wakes Run to look at the timers again.
func (d *Dispatcher) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Next is when the next group is due to flush; false when there is none.
func (d *Dispatcher) Next() (time.Time, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var next time.Time
	for _, g := range d.groups {
		if next.IsZero() || g.next.Before(next) {
			next = g.next
		}
	}
	if next.IsZero() {
		return next, false
	}
	if next.Before(d.holdUntil) {
		next = d.holdUntil
	}
	return next, true
}

// Run flushes the groups on the wall clock until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	timer := time.NewTimer(maintenance)
	defer timer.Stop()
	for {
		wait := maintenance
		if next, ok := d.Next(); ok {
			wait = min(max(next.Sub(d.now()), 0), maintenance)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-timer.C:
			d.Tick(ctx, d.now())
		}
	}
}
