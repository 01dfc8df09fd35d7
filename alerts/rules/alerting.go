package rules

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
)

// State is an alert's or an alerting rule's state.
type State int

// States, as Prometheus names them.
const (
	StateInactive State = iota
	StatePending
	StateFiring
)

func (s State) String() string {
	switch s {
	case StatePending:
		return "pending"
	case StateFiring:
		return "firing"
	}
	return "inactive"
}

// resolvedRetention is how long a resolved alert is kept, and re-sent, so
// that a notification lost on the way still resolves it at the receiver.
const resolvedRetention = 15 * time.Minute

// ErrDuplicateAlertLabelSet: two results of one rule became the same alert
// once the metric name was dropped.
var ErrDuplicateAlertLabelSet = errors.New("vector contains metrics with the same labelset after applying alert labels")

// Alert is one label set of an alerting rule.
type Alert struct {
	State       State
	Labels      labels.Labels
	Annotations labels.Labels
	Value       float64

	ActiveAt        time.Time // first seen by this run of pending
	FiredAt         time.Time
	ResolvedAt      time.Time
	LastSentAt      time.Time
	ValidUntil      time.Time
	KeepFiringSince time.Time
}

// needsSending: firing alerts every resendDelay, resolved ones until sent.
func (a *Alert) needsSending(ts time.Time, resendDelay time.Duration) bool {
	if a.State == StatePending {
		return false
	}
	if a.ResolvedAt.After(a.LastSentAt) {
		return true
	}
	return a.LastSentAt.Add(resendDelay).Before(ts)
}

// pendAgainIfHoldGrew puts a firing alert back to pending when it has not
// yet been active for the rule's `for`, which a reload raised; as in
// Prometheus' AlertingRule.Eval (rules/alerting.go, v3.x). Unlike there, an
// alert that fired under the same `for` stays firing when ts is earlier
// than its activity suggests: the wall clock went back, the hold did not
// grow.
func (a *Alert) pendAgainIfHoldGrew(ts time.Time, hold time.Duration) {
	if a.State == StateFiring && a.FiredAt.Sub(a.ActiveAt) < hold && ts.Sub(a.ActiveAt) < hold {
		a.State = StatePending
		a.FiredAt = time.Time{}
		a.LastSentAt = time.Time{}
		a.KeepFiringSince = time.Time{}
	}
}

// AlertingRule turns the results of an expression into alerts.
type AlertingRule struct {
	name          string
	query         string
	hold          time.Duration // for
	keepFiringFor time.Duration
	labels        labels.Labels // templated
	annotations   labels.Labels // templated
	external      externals

	mu     sync.Mutex
	active map[uint64]*Alert
	health healthBox
}

// externals is what templates see besides the alert.
type externals struct {
	labels map[string]string
	url    string
}

// Name is the alert name; Query its expression; Labels the labels it adds
// (unexpanded); Annotations its annotation templates.
func (r *AlertingRule) Name() string                 { return r.name }
func (r *AlertingRule) Query() string                { return r.query }
func (r *AlertingRule) Labels() labels.Labels        { return r.labels }
func (r *AlertingRule) Annotations() labels.Labels   { return r.annotations }
func (r *AlertingRule) For() time.Duration           { return r.hold }
func (r *AlertingRule) KeepFiringFor() time.Duration { return r.keepFiringFor }
func (r *AlertingRule) lastHealth() *healthBox       { return &r.health }

