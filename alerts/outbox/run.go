package outbox

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
)

// Run delivers until ctx is cancelled, then stops its workers (an attempt in
// flight is abandoned and stays pending) and returns nil. It waits for the
// first SetReceivers before it sends or drops anything. Only one Run may be
// active at a time.
func (o *Outbox) Run(ctx context.Context) error {
	if !o.running.CompareAndSwap(false, true) {
		return errors.New("outbox: Run is already running")
	}
	defer o.running.Store(false)
	var wg sync.WaitGroup
	defer func() {
		o.mu.Lock()
		for k, w := range o.workers {
			w.cancel()
			delete(o.workers, k)
		}
		o.mu.Unlock()
		wg.Wait()
	}()

	if o.opts.Retention > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o.pruneEvery(ctx)
		}()
	}
	var sweep <-chan time.Time // retries a failed sweep of removed integrations
	for {
		if _, _, ok := o.snapshot(); ok {
			if err := o.reconcile(ctx, &wg); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				o.log.Error("outbox: dropping deliveries of removed integrations failed; will retry", "err", err)
				sweep = time.After(time.Second)
			} else {
				sweep = nil
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-o.changed:
		case <-sweep:
		}
	}
}

// reconcile starts and stops workers to match the configuration, passes
// changed settings to running ones, and drops deliveries left pending for
// integrations that are gone.
func (o *Outbox) reconcile(ctx context.Context, wg *sync.WaitGroup) error {
	cfg, _, _ := o.snapshot()
	want := map[key]notify.Integration{}
	for r, ints := range cfg {
		for _, in := range ints {
			want[key{r, in.Name}] = in
		}
	}
	var stopped []*worker
	o.mu.Lock()
	for k, w := range o.workers {
		if _, ok := want[k]; !ok {
			w.cancel()
			delete(o.workers, k)
			stopped = append(stopped, w)
		}
	}
	for k, in := range want {
		if w, ok := o.workers[k]; ok {
			w.setIntegration(in)
			continue
		}
		w := newWorker(ctx, o, k, in)
		o.workers[k] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run()
		}()
	}
	o.mu.Unlock()
	// A stopped worker may still be saving its last attempt; let it finish
	// so that a delivered message is not marked dropped.
	for _, w := range stopped {
		<-w.done
	}
	return o.dropRemoved(ctx)
}

// dropRemoved marks dropped the pending deliveries of integrations that are
// no longer configured and have no worker.
//
// It reads the newest notification ID before the configuration and drops
// nothing newer: a delivery committed by then was enqueued under this
// configuration or an older one, so an integration it names that is missing
// now has been removed. One committed later is left to the next call, which
// Enqueue asks for when the configuration changed under it; and any later
// SetReceivers asks for one anyway.
func (o *Outbox) dropRemoved(ctx context.Context) error {
	var newest int64
	if err := o.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM outbox_notifications`).Scan(&newest); err != nil {
		return fmt.Errorf("outbox: list pending integrations: %w", err)
	}
	cfg, _, _ := o.snapshot()
	configured := func(k key) bool {
		for _, in := range cfg[k.receiver] {
			if in.Name == k.integration {
				return true
			}
		}
		o.mu.Lock()
		defer o.mu.Unlock()
		_, running := o.workers[k]
		return running
	}
	rows, err := o.db.QueryContext(ctx, `SELECT DISTINCT receiver, integration FROM outbox_deliveries
		WHERE status = 'pending' AND notification_id <= ?`, newest)
	if err != nil {
		return fmt.Errorf("outbox: list pending integrations: %w", err)
	}
	var gone []key
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.receiver, &k.integration); err != nil {
			rows.Close()
			return fmt.Errorf("outbox: list pending integrations: %w", err)
		}
		if !configured(k) {
			gone = append(gone, k)
		}
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("outbox: list pending integrations: %w", err)
	}
	now := o.opts.Now().UnixMilli()
	for _, k := range gone {
		reason := fmt.Sprintf("integration %s is no longer configured for receiver %s", k.integration, k.receiver)
		if _, ok := cfg[k.receiver]; !ok {
			reason = fmt.Sprintf("receiver %s is no longer configured", k.receiver)
		}
		res, err := o.db.ExecContext(ctx, `UPDATE outbox_deliveries SET status = 'dropped', last_error = ?, updated_at = ?, next_attempt = 0
			WHERE receiver = ? AND integration = ? AND status = 'pending' AND notification_id <= ?`,
			reason, now, k.receiver, k.integration, newest)
		if err != nil {
			return fmt.Errorf("outbox: drop deliveries of %s/%s: %w", k.receiver, k.integration, err)
		}
		n, _ := res.RowsAffected()
		if n > 0 {
			o.m.delivery(k, resultDropped, int(n))
			o.log.Warn("outbox: pending deliveries dropped", "receiver", k.receiver, "integration", k.integration, "count", n, "reason", reason)
		}
	}
	return nil
}

// wake tells the workers of receiver that it has new deliveries.
func (o *Outbox) wake(receiver string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for k, w := range o.workers {
		if k.receiver == receiver {
			w.wake()
		}
	}
}
