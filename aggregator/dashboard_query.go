package aggregator

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/rules"
)

// engineQuery answers the dashboard's queries with the API's engine and
// store, bounded by the API's query timeout.
type engineQuery struct {
	engine  *promql.Engine
	store   storage.Queryable
	timeout time.Duration
}

func (q engineQuery) Instant(ctx context.Context, expr string, t time.Time) (promql.Vector, error) {
	ctx, cancel := context.WithTimeout(ctx, q.timeout)
	defer cancel()
	return rules.EngineQueryFunc(q.engine, q.store)(ctx, expr, t)
}

func (q engineQuery) Range(ctx context.Context, expr string, start, end time.Time, step time.Duration) (promql.Matrix, error) {
	ctx, cancel := context.WithTimeout(ctx, q.timeout)
	defer cancel()
	qry, err := q.engine.NewRangeQuery(ctx, q.store, nil, expr, start, end, step)
	if err != nil {
		return nil, err
	}
	defer qry.Close()
	res := qry.Exec(ctx)
	if res.Err != nil {
		return nil, res.Err
	}
	m, ok := res.Value.(promql.Matrix)
	if !ok {
		return nil, errors.New("query result is not a matrix")
	}
	// Close gives the points back to the engine's pool, for the next
	// query to overwrite: the caller gets copies.
	out := make(promql.Matrix, len(m))
	for i, s := range m {
		out[i] = s
		out[i].Floats = slices.Clone(s.Floats)
		out[i].Histograms = slices.Clone(s.Histograms)
		for j, h := range out[i].Histograms {
			out[i].Histograms[j].H = h.H.Copy()
		}
	}
	return out, nil
}
