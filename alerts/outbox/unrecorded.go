package outbox

import (
	"context"
	"database/sql"
	"maps"
	"slices"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
)

// When alerts.db's disk is full, Enqueue cannot record a notification, and
// the one alert that says so (GpuwdStorageNotWritable) would never reach
// anyone. So a notification that could not be recorded is still sent, once
// per integration, from memory: after what is already queued for that
// integration, retried like a queued one for up to MaxAge, and lost if
// gpuwd stops first. The same content for the same group is sent once,
// however often the dispatcher tries again (Last answers with it); when the
// disk has room and Enqueue records it, it is recorded as delivered, not
// sent again.

// maxUnrecorded bounds each integration's unrecorded messages; the oldest
// is dropped past it.
const maxUnrecorded = 64

// unrecordedMsg is a message an integration still owes from memory.
type unrecordedMsg struct {
	id       sentUnrecorded
	msg      *notify.Message
	attempts int
	next     time.Time
	created  time.Time
}

// sentUnrecorded names content handed to the integrations without a
// record: receiver, group key, and the firing and resolved fingerprints.
type sentUnrecorded struct{ receiver, groupKey, firing, resolved string }

// groupOf names a notification's group.
type groupOf struct{ receiver, groupKey string }

// unrecordedGroup is the newest content a group sent unrecorded: Last
// answers with it, so the dispatcher sends its resolution, and does not
// send it again.
type unrecordedGroup struct {
	id        sentUnrecorded
	n         Notification
	delivered map[string]bool // by integration
}

// sendUnrecorded hands n to its receiver's running integrations unless its
// group's last unrecorded content is the same; it reports whether it did.
func (o *Outbox) sendUnrecorded(n Notification, firing, resolved []byte) bool {
	id := sentUnrecorded{n.Receiver, n.GroupKey, string(firing), string(resolved)}
	o.mu.Lock()
	defer o.mu.Unlock()
	if g := o.unrecorded[groupOf{n.Receiver, n.GroupKey}]; g != nil && g.id == id {
		return false
	}
	delivered := map[string]bool{}
	for k, w := range o.workers {
		if k.receiver == n.Receiver {
			w.queueUnrecorded(unrecordedMsg{id: id, msg: n.Message, created: n.CreatedAt})
			delivered[k.integration] = false
		}
	}
	if len(delivered) == 0 {
		return false
	}
	if o.unrecorded == nil {
		o.unrecorded = map[groupOf]*unrecordedGroup{}
	}
	o.unrecorded[groupOf{n.Receiver, n.GroupKey}] = &unrecordedGroup{id: id, n: n, delivered: delivered}
	o.m.unrecorded.WithLabelValues(n.Receiver).Inc()
	return true
}

// deliveredUnrecorded marks an integration's unrecorded copy delivered.
func (o *Outbox) deliveredUnrecorded(id sentUnrecorded, integration string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if g := o.unrecorded[groupOf{id.receiver, id.groupKey}]; g != nil && g.id == id {
		g.delivered[integration] = true
	}
}

// unrecordedDelivered returns the integrations that delivered n's very
// content unrecorded, for Enqueue to record as delivered, not send again.
func (o *Outbox) unrecordedDelivered(n Notification, firing, resolved []byte) map[string]bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	g := o.unrecorded[groupOf{n.Receiver, n.GroupKey}]
	if g == nil || g.id != (sentUnrecorded{n.Receiver, n.GroupKey, string(firing), string(resolved)}) {
		return nil
	}
	return maps.Clone(g.delivered)
}

// forgetUnrecorded is called once n is recorded: what its group sent
// unrecorded is forgotten, and copies of n's content still queued in memory
// are withdrawn (the recorded deliveries send them). A copy delivered after
// unrecordedDelivered looked goes out twice.
func (o *Outbox) forgetUnrecorded(n Notification, firing, resolved []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	g := o.unrecorded[groupOf{n.Receiver, n.GroupKey}]
	if g == nil {
		return
	}
	delete(o.unrecorded, groupOf{n.Receiver, n.GroupKey})
	if g.id == (sentUnrecorded{n.Receiver, n.GroupKey, string(firing), string(resolved)}) {
		for k, w := range o.workers {
			if k.receiver == n.Receiver {
				w.withdrawUnrecorded(g.id)
			}
		}
	}
}

