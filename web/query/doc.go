// Package query is how dashboard pages read the fleet: PromQL through the
// same engine and store the HTTP API uses, so a number on a page is the
// number `gpuwd query` prints. It also turns results into what pages show:
// one number, or a value per label; and Cache lets the viewers of a page
// share its evaluations, and its trends move on a point at a time.
package query

import (
	"context"
	"sync"
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

// Instants runs named instant queries concurrently: a page's panels at
// once. A failed query's error is in errs under its name; the others'
// results are in res.
func Instants(ctx context.Context, e Engine, queries map[string]string, t time.Time) (res map[string]promql.Vector, errs map[string]error) {
	res, errs = map[string]promql.Vector{}, map[string]error{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, expr := range queries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := e.Instant(ctx, expr, t)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs[name] = err
				return
			}
			res[name] = v
		}()
	}
	wg.Wait()
	return res, errs
}
