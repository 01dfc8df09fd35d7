package dispatch

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// Alert states, as Alertmanager's API reports them.
const (
	StateActive     = "active"
	StateSuppressed = "suppressed"
)

// AlertStatus is an alert with what the dispatcher does with it: what
// Alertmanager's GET /api/v2/alerts lists.
type AlertStatus struct {
	Alert
	Fingerprint string
	// State is "active" (it is notified), or "suppressed" when a silence
	// (SilencedBy, silence IDs) or an inhibition rule (InhibitedBy,
	// fingerprints of the inhibiting alerts) mutes it.
	State       string
	SilencedBy  []string
	InhibitedBy []string
	// Receivers are those of the routes it matches, in route order.
	Receivers []string
}

// refreshStatus recomputes what mutes the alert now. d.mu is held.
func (d *Dispatcher) refreshStatus(e *entry, now time.Time) {
	e.inhibitedBy = d.inhib.mutes(e.alert.Labels, now)
	e.silencedBy = nil
	if d.sil != nil {
		e.silencedBy = d.sil.Mutes(e.alert.Labels)
	}
}

func (d *Dispatcher) statusOf(fp string, e *entry) AlertStatus {
	st := AlertStatus{
		Alert:       *e.alert,
		Fingerprint: fp,
		State:       StateActive,
		SilencedBy:  orEmpty(slices.Clone(e.silencedBy)),
		InhibitedBy: orEmpty(slices.Clone(e.inhibitedBy)),
		Receivers:   []string{},
	}
	st.Labels, st.Annotations = maps.Clone(st.Labels), maps.Clone(st.Annotations)
	if len(e.silencedBy) > 0 || len(e.inhibitedBy) > 0 {
		st.State = StateSuppressed
	}
	for _, r := range d.cfg.Root().Match(e.alert.Labels) {
		st.Receivers = append(st.Receivers, r.Receiver)
	}
	return st
}

// Alerts lists the alerts that have not resolved, sorted by fingerprint,
// with their status computed now (Alertmanager's GET /api/v2/alerts).
func (d *Dispatcher) Alerts() []AlertStatus {
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]AlertStatus, 0, len(d.alerts))
	for _, fp := range slices.Sorted(maps.Keys(d.alerts)) {
		e := d.alerts[fp]
		if e.alert.Resolved(now) {
			continue
		}
		d.refreshStatus(e, now)
		out = append(out, d.statusOf(fp, e))
	}
	return out
}

// GroupStatus is an aggregation group and its alerts that have not
// resolved (Alertmanager's GET /api/v2/alerts/groups).
type GroupStatus struct {
	Key      string
	RouteID  string
	Receiver string
	Labels   map[string]string
	Alerts   []AlertStatus
}

// Groups lists the groups with unresolved alerts, sorted by their labels
// and then receiver, with the alerts' status computed now.
func (d *Dispatcher) Groups() []GroupStatus {
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []GroupStatus
	for _, g := range d.groups {
		gs := GroupStatus{Key: g.key, RouteID: g.route.ID(), Receiver: g.route.Receiver, Labels: maps.Clone(g.labels)}
		for _, fp := range slices.Sorted(maps.Keys(g.alerts)) {
			e := d.alerts[fp]
			if e == nil || e.alert.Resolved(now) {
				continue
			}
			d.refreshStatus(e, now)
			gs.Alerts = append(gs.Alerts, d.statusOf(fp, e))
		}
		if len(gs.Alerts) > 0 {
			out = append(out, gs)
		}
	}
	slices.SortFunc(out, func(a, b GroupStatus) int {
		if c := strings.Compare(labelsKey(a.Labels), labelsKey(b.Labels)); c != 0 {
			return c
		}
		if c := strings.Compare(a.Receiver, b.Receiver); c != 0 {
			return c
		}
		return strings.Compare(a.RouteID, b.RouteID)
	})
	return out
}

func labelsKey(m map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		b.WriteString(k + "\xff" + m[k] + "\xff")
	}
	return b.String()
}