// lastUnrecorded is the group's newest notification sent unrecorded.
func (o *Outbox) lastUnrecorded(receiver, groupKey string) (Notification, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if g := o.unrecorded[groupOf{receiver, groupKey}]; g != nil {
		return g.n, true
	}
	return Notification{}, false
}

func (w *worker) queueUnrecorded(m unrecordedMsg) {
	w.mu.Lock()
	if len(w.unrecorded) >= maxUnrecorded {
		w.log.Error("outbox: too many unrecorded messages; dropping the oldest", "group_key", w.unrecorded[0].id.groupKey)
		w.unrecorded = w.unrecorded[1:]
	}
	w.unrecorded = append(w.unrecorded, m)
	w.mu.Unlock()
	w.wake()
}

// stepUnrecorded makes one move on the oldest unrecorded message: wait for
// its retry, send it, or drop it. False when there is none.
func (w *worker) stepUnrecorded(in notify.Integration) bool {
	w.mu.Lock()
	if len(w.unrecorded) == 0 {
		w.mu.Unlock()
		return false
	}
	u := w.unrecorded[0]
	w.mu.Unlock()
	now := w.o.opts.Now()
	log := w.log.With("group_key", u.id.groupKey, "attempts", u.attempts+1)
	msg := u.msg
	if !in.SendResolved {
		msg = firingOnly(msg)
	}
	switch {
	case msg == nil:
		w.popUnrecorded(u.id, nil)
		return true
	case !now.Before(w.o.expiry(u.created, now)):
		log.Warn("outbox: unrecorded message not delivered within the maximum age; dropped", "max_age", w.o.opts.MaxAge)
		w.popUnrecorded(u.id, nil)
		return true
	case u.next.After(now) && u.next.Sub(now) <= w.o.longestWait():
		w.wait(w.o.opts.After(u.next.Sub(now)))
		return true
	}
	if !w.allow() {
		return true
	}
	err := w.send(in, msg)
	if err != nil && w.ctx.Err() != nil {
		return true
	}
	if err == nil {
		log.Warn("outbox: delivered without a record (alerts.db's disk is full)")
		w.o.m.delivery(w.k, resultDelivered, 1)
		w.o.deliveredUnrecorded(u.id, w.k.integration)
		w.popUnrecorded(u.id, nil)
		return true
	}
	e := notify.Classify(notify.Redact(err))
	if !e.Retry || e.Disable {
		log.Error("outbox: unrecorded message failed for good", "reason", e.Error())
		w.o.m.delivery(w.k, resultFailed, 1)
		w.popUnrecorded(u.id, nil)
		return true
	}
	next := now.Add(max(w.o.backoff(u.attempts+1), min(e.RetryAfter, maxRetryAfter)))
	log.Warn("outbox: unrecorded message failed; will retry", "reason", e.Error(), "retry_in", next.Sub(now).Round(time.Millisecond))
	w.o.m.delivery(w.k, resultRetried, 1)
	u.attempts, u.next = u.attempts+1, next
	w.popUnrecorded(u.id, &u)
	return true
}

// popUnrecorded removes the oldest unrecorded message, or replaces it with
// its retry; withdrawUnrecorded may have removed it meanwhile.
func (w *worker) popUnrecorded(id sentUnrecorded, retry *unrecordedMsg) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.unrecorded) == 0 || w.unrecorded[0].id != id {
		return
	}
	if retry != nil {
		w.unrecorded[0] = *retry
		return
	}
	w.unrecorded = w.unrecorded[1:]
}

// withdrawUnrecorded removes the queued copy of id.
func (w *worker) withdrawUnrecorded(id sentUnrecorded) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.unrecorded = slices.DeleteFunc(w.unrecorded, func(u unrecordedMsg) bool { return u.id == id })
}

// insertDelivered records deliveries of a notification that already went
// out unrecorded.
func insertDelivered(ctx context.Context, tx *sql.Tx, id int64, receiver, integration string, enqueued, now int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO outbox_deliveries (notification_id, receiver, integration, status, attempts, last_error, enqueued_at, updated_at, delivered_at)
		VALUES (?, ?, ?, 'delivered', 1, 'sent while alerts.db''s disk was full', ?, ?, ?)`, id, receiver, integration, enqueued, now, now)
	return err
}
