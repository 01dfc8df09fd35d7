package rules

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the rule manager's own series, named after Prometheus'
// prometheus_rule_group_* ones. A nil *Metrics records nothing.
type Metrics struct {
	lastEval    *prometheus.GaugeVec
	lastTook    *prometheus.GaugeVec
	interval    *prometheus.GaugeVec
	rules       *prometheus.GaugeVec
	missedTotal *prometheus.CounterVec
	failures    *prometheus.CounterVec
	trans       *prometheus.CounterVec
}

// NewMetrics registers the metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	group := []string{"rule_group"}
	m := &Metrics{
		lastEval:    prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "gpuwd_rule_group_last_evaluation_timestamp_seconds", Help: "When the group was last evaluated."}, group),
		lastTook:    prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "gpuwd_rule_group_last_duration_seconds", Help: "How long the group's last evaluation took."}, group),
		interval:    prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "gpuwd_rule_group_interval_seconds", Help: "The group's evaluation interval."}, group),
		rules:       prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "gpuwd_rule_group_rules", Help: "Rules in the group."}, group),
		missedTotal: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gpuwd_rule_group_iterations_missed_total", Help: "Evaluations skipped because the previous one ran late."}, group),
		failures:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gpuwd_rule_evaluation_failures_total", Help: "Rule evaluations that failed."}, group),
		trans:       prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gpuwd_alert_transitions_total", Help: "Alerts entering a state."}, []string{"state"}),
	}
	reg.MustRegister(m.lastEval, m.lastTook, m.interval, m.rules, m.missedTotal, m.failures, m.trans)
	return m
}

func groupLabel(g *Group) string { return g.file + ";" + g.name }

func (m *Metrics) setGroups(groups []*Group) {
	if m == nil {
		return
	}
	for _, v := range []*prometheus.GaugeVec{m.lastEval, m.lastTook, m.interval, m.rules} {
		v.Reset()
	}
	for _, g := range groups {
		m.interval.WithLabelValues(groupLabel(g)).Set(g.interval.Seconds())
		m.rules.WithLabelValues(groupLabel(g)).Set(float64(len(g.rules)))
	}
}

func (m *Metrics) observe(g *Group) {
	if m == nil {
		return
	}
	last, took := g.LastEvaluation()
	m.lastEval.WithLabelValues(groupLabel(g)).Set(float64(last.UnixMilli()) / 1000)
	m.lastTook.WithLabelValues(groupLabel(g)).Set(took.Seconds())
	for _, r := range g.rules {
		if _, _, err := Health(r); err != nil {
			m.failures.WithLabelValues(groupLabel(g)).Inc()
		}
	}
}

func (m *Metrics) missed(g *Group, n int) {
	if m != nil {
		m.missedTotal.WithLabelValues(groupLabel(g)).Add(float64(n))
	}
}

func (m *Metrics) transitions(ts []Transition) {
	if m == nil {
		return
	}
	for _, t := range ts {
		m.trans.WithLabelValues(t.To.String()).Inc()
	}
}
