package rules

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// StateStore keeps alert state across restarts.
type StateStore interface {
	// Load returns every group's saved state, by group key.
	Load(ctx context.Context) (map[string]SavedGroup, error)
	// Save records a group's evaluation at lastEval. rules is nil when no
	// alert changed state; otherwise it replaces the group's alerts.
	// transitions are appended to the alert history.
	Save(ctx context.Context, group string, lastEval time.Time, rules map[string]map[string]SavedAlert, transitions []Transition) error
	// Delete forgets a group that no longer exists.
	Delete(ctx context.Context, group string) error
}

// SavedGroup is a group's state as saved: alerts by rule key, then by
// label fingerprint.
type SavedGroup struct {
	LastEval time.Time
	Rules    map[string]map[string]SavedAlert
}

// SavedAlert is what is kept of an alert. The value and annotations are
// kept to be shown until the first evaluation after a restart refreshes
// them; send times are not: resending after a restart is harmless, since
// routing sends only what changed.
type SavedAlert struct {
	Labels          map[string]string `json:"labels"`
	Annotations     map[string]string `json:"annotations"`
	State           State             `json:"state"`
	Value           float64           `json:"value"`
	ActiveAt        time.Time         `json:"activeAt"`
	FiredAt         time.Time         `json:"firedAt"`
	ResolvedAt      time.Time         `json:"resolvedAt"`
	KeepFiringSince time.Time         `json:"keepFiringSince"`
}

// sameState compares what a state change is made of (not the value).
func (a SavedAlert) sameState(b SavedAlert) bool {
	return a.State == b.State && a.ActiveAt.Equal(b.ActiveAt) && a.FiredAt.Equal(b.FiredAt) &&
		a.ResolvedAt.Equal(b.ResolvedAt) && a.KeepFiringSince.Equal(b.KeepFiringSince)
}

// Transition is one alert changing state, for the alert history.
type Transition struct {
	At     time.Time
	Group  string
	Rule   string
	Labels map[string]string
	From   State
	To     State
	Value  float64
}

// ruleKey identifies a rule within its group across restarts and reloads.
func ruleKey(r Rule) string { return r.Name() + r.Labels().String() }

func fingerprint(lset labels.Labels) string { return fmt.Sprintf("%016x", labels.StableHash(lset)) }

// snapshot is the group's alert state now.
func snapshot(g *Group) map[string]map[string]SavedAlert {
	out := map[string]map[string]SavedAlert{}
	for _, r := range g.rules {
		ar, ok := r.(*AlertingRule)
		if !ok {
			continue
		}
		alerts := map[string]SavedAlert{}
		ar.mu.Lock()
		for _, a := range ar.active {
			alerts[fingerprint(a.Labels)] = SavedAlert{
				Labels: a.Labels.Map(), Annotations: a.Annotations.Map(), State: a.State, Value: a.Value,
				ActiveAt: a.ActiveAt, FiredAt: a.FiredAt, ResolvedAt: a.ResolvedAt, KeepFiringSince: a.KeepFiringSince,
			}
		}
		ar.mu.Unlock()
		out[ruleKey(r)] = alerts
	}
	return out
}

// transitions lists the alerts whose state differs between two snapshots.
func transitions(group string, ts time.Time, old, cur map[string]map[string]SavedAlert, names map[string]string) []Transition {
	var out []Transition
	for rk, alerts := range cur {
		for fp, a := range alerts {
			prev, ok := old[rk][fp]
			if ok && prev.State == a.State && prev.ActiveAt.Equal(a.ActiveAt) {
				continue
			}
			from := StateInactive
			if ok {
				from = prev.State
			}
			if from == a.State {
				continue // a resolved alert that reappeared and resolved again between evaluations
			}
			out = append(out, Transition{At: ts, Group: group, Rule: names[rk], Labels: a.Labels, From: from, To: a.State, Value: a.Value})
		}
	}
	for rk, alerts := range old {
		for fp, a := range alerts {
			if _, ok := cur[rk][fp]; !ok && a.State == StatePending {
				// A pending alert that never fired is dropped at once.
				out = append(out, Transition{At: ts, Group: group, Rule: names[rk], Labels: a.Labels, From: StatePending, To: StateInactive, Value: a.Value})
			}
		}
	}
	return out
}

