package rules

import (
	"context"
	"math"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
)

// Sink stores what rules produce: recording rules' series, ALERTS and
// ALERTS_FOR_STATE, and the stale markers of series that ended. Rules later
// in a group query what earlier ones wrote, so Write must be visible to
// queries when it returns.
type Sink interface {
	Write(ctx context.Context, samples promql.Vector) error
}

// Group is a rule group: its rules run in order, at one interval.
type Group struct {
	name        string
	file        string
	interval    time.Duration
	queryOffset time.Duration
	limit       int
	rules       []Rule

	mu       sync.Mutex
	lastEval time.Time
	evalTook time.Duration
	// previous holds, per rule, the series it wrote last time, so the
	// ones it stops writing get a stale marker; orphans are the series of
	// rules a reload removed, marked stale at the next evaluation.
	previous []map[uint64]labels.Labels
	orphans  []map[uint64]labels.Labels
	// saved is the alert state last written to the StateStore.
	saved map[string]map[string]SavedAlert
}

// Rule is an alerting or a recording rule.
type Rule interface {
	Name() string
	Query() string
	Labels() labels.Labels
	lastHealth() *healthBox
}

// Name, File, Interval, Limit and Rules describe the group.
func (g *Group) Name() string            { return g.name }
func (g *Group) File() string            { return g.file }
func (g *Group) Interval() time.Duration { return g.interval }
func (g *Group) Limit() int              { return g.limit }
func (g *Group) Rules() []Rule           { return g.rules }

// key identifies the group across reloads.
func (g *Group) key() string { return g.file + ";" + g.name }

// LastEvaluation is when the group last ran and how long that took.
func (g *Group) LastEvaluation() (time.Time, time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.lastEval, g.evalTook
}

// evalTimestamp is the group's slot at or before now: groups are spread
// over their interval by a hash of their name and file, as in Prometheus,
// so a hundred groups do not all query at once.
func (g *Group) evalTimestamp(now time.Time) time.Time {
	lset := labels.FromStrings("name", g.name, "file", g.file)
	offset := int64(lset.Hash() % uint64(g.interval))
	adj := now.UnixNano() - offset
	base := adj - adj%int64(g.interval)
	return time.Unix(0, base+offset)
}

// evalEnv is what one evaluation needs besides the group.
type evalEnv struct {
	query       QueryFunc
	sink        Sink
	externalURL *url.URL
	now         func() time.Time
	onError     func(rule string, err error)
}

// Eval runs every rule at ts and writes their output.
func (g *Group) Eval(ctx context.Context, ts time.Time, env evalEnv) {
	start := env.now()
	g.mu.Lock()
	if len(g.previous) != len(g.rules) {
		g.previous = make([]map[uint64]labels.Labels, len(g.rules))
	}
	g.mu.Unlock()
	for i, rule := range g.rules {
		if ctx.Err() != nil {
			return
		}
		ruleStart := env.now()
		vec, err := g.evalRule(ctx, rule, ts, env)
		if err == nil {
			err = g.write(ctx, i, vec, ts, env.sink)
		}
		rule.lastHealth().set(health{lastEval: ts, took: env.now().Sub(ruleStart), err: err})
		if err != nil && env.onError != nil {
			env.onError(rule.Name(), err)
		}
	}
	g.mu.Lock()
	g.lastEval, g.evalTook = ts, env.now().Sub(start)
	g.mu.Unlock()
}

// writeOrphans marks stale the series of rules that are gone.
func (g *Group) writeOrphans(ctx context.Context, ts time.Time, sink Sink) {
	g.mu.Lock()
	orphans := g.orphans
	g.orphans = nil
	g.mu.Unlock()
	if sink == nil || len(orphans) == 0 {
		return
	}
	var vec promql.Vector
	for _, series := range orphans {
		for _, lset := range series {
			vec = append(vec, promql.Sample{Metric: lset, T: ts.UnixMilli(), F: math.Float64frombits(value.StaleNaN)})
		}
	}
	_ = sink.Write(ctx, vec) // best effort: the series go stale after 5m anyway
}

func (g *Group) evalRule(ctx context.Context, rule Rule, ts time.Time, env evalEnv) (promql.Vector, error) {
	switch r := rule.(type) {
	case *AlertingRule:
		return r.Eval(ctx, g.queryOffset, ts, env.query, env.externalURL, g.limit)
	case *RecordingRule:
		return r.Eval(ctx, g.queryOffset, ts, env.query, g.limit)
	}
	return nil, nil
}

// write stores vec and marks stale the series of rule i that vec no longer
// has. After a failed evaluation nothing is marked: the series' last values
// stand until the next good one, as in Prometheus.
func (g *Group) write(ctx context.Context, i int, vec promql.Vector, ts time.Time, sink Sink) error {
	current := make(map[uint64]labels.Labels, len(vec))
	for _, s := range vec {
		current[s.Metric.Hash()] = s.Metric
	}
	g.mu.Lock()
	prev := g.previous[i]
	g.mu.Unlock()
	staleT := ts.Add(-g.queryOffset).UnixMilli()
	for h, lset := range prev {
		if _, ok := current[h]; !ok {
			vec = append(vec, promql.Sample{Metric: lset, T: staleT, F: math.Float64frombits(value.StaleNaN)})
		}
	}
	if len(vec) > 0 && sink != nil {
		if err := sink.Write(ctx, vec); err != nil {
			return err
		}
	}
	g.mu.Lock()
	g.previous[i] = current
	g.mu.Unlock()
	return nil
}

// Health returns a rule's last evaluation time, duration and error.
func Health(rule Rule) (last time.Time, took time.Duration, err error) {
	h := rule.lastHealth().get()
	return h.lastEval, h.took, h.err
}

// HealthStatus is a rule's health in the words of Prometheus' API:
// "unknown" before its first evaluation, "err" with the error's text after
// a failed one, else "ok".
func HealthStatus(rule Rule) (status, lastError string) {
	last, _, err := Health(rule)
	switch {
	case last.IsZero():
		return "unknown", ""
	case err != nil:
		return "err", err.Error()
	}
	return "ok", ""
}
