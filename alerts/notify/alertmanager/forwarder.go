package alertmanager

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
)

// Forwarder sends alerts to every configured Alertmanager, as Prometheus'
// notifier does: Send queues without blocking (the oldest alerts are
// dropped when the queue is full), Run sends the queue in batches to all
// Alertmanagers at once. Duplicates are harmless: Alertmanager keys alerts
// by their labels.
type Forwarder struct {
	opts    Options
	metrics *metrics
	more    chan struct{} // a token when the queue has alerts
	stop    chan struct{}
	stopped sync.Once
	done    chan struct{} // closed when Run returns

	mu      sync.Mutex
	queue   []PostableAlert
	clients []*Client
	running bool
}

// NewForwarder returns a forwarder to clients. It fails only when its
// metrics cannot be registered.
func NewForwarder(clients []*Client, o Options) (*Forwarder, error) {
	o = o.withDefaults()
	m, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, err
	}
	m.queueCapacity.Set(float64(o.QueueCapacity))
	f := &Forwarder{
		opts:    o,
		metrics: m,
		more:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	f.SetClients(clients)
	return f, nil
}

// SetClients replaces the Alertmanagers (a configuration reload); queued
// alerts go to the new set.
func (f *Forwarder) SetClients(clients []*Client) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, old := range f.clients {
		if !slices.ContainsFunc(clients, func(c *Client) bool { return c.Name() == old.Name() }) {
			f.metrics.sent.DeleteLabelValues(old.Name())
			f.metrics.errors.DeleteLabelValues(old.Name())
		}
	}
	for _, c := range clients {
		f.metrics.sent.WithLabelValues(c.Name())
		f.metrics.errors.WithLabelValues(c.Name())
	}
	f.clients = slices.Clone(clients)
}

// Send queues alerts and returns at once. When the queue is full the
// oldest alerts are dropped and counted.
func (f *Forwarder) Send(alerts ...PostableAlert) {
	if len(alerts) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	dropped := 0
	if over := len(alerts) - f.opts.QueueCapacity; over > 0 {
		alerts, dropped = alerts[over:], over
	}
	if over := len(f.queue) + len(alerts) - f.opts.QueueCapacity; over > 0 {
		f.queue, dropped = f.queue[over:], dropped+over
	}
	f.queue = append(f.queue, alerts...)
	f.metrics.queueLength.Set(float64(len(f.queue)))
	if dropped > 0 {
		f.metrics.dropped.Add(float64(dropped))
		f.opts.Logger.Warn("alertmanager queue full; dropped the oldest alerts", "dropped", dropped, "capacity", f.opts.QueueCapacity)
	}
	select {
	case f.more <- struct{}{}:
	default:
	}
}

// Run sends queued alerts until ctx ends or Stop is called, then spends up
// to DrainTimeout sending what is left. Call it once.
func (f *Forwarder) Run(ctx context.Context) {
	f.mu.Lock()
	if f.running {
		f.mu.Unlock()
		return
	}
	f.running = true
	f.mu.Unlock()
	defer close(f.done)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-f.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		select {
		case <-ctx.Done():
			f.drain(context.WithoutCancel(ctx))
			return
		case <-f.more:
		}
		for ctx.Err() == nil {
			batch := f.next()
			if len(batch) == 0 {
				break
			}
			f.sendAll(ctx, batch)
		}
	}
}

// Stop ends Run and, when Run is running, waits until it has drained the
// queue and returned.
func (f *Forwarder) Stop() {
	f.stopped.Do(func() { close(f.stop) })
	f.mu.Lock()
	running := f.running
	f.mu.Unlock()
	if running {
		<-f.done
	}
}

// next takes up to MaxBatchSize alerts off the queue.
func (f *Forwarder) next() []PostableAlert {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := min(len(f.queue), f.opts.MaxBatchSize)
	batch := slices.Clone(f.queue[:n])
	f.queue = f.queue[n:]
	if len(f.queue) == 0 {
		f.queue = nil // let the backing array go
	}
	f.metrics.queueLength.Set(float64(len(f.queue)))
	return batch
}

