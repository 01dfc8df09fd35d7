package rules

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
)

// QueryFunc runs an instant query; rules and templates query through it.
type QueryFunc func(ctx context.Context, q string, t time.Time) (promql.Vector, error)

// EngineQueryFunc queries q with engine; a scalar result becomes a
// one-sample vector without labels, as in Prometheus.
func EngineQueryFunc(engine promql.QueryEngine, q storage.Queryable) QueryFunc {
	return func(ctx context.Context, qs string, t time.Time) (promql.Vector, error) {
		query, err := engine.NewInstantQuery(ctx, q, nil, qs, t)
		if err != nil {
			return nil, err
		}
		defer query.Close()
		res := query.Exec(ctx)
		if res.Err != nil {
			return nil, res.Err
		}
		switch v := res.Value.(type) {
		case promql.Vector:
			return v, nil
		case promql.Scalar:
			return promql.Vector{{T: v.T, F: v.V, Metric: labels.EmptyLabels()}}, nil
		}
		return nil, errors.New("rule result is not a vector or scalar")
	}
}

// health is a rule's last evaluation: when, how long, and its error.
type health struct {
	lastEval time.Time
	took     time.Duration
	err      error
}

// healthBox guards a rule's health: the group writes it, the API reads.
type healthBox struct {
	mu sync.Mutex
	h  health
}

func (b *healthBox) set(h health) {
	b.mu.Lock()
	b.h = h
	b.mu.Unlock()
}

func (b *healthBox) get() health {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.h
}
