package outbox

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
	"golang.org/x/time/rate"
)

// worker delivers one integration's queue: its pending deliveries in
// notification order, the head one until it is finished (head-of-line), so
// a newer message for a group never overtakes an older one.
type worker struct {
	o      *Outbox
	k      key
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns
	wakeC  chan struct{} // capacity 1: new deliveries or a new configuration
	lim    *rate.Limiter

	mu sync.Mutex
	in notify.Integration // the current configuration

	disabled *disabledState // owned by run; nil when enabled

	unrecorded []unrecordedMsg // under mu: sent after the queue, from memory
}

type disabledState struct {
	hash   string // the ConfigHash the service rejected
	reason string
}

func newWorker(ctx context.Context, o *Outbox, k key, in notify.Integration) *worker {
	w := &worker{
		o:     o,
		k:     k,
		log:   o.log.With("receiver", k.receiver, "integration", k.integration),
		done:  make(chan struct{}),
		wakeC: make(chan struct{}, 1),
		lim:   rate.NewLimiter(o.opts.RateLimit, o.opts.RateBurst),
		in:    in,
	}
	w.ctx, w.cancel = context.WithCancel(ctx)
	for _, r := range []string{resultDelivered, resultFailed, resultRetried, StatusExpired, StatusSkipped, resultDropped} {
		o.m.delivery(k, r, 0) // so that rate() sees the first one
	}
	return w
}

func (w *worker) wake() {
	select {
	case w.wakeC <- struct{}{}:
	default:
	}
}

func (w *worker) setIntegration(in notify.Integration) {
	w.mu.Lock()
	w.in = in
	w.mu.Unlock()
	w.wake()
}

func (w *worker) integration() notify.Integration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.in
}

// wait blocks until a wake-up, timer (nil: none) or the end of the worker.
func (w *worker) wait(timer <-chan time.Time) {
	select {
	case <-w.ctx.Done():
	case <-w.wakeC:
	case <-timer:
	}
}

// sleep waits d, false if the worker stopped first.
func (w *worker) sleep(d time.Duration) bool {
	select {
	case <-w.ctx.Done():
		return false
	case <-w.o.opts.After(d):
		return true
	}
}

func (w *worker) run() {
	defer close(w.done)
	for n := 1; ; n++ {
		d, err := loadDisabled(w.ctx, w.o.db, w.k)
		if err == nil {
			w.disabled = d
			break
		}
		if w.ctx.Err() != nil {
			return
		}
		w.log.Error("outbox: reading integration state failed; retrying", "err", err)
		if !w.sleep(w.o.retryWait(n)) {
			return
		}
	}
	if w.disabled != nil && w.disabled.hash == w.integration().ConfigHash {
		w.log.Warn("outbox: integration is disabled; its deliveries are held until its configuration changes", "reason", w.disabled.reason)
	}
	for w.ctx.Err() == nil {
		w.step()
	}
}

// step makes one move: enable, wait, finish the head delivery without
// sending it, or send it once.
func (w *worker) step() {
	in := w.integration()
	if w.disabled != nil {
		if w.disabled.hash == in.ConfigHash {
			w.wait(nil)
			return
		}
		if !w.save("enable", func(ctx context.Context, tx *sql.Tx) error { return enable(ctx, tx, w.k, w.o.opts.Now()) }) {
			return
		}
		w.log.Info("outbox: configuration changed; integration enabled again", "was_disabled_for", w.disabled.reason)
		w.disabled = nil
	}

	d, ok, err := w.head()
	if err != nil {
		if w.ctx.Err() != nil {
			return
		}
		w.log.Error("outbox: reading the queue failed; retrying", "err", err)
		w.sleep(w.o.retryWait(1))
		return
	}
	if !ok {
		if !w.stepUnrecorded(in) {
			w.wait(nil)
		}
		return
	}
	now := w.o.opts.Now()
	if !now.Before(w.o.expiry(d.created, now)) {
		reason := fmt.Sprintf("not delivered within the maximum age of %s (%d attempts; last error: %s)", w.o.opts.MaxAge, d.attempts, orNone(d.lastError))
		w.finish(d, StatusExpired, reason, slog.LevelWarn)
		return
	}
	if d.msg == nil {
		w.finish(d, StatusFailed, "stored message cannot be read: "+d.decodeErr.Error(), slog.LevelError)
		return
	}
	msg := d.msg
	if !in.SendResolved {
		if msg = firingOnly(msg); msg == nil {
			w.finish(d, StatusSkipped, "only resolved alerts, and the integration does not send resolved", slog.LevelDebug)
			return
		}
		repeat, err := w.repeatsLast(d)
		if err != nil {
			if w.ctx.Err() == nil {
				w.log.Error("outbox: reading the last message failed; retrying", "err", err)
				w.sleep(w.o.retryWait(1))
			}
			return
		}
		if repeat {
			w.finish(d, StatusSkipped, "alerts resolved, none new firing, and the integration does not send resolved", slog.LevelDebug)
			return
		}
	}
	// A retry further off than any wait the outbox sets was saved before
	// the wall clock stepped back: it is due now, not after the step.
	if d.next.After(now) && d.next.Sub(now) <= w.o.longestWait() {
		w.wait(w.o.opts.After(d.next.Sub(now)))
		return
	}
	if !w.allow() {
		return
	}
	err = w.send(in, msg)
	if err != nil && w.ctx.Err() != nil {
		return // stopped mid-attempt: the delivery stays as it was, pending
	}
	w.record(d, in, err)
}

