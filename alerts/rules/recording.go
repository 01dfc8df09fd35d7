package rules

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
)

// RecordingRule stores the result of an expression as new series.
type RecordingRule struct {
	name   string
	query  string
	labels labels.Labels
	health healthBox
}

// Name is the recorded metric name; Query its expression; Labels the
// labels it adds.
func (r *RecordingRule) Name() string           { return r.name }
func (r *RecordingRule) Query() string          { return r.query }
func (r *RecordingRule) Labels() labels.Labels  { return r.labels }
func (r *RecordingRule) lastHealth() *healthBox { return &r.health }

// Eval runs the query at ts - offset and renames its results.
func (r *RecordingRule) Eval(ctx context.Context, offset time.Duration, ts time.Time, query QueryFunc, limit int) (promql.Vector, error) {
	vec, err := query(ctx, r.query, ts.Add(-offset))
	if err != nil {
		return nil, err
	}
	lb := labels.NewBuilder(labels.EmptyLabels())
	for i := range vec {
		lb.Reset(vec[i].Metric)
		lb.Set(model.MetricNameLabel, r.name)
		r.labels.Range(func(l labels.Label) { lb.Set(l.Name, l.Value) })
		vec[i].Metric = lb.Labels()
	}
	if vec.ContainsSameLabelset() {
		return nil, fmt.Errorf("vector contains metrics with the same labelset after applying rule labels")
	}
	if limit > 0 && len(vec) > limit {
		return nil, fmt.Errorf("exceeded limit of %d with %d series", limit, len(vec))
	}
	return vec, nil
}
