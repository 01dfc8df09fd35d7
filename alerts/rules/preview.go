package rules

import (
	"context"
	"slices"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// Preview is what one alerting rule gives when evaluated once, alone.
type Preview struct {
	Group  string
	Rule   *AlertingRule
	Alerts []Alert // sorted by labels
	Err    error   // the evaluation's error
}

// Preview evaluates the alerting rules of a rule file's content once at
// ts, as the manager would (its query, external labels and URL), but
// without their state: for a rule editor's "test" button. Each result's
// alert is pending, or firing when the rule has no `for`. Nothing is
// written, saved or sent. A content that does not parse is an error, as in
// Update.
func (m *Manager) Preview(ctx context.Context, file string, content []byte, ts time.Time) ([]Preview, error) {
	groups, err := Parse(file, content, m.loadOptions())
	if err != nil {
		return nil, err
	}
	var out []Preview
	for _, g := range groups {
		for _, r := range g.rules {
			ar, ok := r.(*AlertingRule)
			if !ok {
				continue
			}
			_, err := ar.Eval(ctx, g.queryOffset, ts, m.opts.Query, m.externalURL, g.limit)
			alerts := ar.ActiveAlerts()
			slices.SortFunc(alerts, func(a, b Alert) int { return labels.Compare(a.Labels, b.Labels) })
			out = append(out, Preview{Group: g.name, Rule: ar, Alerts: alerts, Err: err})
		}
	}
	return out, nil
}