// allow waits for the rate limit; false if the worker stopped first.
func (w *worker) allow() bool {
	now := w.o.opts.Now()
	r := w.lim.ReserveN(now, 1)
	if !r.OK() {
		return true
	}
	delay := r.DelayFrom(now)
	if delay <= 0 {
		return true
	}
	if !w.sleep(delay) {
		r.CancelAt(w.o.opts.Now())
		return false
	}
	return true
}

// send makes one attempt under the send timeout. A panicking notifier fails
// the delivery instead of the aggregator.
func (w *worker) send(in notify.Integration, msg *notify.Message) (err error) {
	ctx, cancel := context.WithTimeout(w.ctx, w.o.opts.SendTimeout)
	defer cancel()
	start := time.Now()
	defer func() {
		w.o.m.duration.WithLabelValues(w.k.receiver, w.k.integration).Observe(time.Since(start).Seconds())
		if p := recover(); p != nil {
			w.log.Error("outbox: notifier panicked", "panic", fmt.Sprint(p))
			err = notify.Permanent("notifier panicked: %v", p)
		}
	}()
	return in.Notifier.Notify(ctx, msg)
}

// record saves the outcome of an attempt.
func (w *worker) record(d delivery, in notify.Integration, err error) {
	now := w.o.opts.Now()
	attempts := d.attempts + 1
	log := w.log.With("notification", d.id, "group_key", d.groupKey, "attempts", attempts)
	if err == nil {
		if w.save("delivered", func(ctx context.Context, tx *sql.Tx) error { return saveDelivered(ctx, tx, w.k, d.id, now) }) {
			w.o.m.delivery(w.k, resultDelivered, 1)
			log.Debug("outbox: delivered")
		}
		return
	}
	e := notify.Classify(notify.Redact(err)) // a URL in a raw client error stays out of logs and alerts.db
	reason := e.Reason
	if reason == "" {
		reason = e.Error()
	}
	var (
		status = StatusPending
		next   time.Time
		dis    *disabledState
		result = resultRetried
	)
	switch {
	case e.Disable:
		dis = &disabledState{hash: in.ConfigHash, reason: reason}
	case e.Retry:
		next = now.Add(max(w.o.backoff(attempts), min(e.RetryAfter, maxRetryAfter)))
		if expiry := w.o.expiry(d.created, now); next.After(expiry) {
			next = expiry
		}
	default:
		status, result = StatusFailed, resultFailed
	}
	ok := w.save("attempt", func(ctx context.Context, tx *sql.Tx) error {
		return saveFailure(ctx, tx, w.k, d.id, status, reason, next, now, dis)
	})
	if !ok {
		return
	}
	w.o.m.delivery(w.k, result, 1)
	switch {
	case dis != nil:
		w.disabled = dis
		log.Error("outbox: the service disabled the integration; its deliveries are held until its configuration changes", "reason", reason)
	case status == StatusFailed:
		log.Error("outbox: delivery failed for good; going on with the next", "reason", reason)
	default:
		log.Warn("outbox: delivery failed; will retry", "reason", reason, "retry_in", next.Sub(now).Round(time.Millisecond))
	}
}

// finish ends the head delivery without sending it.
func (w *worker) finish(d delivery, status, reason string, level slog.Level) {
	now := w.o.opts.Now()
	if !w.save(status, func(ctx context.Context, tx *sql.Tx) error {
		return saveFinished(ctx, tx, w.k, d.id, status, reason, now)
	}) {
		return
	}
	w.o.m.delivery(w.k, status, 1)
	w.log.Log(w.ctx, level, "outbox: delivery "+status, "notification", d.id, "group_key", d.groupKey, "reason", reason)
}

// save runs fn in a transaction until it commits: a failed write (disk
// full, I/O error) is retried and never skipped, so the queue does not move
// on with its state unsaved. It goes on after the worker is stopped, for a
// while, so that a message just delivered is recorded; false when it gave up.
func (w *worker) save(what string, fn func(context.Context, *sql.Tx) error) bool {
	for n := 1; ; n++ {
		err := w.o.tx(context.WithoutCancel(w.ctx), 10*time.Second, fn)
		if err == nil {
			return true
		}
		w.o.m.saveErrors.Inc()
		if w.ctx.Err() != nil {
			w.log.Error("outbox: stopped before the delivery state was saved; after a restart it is sent again", "what", what, "err", err)
			return false
		}
		w.log.Error("outbox: saving the delivery state failed; retrying", "what", what, "err", err)
		w.sleep(w.o.retryWait(n)) // stopped: one last try, then give up
	}
}

// tx runs fn in an immediate transaction bounded by timeout.
func (o *Outbox) tx(ctx context.Context, timeout time.Duration, fn func(context.Context, *sql.Tx) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tx, err := o.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(ctx, tx); err != nil {
		return err
	}
	return tx.Commit()
}

// firingOnly is m without its resolved alerts, for integrations that do not
// send resolved; nil when nothing fires.
func firingOnly(m *notify.Message) *notify.Message {
	firing := m.Firing()
	if len(firing) == 0 {
		return nil
	}
	if len(firing) == len(m.Alerts) {
		return m
	}
	out := notify.NewMessage(m.Receiver, m.GroupKey, m.GroupLabels, m.ExternalURL, firing)
	out.Version = m.Version
	out.TruncatedAlerts = m.TruncatedAlerts
	return out
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
