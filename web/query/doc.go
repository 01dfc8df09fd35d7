// Package query is how dashboard pages read the fleet: PromQL through the
// same engine and store the HTTP API uses, so a number on a page is the
// number `gpuwd query` prints. It also turns results into what pages show:
// one number, or a value per label.
package query

import (
	"context"
	"time"

	"github.com/prometheus/prometheus/promql"
)

// Engine evaluates PromQL over the history.
type Engine interface {
	Instant(ctx context.Context, expr string, t time.Time) (promql.Vector, error)
	Range(ctx context.Context, expr string, start, end time.Time, step time.Duration) (promql.Matrix, error)
}

// Number is the single value of an instant query. ok is false when the
// result is empty (nothing matched: "no data", not zero).
func Number(ctx context.Context, e Engine, expr string, t time.Time) (v float64, ok bool, err error) {
	vec, err := e.Instant(ctx, expr, t)
	if err != nil || len(vec) == 0 {
		return 0, false, err
	}
	return vec[0].F, true, nil
}
