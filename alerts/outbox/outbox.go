package outbox

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
	"github.com/gpu-watchdog/gpu-watchdog/internal/steady"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
)

// Options tune an Outbox; zero values take the defaults.
type Options struct {
	// BackoffBase and BackoffMax bound the wait after a retryable failure:
	// a random duration in [0, min(BackoffMax, BackoffBase·2^(n-1))) after
	// the n-th failed attempt ("full jitter"), or longer when the service
	// asked for it with Retry-After, up to an hour (defaults 1s and 5m).
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// RateLimit and RateBurst are each integration's token bucket (default
	// 1 message/s, burst 5); rate.Inf turns the limit off.
	RateLimit rate.Limit
	RateBurst int
	// SendTimeout bounds one attempt (default 30s).
	SendTimeout time.Duration
	// MaxAge: a delivery still pending this long after its notification was
	// enqueued is marked expired instead of sent (default 24h).
	MaxAge time.Duration
	// Retention: Run prunes finished notifications older than this every
	// PruneInterval (defaults 7 days and 1h); negative turns pruning off.
	Retention     time.Duration
	PruneInterval time.Duration

	Logger     *slog.Logger          // default: discard
	Registerer prometheus.Registerer // nil: no metrics

	// Now and After are the clock for timestamps, ages, backoff and the
	// rate limit (defaults time.Now and time.After). Tests give a fake
	// clock whose After moves time forward at once, so no test waits out
	// a real backoff.
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
}

func (o *Options) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.BackoffBase, time.Second)
	def(&o.BackoffMax, 5*time.Minute)
	def(&o.SendTimeout, 30*time.Second)
	def(&o.MaxAge, 24*time.Hour)
	def(&o.PruneInterval, time.Hour)
	if o.Retention == 0 {
		o.Retention = 7 * 24 * time.Hour
	}
	o.BackoffMax = max(o.BackoffMax, o.BackoffBase)
	if o.RateLimit <= 0 {
		o.RateLimit = 1
	}
	if o.RateBurst <= 0 {
		o.RateBurst = 5
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.After == nil {
		o.After = time.After
	}
}

// Outbox is the durable queue of notifications and their delivery log. It
// is safe for concurrent use.
//
// Delivery is exactly once except where no sender can promise it, and there
// at least once: when the process dies (or Run is stopped, and the final
// write fails) after a service accepted a message but before that was
// written to alerts.db, the message is sent again after the restart; and an
// attempt that times out after the service received it is retried as a
// failure. Everything else (enqueued, pending, backing off, held) is in
// alerts.db and resumes, in order, on the next Run.
type Outbox struct {
	db   *sql.DB
	opts Options
	log  *slog.Logger
	m    *metrics

	mu         sync.Mutex
	receivers  map[string][]notify.Integration // as last given to SetReceivers
	configured bool                            // SetReceivers was called
	gen        uint64                          // counts SetReceivers calls
	workers    map[key]*worker                 // those Run has started
	changed    chan struct{}                   // wakes Run's reconciler (capacity 1)
	// unrecorded: content sent without a record (disk full), and which
	// integrations delivered it; see unrecorded.go.
	unrecorded map[groupOf]*unrecordedGroup

	running atomic.Bool
	steady  *steady.Clock // ages: a wall clock stepped forward expires nothing
}

// key names one integration of one receiver.
type key struct{ receiver, integration string }

// New creates the outbox's tables in db (a database from alertdb.Open, which
// the caller keeps and closes) and registers its metrics. Nothing is sent
// until Run.
func New(ctx context.Context, db *sql.DB, opts Options) (*Outbox, error) {
	opts.defaults()
	if err := createSchema(ctx, db); err != nil {
		return nil, err
	}
	o := &Outbox{
		db:        db,
		opts:      opts,
		log:       opts.Logger,
		receivers: map[string][]notify.Integration{},
		workers:   map[key]*worker{},
		changed:   make(chan struct{}, 1),
		steady:    steady.New(opts.Now),
	}
	m, err := newMetrics(opts.Registerer, o)
	if err != nil {
		return nil, err
	}
	o.m = m
	return o, nil
}

// SetReceivers replaces the configured receivers and their integrations; call
// it before the first Enqueue and after every configuration reload. Run then
// starts a worker per new integration and stops those removed; deliveries
// still pending for a removed integration are marked dropped. An integration
// whose ConfigHash changed is enabled again if the service had disabled it.
// Integrations without a name, or repeating one in their receiver, are left
// out (and logged).
func (o *Outbox) SetReceivers(receivers map[string][]notify.Integration) {
	cfg := make(map[string][]notify.Integration, len(receivers))
	for name, ints := range receivers {
		seen := map[string]bool{}
		list := make([]notify.Integration, 0, len(ints))
		for _, in := range ints {
			switch {
			case in.Name == "" || in.Notifier == nil:
				o.log.Error("outbox: integration without a name or notifier left out", "receiver", name, "integration", in.Name)
				continue
			case seen[in.Name]:
				o.log.Error("outbox: integration name repeated; the second is left out", "receiver", name, "integration", in.Name)
				continue
			}
			seen[in.Name] = true
			list = append(list, in)
		}
		cfg[name] = list
	}
	o.mu.Lock()
	o.receivers = cfg
	o.configured = true
	o.gen++
	o.mu.Unlock()
	o.notifyChanged()
}

func (o *Outbox) notifyChanged() {
	select {
	case o.changed <- struct{}{}:
	default:
	}
}

// snapshot is the configuration and its generation.
func (o *Outbox) snapshot() (map[string][]notify.Integration, uint64, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.receivers, o.gen, o.configured
}
