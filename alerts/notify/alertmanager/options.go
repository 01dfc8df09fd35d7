package alertmanager

import (
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of Options.
const (
	DefaultQueueCapacity = 10000
	DefaultMaxBatchSize  = 64
	// DefaultRetryFor is how long a batch is retried: Prometheus re-sends
	// active alerts every minute, so by then fresher copies are queued.
	DefaultRetryFor     = time.Minute
	DefaultMinBackoff   = 500 * time.Millisecond
	DefaultMaxBackoff   = 10 * time.Second
	DefaultDrainTimeout = 5 * time.Second
)

// Options tune a Forwarder; zero values take the defaults.
type Options struct {
	QueueCapacity int           // alerts held while Alertmanagers are slow
	MaxBatchSize  int           // alerts per request
	RetryFor      time.Duration // how long one batch is retried
	MinBackoff    time.Duration // first wait between tries; it doubles, jittered
	MaxBackoff    time.Duration // longest wait between tries
	// DrainTimeout is how long Run keeps sending what is queued once
	// stopped; negative: not at all.
	DrainTimeout time.Duration
	Registerer   prometheus.Registerer // nil: metrics are not registered
	Logger       *slog.Logger
}

func (o Options) withDefaults() Options {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if o.QueueCapacity <= 0 {
		o.QueueCapacity = DefaultQueueCapacity
	}
	if o.MaxBatchSize <= 0 {
		o.MaxBatchSize = DefaultMaxBatchSize
	}
	def(&o.RetryFor, DefaultRetryFor)
	def(&o.MinBackoff, DefaultMinBackoff)
	def(&o.MaxBackoff, DefaultMaxBackoff)
	def(&o.DrainTimeout, DefaultDrainTimeout)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