// Eval runs the rule at ts: new results become pending alerts, pending ones
// fire once they have held for the rule's duration, missing ones resolve
// (or keep firing for keep_firing_for). It returns the ALERTS and
// ALERTS_FOR_STATE samples of the active alerts, stamped ts - offset.
func (r *AlertingRule) Eval(ctx context.Context, offset time.Duration, ts time.Time, query QueryFunc, externalURL *url.URL, limit int) (promql.Vector, error) {
	res, err := query(ctx, r.query, ts.Add(-offset))
	if err != nil {
		return nil, err
	}
	resultFPs := make(map[uint64]struct{}, len(res))
	alerts := make(map[uint64]*Alert, len(res))
	lb := labels.NewBuilder(labels.EmptyLabels())
	sb := labels.NewScratchBuilder(0)
	for _, smpl := range res {
		exp := newExpander(ctx, r.name, smpl, r.external, ts, query, externalURL)
		lb.Reset(smpl.Metric)
		lb.Del(model.MetricNameLabel)
		r.labels.Range(func(l labels.Label) { lb.Set(l.Name, exp.expand(l.Value)) })
		lb.Set(labels.AlertName, r.name)
		sb.Reset()
		r.annotations.Range(func(l labels.Label) { sb.Add(l.Name, exp.expand(l.Value)) })
		lset := lb.Labels()
		h := lset.Hash()
		if _, dup := alerts[h]; dup {
			return nil, ErrDuplicateAlertLabelSet
		}
		resultFPs[h] = struct{}{}
		alerts[h] = &Alert{Labels: lset, Annotations: sb.Labels(), ActiveAt: ts, State: StatePending, Value: smpl.F}
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	for h, a := range alerts {
		if old, ok := r.active[h]; ok && old.State != StateInactive {
			old.Value = a.Value
			old.Annotations = a.Annotations
			continue
		}
		r.active[h] = a
	}
	var vec promql.Vector
	numActive := 0
	for h, a := range r.active {
		if _, ok := resultFPs[h]; !ok {
			keepFiring := false
			if a.State == StateFiring && r.keepFiringFor > 0 {
				if a.KeepFiringSince.IsZero() {
					a.KeepFiringSince = ts
				}
				keepFiring = ts.Sub(a.KeepFiringSince) < r.keepFiringFor
			}
			if a.State == StatePending || (!a.ResolvedAt.IsZero() && ts.Sub(a.ResolvedAt) > resolvedRetention) {
				delete(r.active, h)
			}
			if a.State != StateInactive && !keepFiring {
				a.State = StateInactive
				a.ResolvedAt = ts
			}
			if !keepFiring {
				continue
			}
		} else {
			a.KeepFiringSince = time.Time{}
		}
		numActive++
		if a.State == StatePending && ts.Sub(a.ActiveAt) >= r.hold {
			a.State = StateFiring
			a.FiredAt = ts
		}
		a.pendAgainIfHoldGrew(ts, r.hold)
		vec = append(vec, alertsSample(a, ts.Add(-offset)), forStateSample(a, ts.Add(-offset)))
	}
	if limit > 0 && numActive > limit {
		r.active = map[uint64]*Alert{}
		return nil, fmt.Errorf("exceeded limit of %d with %d alerts", limit, numActive)
	}
	return vec, nil
}

// alertsSample is ALERTS{alertname, alertstate, <labels>} = 1.
func alertsSample(a *Alert, ts time.Time) promql.Sample {
	lb := labels.NewBuilder(a.Labels)
	lb.Set(model.MetricNameLabel, "ALERTS")
	lb.Set("alertstate", a.State.String())
	return promql.Sample{Metric: lb.Labels(), T: ts.UnixMilli(), F: 1}
}

// forStateSample is ALERTS_FOR_STATE{alertname, <labels>} = ActiveAt in
// Unix seconds.
func forStateSample(a *Alert, ts time.Time) promql.Sample {
	lb := labels.NewBuilder(a.Labels)
	lb.Set(model.MetricNameLabel, "ALERTS_FOR_STATE")
	return promql.Sample{Metric: lb.Labels(), T: ts.UnixMilli(), F: float64(a.ActiveAt.Unix())}
}

// State is the rule's state: the highest of its alerts'.
func (r *AlertingRule) State() State {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := StateInactive
	for _, a := range r.active {
		if a.State > s {
			s = a.State
		}
	}
	return s
}

// ActiveAlerts returns copies of the pending and firing alerts.
func (r *AlertingRule) ActiveAlerts() []Alert {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Alert
	for _, a := range r.active {
		if a.State != StateInactive {
			out = append(out, *a)
		}
	}
	return out
}

// alertsToSend marks and returns the alerts due to be sent at ts: firing
// ones every resendDelay, resolved ones until sent. ValidUntil is how long
// a receiver may consider a firing alert alive without hearing again.
func (r *AlertingRule) alertsToSend(ts time.Time, resendDelay, interval time.Duration) []Alert {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Alert
	for _, a := range r.active {
		if !a.needsSending(ts, resendDelay) {
			continue
		}
		a.LastSentAt = ts
		delta := max(resendDelay, interval)
		a.ValidUntil = ts.Add(4 * delta)
		out = append(out, *a)
	}
	return out
}
