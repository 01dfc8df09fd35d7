package aggregator

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/promql"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/api"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/store"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/rules"
)

// storeSink writes rule output (recorded series, ALERTS) into the store.
type storeSink struct{ s *store.Store }

func (k storeSink) Write(ctx context.Context, vec promql.Vector) error {
	samples := make([]store.Sample, 0, len(vec))
	for _, smp := range vec {
		ref, err := k.s.Ref(smp.Metric)
		if err != nil {
			return err
		}
		samples = append(samples, store.Sample{Ref: ref, T: smp.T, V: smp.F})
	}
	return k.s.Append(ctx, samples)
}

// ruleLister shows the rule manager's groups to the API.
type ruleLister struct{ m *rules.Manager }

func (l ruleLister) RuleGroups() []api.RuleGroup {
	var out []api.RuleGroup
	for _, g := range l.m.Groups() {
		last, took := g.LastEvaluation()
		ag := api.RuleGroup{Name: g.Name(), File: g.File(), Interval: g.Interval(), Limit: g.Limit(), EvaluationTime: took, LastEvaluation: last}
		for _, r := range g.Rules() {
			ag.Rules = append(ag.Rules, apiRule(r))
		}
		out = append(out, ag)
	}
	return out
}

func apiRule(r rules.Rule) api.Rule {
	last, took, _ := rules.Health(r)
	out := api.Rule{Name: r.Name(), Query: r.Query(), Labels: r.Labels().Map(), EvaluationTime: took, LastEvaluation: last}
	out.Health, out.LastError = rules.HealthStatus(r)
	ar, ok := r.(*rules.AlertingRule)
	if !ok {
		return out
	}
	out.Alerting = true
	out.State = ar.State().String()
	out.For, out.KeepFiringFor = ar.For(), ar.KeepFiringFor()
	out.Annotations = ar.Annotations().Map()
	for _, a := range ar.ActiveAlerts() {
		out.Alerts = append(out.Alerts, api.Alert{
			Labels: a.Labels.Map(), Annotations: a.Annotations.Map(), State: a.State.String(),
			ActiveAt: a.ActiveAt, KeepFiringSince: a.KeepFiringSince, Value: a.Value,
		})
	}
	// A stable order: the API is read by people and diffed by tools.
	slices.SortFunc(out.Alerts, func(x, y api.Alert) int {
		return strings.Compare(fmt.Sprint(x.Labels), fmt.Sprint(y.Labels))
	})
	return out
}
