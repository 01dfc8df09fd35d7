package remotewrite

import (
	"context"
	"time"
)

// defaultVacuumAfter is how many bytes of sent batches make it worth
// shrinking the queue file once it drained.
const defaultVacuumAfter = 32 << 20

// sendLoop posts the queue file's batches in order until ctx ends.
func (q *Queue) sendLoop(ctx context.Context) {
	h := &health{q: q}
	fileFailures := 0
	for ctx.Err() == nil {
		b, ok, err := q.nextBatch(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if fileFailures == 0 {
				q.log.Error("cannot read the remote-write queue file; retrying", "err", err)
			}
			fileFailures++
			q.sleep(ctx, retryDelay(fileFailures-1, q.opts.MinBackoff, q.opts.MaxBackoff, 0))
			continue
		}
		fileFailures = 0
		if !ok {
			q.drained(ctx)
			select {
			case <-ctx.Done():
			case <-q.wake:
			}
			continue
		}
		q.deliver(ctx, b, h)
	}
}

// nextBatch reads the first undelivered batch and marks it in flight, so
// that trimming leaves it alone.
func (q *Queue) nextBatch(ctx context.Context) (batch, bool, error) {
	q.fileMu.Lock()
	defer q.fileMu.Unlock()
	q.deleteDelivered(ctx)
	b, ok, err := q.file.next(ctx, q.cursor)
	if ok {
		q.inflight = b.id
	}
	return b, ok, err
}

// deleteDelivered removes the delivered batches from the file. A failure
// (the file system may refuse even a delete when it is full) is retried
// with the next batch: the cursor already skips them, and a restart at worst
// sends them again. The caller holds fileMu.
func (q *Queue) deleteDelivered(ctx context.Context) {
	if q.deletedThrough >= q.cursor {
		return
	}
	if err := q.file.deleteThrough(ctx, q.cursor); err != nil {
		q.log.Debug("cannot delete sent batches yet", "err", err)
		return
	}
	q.deletedThrough = q.cursor
}

// drained shrinks the file after a backlog was sent.
func (q *Queue) drained(ctx context.Context) {
	q.fileMu.Lock()
	defer q.fileMu.Unlock()
	if q.freed < q.vacuumAfter || q.deletedThrough < q.cursor {
		return
	}
	if err := q.file.vacuum(ctx); err != nil {
		q.log.Debug("cannot shrink the remote-write queue file", "err", err)
		return
	}
	q.freed = 0
}

// deliver posts a batch until it is accepted or rejected, or ctx ends.
func (q *Queue) deliver(ctx context.Context, b batch, h *health) {
	for attempt := 0; ; attempt++ {
		res := q.post(ctx, b.body, attempt)
		switch res.outcome {
		case sent:
			q.m.sent.Add(float64(b.samples))
			h.sent()
			q.finish(ctx, b)
			return
		case rejected:
			q.m.dropped(reasonRejected, b.samples)
			h.rejected(res, b)
			q.finish(ctx, b)
			return
		}
		if ctx.Err() != nil {
			return // shutting down: not the receiver's failure; sent again by the next Run
		}
		q.m.failed.Add(float64(b.samples))
		h.failed(res)
		if !q.sleep(ctx, retryDelay(attempt, q.opts.MinBackoff, q.opts.MaxBackoff, res.retryAfter)) {
			return
		}
	}
}

// finish moves the cursor past a batch that was delivered or dropped.
func (q *Queue) finish(ctx context.Context, b batch) {
	q.fileMu.Lock()
	defer q.fileMu.Unlock()
	q.cursor, q.inflight = b.id, 0
	q.freed += int64(len(b.body))
	q.mu.Lock()
	q.st.disk.sub(b)
	q.mu.Unlock()
	q.deleteDelivered(ctx)
	q.refreshOldest(ctx)
}

// health logs a queue's state changes (working, retrying, rejecting), not
// every attempt, and keeps the last error and success for Status.
type health struct {
	q        *Queue
	state    int
	failures int       // attempts failed since the last success
	since    time.Time // of the first of them
	rejects  int       // batches rejected since the last success
	dropped  int       // their samples
}

const (
	working = iota
	retrying
	rejecting
)

func (h *health) sent() {
	q := h.q
	q.mu.Lock()
	q.st.lastSuccess = time.Now()
	q.mu.Unlock()
	switch h.state {
	case retrying:
		q.log.Info("remote write recovered", "failed_attempts", h.failures, "after", time.Since(h.since).Round(time.Millisecond))
	case rejecting:
		q.log.Info("remote write accepting batches again", "rejected_batches", h.rejects, "dropped_samples", h.dropped)
	}
	*h = health{q: q}
}

func (h *health) failed(res result) {
	h.q.noteError(res.err)
	if h.failures == 0 {
		h.since = time.Now()
	}
	h.failures++
	if h.state != retrying {
		h.q.log.Warn("remote write failing; retrying with backoff", "err", res.err)
		h.state = retrying
	}
}

func (h *health) rejected(res result, b batch) {
	h.q.noteError(res.err)
	h.rejects++
	h.dropped += b.samples
	if h.state != rejecting {
		h.q.log.Error("remote-write receiver rejected a batch; dropped it (later rejections are counted, not logged)",
			"err", res.err, "status", res.status, "samples", b.samples)
		h.state = rejecting
	}
}

func (q *Queue) noteError(err error) {
	q.mu.Lock()
	q.st.lastErr, q.st.lastErrAt = err.Error(), time.Now()
	q.mu.Unlock()
}
