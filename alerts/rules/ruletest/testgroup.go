package ruletest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/rules"
)

// testEnv is what the test groups of one file share.
type testEnv struct {
	evalInterval time.Duration
	order        map[string]int // group_eval_order
	fuzzy        bool
	ruleFiles    []string
}

// newEngine is the aggregator's engine (aggregator/server.go); subqueries
// without a step use the evaluation interval, as in promtool.
func newEngine(evalInterval time.Duration) *promql.Engine {
	return promql.NewEngine(promql.EngineOpts{
		MaxSamples:               50e6,
		Timeout:                  2 * time.Minute,
		LookbackDelta:            5 * time.Minute,
		NoStepSubqueryIntervalFn: func(int64) int64 { return evalInterval.Milliseconds() },
		EnableAtModifier:         true,
		EnableNegativeOffset:     true,
	})
}

// test runs one test group: from its start to its last eval_time, every
// evaluation interval, it loads the input samples due, evaluates every
// group in order and checks the alert tests due; the PromQL tests run at
// the end, over everything loaded and recorded. As in promtool, a rule that
// fails to evaluate ends the group's run.
func (tg *testGroup) test(env testEnv) []error {
	ctx := context.Background()
	mint := time.Unix(0, 0).UTC()
	if !tg.StartTimestamp.IsZero() {
		mint = tg.StartTimestamp.Time
	}
	in, err := newInputSeries(tg.InputSeries, mint, time.Duration(tg.Interval))
	if err != nil {
		return []error{err}
	}
	store := NewStore()
	query := rules.EngineQueryFunc(newEngine(env.evalInterval), store)
	mgr, err := rules.NewManager(rules.Options{
		Query:           query,
		Sink:            store,
		ExternalURL:     tg.ExternalURL,
		ExternalLabels:  tg.ExternalLabels.Map(),
		DefaultInterval: time.Duration(tg.Interval),
		Now:             func() time.Time { return mint },
	})
	if err != nil {
		return []error{err}
	}
	if err := mgr.Update(ctx, env.ruleFiles); err != nil {
		return unjoin(err)
	}
	groups := orderGroups(mgr.Groups(), env.order)

	alertTests := map[model.Duration][]alertTestCase{}
	var alertTimes []model.Duration
	for _, a := range tg.AlertRuleTests {
		if a.Alertname == "" {
			var where string
			if tg.TestGroupName != "" {
				where = fmt.Sprintf(" (in TestGroup %s)", tg.TestGroupName)
			}
			return []error{fmt.Errorf("an item under alert_rule_test misses required attribute alertname at eval_time %v%s", a.EvalTime, where)}
		}
		if _, ok := alertTests[a.EvalTime]; !ok {
			alertTimes = append(alertTimes, a.EvalTime)
		}
		alertTests[a.EvalTime] = append(alertTests[a.EvalTime], a)
	}
	slices.Sort(alertTimes)

	var errs []error
	next := 0 // the first alert test time not yet checked
	maxt := mint.Add(tg.maxEvalTime())
	for ts := mint; !ts.After(maxt); ts = ts.Add(env.evalInterval) {
		if err := in.loadTill(store, ts.UnixMilli()); err != nil {
			errs = append(errs, err)
		} else {
			var evalErrs []error
			for _, g := range groups {
				mgr.EvalGroup(ctx, g, ts)
				for _, r := range g.Rules() {
					if _, _, err := rules.Health(r); err != nil {
						evalErrs = append(evalErrs, fmt.Errorf("    rule: %s, time: %s, err: %w", r.Name(), ts.Sub(time.Unix(0, 0).UTC()), err))
					}
				}
			}
			if len(evalErrs) > 0 {
				return append(errs, evalErrs...)
			}
		}
		// The alerts of eval_time t are those of the evaluation at or
		// before it: ts <= t < ts+interval.
		for next < len(alertTimes) && ts.Sub(mint) <= time.Duration(alertTimes[next]) &&
			time.Duration(alertTimes[next]) < ts.Add(env.evalInterval).Sub(mint) {
			errs = append(errs, tg.checkAlerts(groups, alertTests[alertTimes[next]])...)
			next++
		}
	}

	for _, tc := range tg.PromqlExprTests {
		if err := checkExpr(ctx, query, mint, tc, env.fuzzy); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// orderGroups sorts groups by group_eval_order. Like promtool, a group the
// order does not name counts as the first; ties keep the files' order.
func orderGroups(groups []*rules.Group, order map[string]int) []*rules.Group {
	slices.SortStableFunc(groups, func(a, b *rules.Group) int {
		return cmp.Compare(order[a.Name()], order[b.Name()])
	})
	return groups
}

// checkAlerts compares the firing alerts of each tested name, across all
// groups, with the expected ones.
func (tg *testGroup) checkAlerts(groups []*rules.Group, tests []alertTestCase) []error {
	got := map[string]alertList{}
	for _, tc := range tests {
		got[tc.Alertname] = nil
	}
	for _, g := range groups {
		for _, r := range g.Rules() {
			ar, ok := r.(*rules.AlertingRule)
			if !ok {
				continue
			}
			if _, ok := got[ar.Name()]; !ok {
				continue
			}
			for _, a := range ar.ActiveAlerts() {
				if a.State == rules.StateFiring {
					got[ar.Name()] = append(got[ar.Name()], labelsAndAnnotations{a.Labels, a.Annotations})
				}
			}
		}
	}
	var errs []error
	for _, tc := range tests {
		var exp alertList
		for _, a := range tc.ExpAlerts {
			lb := labels.NewBuilder(labels.FromMap(a.ExpLabels))
			lb.Set(labels.AlertName, tc.Alertname)
			exp = append(exp, labelsAndAnnotations{lb.Labels(), labels.FromMap(a.ExpAnnotations)})
		}
		g := slices.Clone(got[tc.Alertname])
		g.sort()
		exp.sort()
		if exp.equal(g) {
			continue
		}
		var name string
		if tg.TestGroupName != "" {
			name = fmt.Sprintf("    name: %s,\n", tg.TestGroupName)
		}
		errs = append(errs, fmt.Errorf("%s    alertname: %s, time: %s, \n        exp:%v, \n        got:%v",
			name, tc.Alertname, tc.EvalTime, indentLines(exp.String(), "            "), indentLines(g.String(), "            ")))
	}
	return errs
}

// checkExpr runs one promql_expr_test.
func checkExpr(ctx context.Context, query rules.QueryFunc, mint time.Time, tc promqlTestCase, fuzzy bool) error {
	res, err := query(ctx, tc.Expr, mint.Add(time.Duration(tc.EvalTime)))
	if err != nil {
		return fmt.Errorf("    expr: %q, time: %s, err: %s", tc.Expr, tc.EvalTime, err)
	}
	var got []sampleWithLabels
	for _, s := range res {
		got = append(got, sampleWithLabels{Labels: s.Metric, Value: s.F, Histogram: s.H != nil})
	}
	p := parser.NewParser(parser.Options{})
	var exp []sampleWithLabels
	for _, s := range tc.ExpSamples {
		lset, err := p.ParseMetric(s.Labels)
		if err == nil && s.Histogram != "" {
			err = ErrHistogram
		}
		if err != nil {
			return fmt.Errorf("    expr: %q, time: %s, err: %w", tc.Expr, tc.EvalTime, fmt.Errorf("labels %q: %w", s.Labels, err))
		}
		exp = append(exp, sampleWithLabels{Labels: lset, Value: s.Value})
	}
	sortSamples(exp)
	sortSamples(got)
	if samplesEqual(exp, got, fuzzy) {
		return nil
	}
	return fmt.Errorf("    expr: %q, time: %s,\n        exp: %v\n        got: %v",
		tc.Expr, tc.EvalTime, samplesString(exp), samplesString(got))
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