// requeue puts back a batch whose sending was interrupted by shutdown.
func (f *Forwarder) requeue(batch []PostableAlert) {
	f.mu.Lock()
	defer f.mu.Unlock()
	room := max(0, f.opts.QueueCapacity-len(f.queue))
	if len(batch) > room {
		f.metrics.dropped.Add(float64(len(batch) - room))
		batch = batch[:room]
	}
	f.queue = append(slices.Clone(batch), f.queue...)
	f.metrics.queueLength.Set(float64(len(f.queue)))
}

// drain sends what is queued for up to DrainTimeout; what is left then is
// dropped and counted.
func (f *Forwarder) drain(ctx context.Context) {
	if f.opts.DrainTimeout > 0 {
		ctx, cancel := context.WithTimeout(ctx, f.opts.DrainTimeout)
		defer cancel()
		for ctx.Err() == nil {
			batch := f.next()
			if len(batch) == 0 {
				break
			}
			f.sendAll(ctx, batch)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := len(f.queue); n > 0 {
		f.metrics.dropped.Add(float64(n))
		f.opts.Logger.Warn("alertmanager forwarder stopped with alerts unsent", "dropped", n)
		f.queue = nil
		f.metrics.queueLength.Set(0)
	}
}

// sendAll sends batch to every Alertmanager concurrently, each retried
// within RetryFor. A batch cut short by shutdown goes back on the queue
// for the drain.
func (f *Forwarder) sendAll(ctx context.Context, batch []PostableAlert) {
	f.mu.Lock()
	clients := f.clients
	f.mu.Unlock()
	bctx, cancel := context.WithTimeout(ctx, f.opts.RetryFor)
	defer cancel()
	var wg sync.WaitGroup
	var interrupted atomic.Bool
	for _, c := range clients {
		wg.Go(func() {
			if !f.sendOne(ctx, bctx, c, batch) {
				interrupted.Store(true)
			}
		})
	}
	wg.Wait()
	if interrupted.Load() {
		f.requeue(batch)
	}
}

// sendOne sends batch to c, retrying 429, 5xx and network errors with
// jittered exponential backoff (or the Retry-After asked for) until bctx
// ends. It reports false when shutdown (parent ending) cut it short, which
// is not counted as an error: the drain sends the batch again.
func (f *Forwarder) sendOne(parent, bctx context.Context, c *Client, batch []PostableAlert) bool {
	log := f.opts.Logger.With("alertmanager", c.Name())
	for attempt := 0; ; attempt++ {
		err := c.Send(bctx, batch)
		if err == nil {
			f.metrics.sent.WithLabelValues(c.Name()).Add(float64(len(batch)))
			log.Debug("sent alerts", "alerts", len(batch), "attempts", attempt+1)
			return true
		}
		if parent.Err() != nil {
			return false
		}
		e := notify.Classify(err)
		wait := f.backoff(attempt, e.RetryAfter)
		if !e.Retry || !fits(bctx, wait) {
			f.metrics.errors.WithLabelValues(c.Name()).Add(float64(len(batch)))
			log.Warn("could not send alerts to alertmanager", "alerts", len(batch), "attempts", attempt+1, "err", err)
			return true
		}
		log.Debug("retrying alertmanager", "err", err, "wait", wait)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-bctx.Done():
			t.Stop()
		}
	}
}

// backoff is the wait before retry number attempt+1: MinBackoff doubling up
// to MaxBackoff, jittered over its upper half, or longer when the
// Alertmanager asked.
func (f *Forwarder) backoff(attempt int, retryAfter time.Duration) time.Duration {
	d := f.opts.MinBackoff << min(attempt, 30)
	if d <= 0 || d > f.opts.MaxBackoff {
		d = f.opts.MaxBackoff
	}
	d = d/2 + rand.N(d/2+1)
	return max(d, retryAfter)
}

// fits reports whether waiting d leaves ctx time for another try.
func fits(ctx context.Context, d time.Duration) bool {
	dl, ok := ctx.Deadline()
	return ctx.Err() == nil && (!ok || time.Until(dl) > d)
}