func changed(old, cur map[string]map[string]SavedAlert) bool {
	if len(old) != len(cur) {
		return true
	}
	for rk, alerts := range cur {
		prev, ok := old[rk]
		if !ok || !maps.EqualFunc(prev, alerts, SavedAlert.sameState) {
			return true
		}
	}
	return false
}

// save writes g's state when it changed, and its evaluation time always
// (the restart's downtime is measured from it).
func (m *Manager) save(ctx context.Context, g *Group, ts time.Time) {
	cur := snapshot(g)
	g.mu.Lock()
	old := g.saved
	g.mu.Unlock()
	names := map[string]string{}
	for _, r := range g.rules {
		names[ruleKey(r)] = r.Name()
	}
	trans := transitions(g.name, ts, old, cur, names)
	m.opts.Metrics.transitions(trans)
	if m.opts.State == nil {
		g.mu.Lock()
		g.saved = cur
		g.mu.Unlock()
		return
	}
	var rules map[string]map[string]SavedAlert
	if changed(old, cur) {
		rules = cur
	}
	if err := m.opts.State.Save(ctx, g.key(), ts, rules, trans); err != nil {
		m.log.Error("saving alert state failed; it will be retried at the next evaluation", "group", g.name, "err", err)
		return
	}
	g.mu.Lock()
	g.saved = cur
	g.mu.Unlock()
}

// restore puts saved alerts back into groups before their first
// evaluation. Firing and resolved alerts come back as they were (their
// start time kept, so receivers see the same alert); pending ones have
// their ActiveAt moved as Prometheus does, so the outage does not count
// towards `for` and nothing fires sooner than ForGracePeriod after the
// restart. State older than OutageTolerance is dropped.
func (m *Manager) restore(ctx context.Context, groups []*Group) error {
	saved, err := m.opts.State.Load(ctx)
	if err != nil {
		return err
	}
	now := m.opts.Now()
	for _, g := range groups {
		sg, ok := saved[g.key()]
		if !ok {
			continue
		}
		if now.Sub(sg.LastEval) > m.opts.OutageTolerance {
			m.log.Info("alert state not restored: older than the outage tolerance", "group", g.name, "last_evaluation", sg.LastEval)
			continue
		}
		restored := 0
		for _, r := range g.rules {
			ar, ok := r.(*AlertingRule)
			if !ok {
				continue
			}
			for _, sa := range sg.Rules[ruleKey(r)] {
				a, ok := m.restoreAlert(ar, sa, sg.LastEval, now)
				if !ok {
					continue
				}
				ar.active[a.Labels.Hash()] = a
				restored++
			}
		}
		g.saved = sg.Rules
		g.lastEval = sg.LastEval
		if restored > 0 {
			m.log.Info("alert state restored", "group", g.name, "alerts", restored)
		}
	}
	return nil
}

func (m *Manager) restoreAlert(r *AlertingRule, sa SavedAlert, downAt, now time.Time) (*Alert, bool) {
	a := &Alert{
		State: sa.State, Labels: labels.FromMap(sa.Labels), Annotations: labels.FromMap(sa.Annotations), Value: sa.Value,
		ActiveAt: sa.ActiveAt, FiredAt: sa.FiredAt, ResolvedAt: sa.ResolvedAt, KeepFiringSince: sa.KeepFiringSince,
	}
	if a.State != StatePending {
		return a, true
	}
	if r.hold < m.opts.ForGracePeriod {
		return nil, false // it waits its own `for` again, as in Prometheus
	}
	remaining := r.hold - downAt.Sub(a.ActiveAt)
	switch {
	case remaining <= 0:
	case remaining < m.opts.ForGracePeriod:
		a.ActiveAt = now.Add(m.opts.ForGracePeriod).Add(-r.hold)
	default:
		a.ActiveAt = a.ActiveAt.Add(now.Sub(downAt))
	}
	return a, true
}
