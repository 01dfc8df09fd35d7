package remotewrite

import (
	"context"
	"sync"
	"time"
)

// Run sends until ctx ends or Close is called: a flusher moves appended
// samples to the queue file, a sender posts the file's batches in order.
// Before it returns, what is still in memory is written to the queue file.
// Batches left there by an earlier process are sent first.
func (q *Queue) Run(ctx context.Context) {
	q.mu.Lock()
	if q.closed || q.isRunning {
		q.mu.Unlock()
		q.log.Error("remote write: Run called on a closed or running queue")
		return
	}
	q.isRunning = true
	q.running.Add(1)
	q.mu.Unlock()
	defer q.running.Done()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-q.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	var wg sync.WaitGroup
	wg.Go(func() { q.flushLoop(ctx) })
	q.sendLoop(ctx)
	wg.Wait()
	q.flush(context.WithoutCancel(ctx), true)
	q.mu.Lock()
	q.isRunning = false
	q.mu.Unlock()
}

func (q *Queue) flushLoop(ctx context.Context) {
	t := time.NewTicker(q.opts.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			q.flush(ctx, true)
		case <-q.flushNow:
			q.flush(ctx, false)
		}
	}
}

// flush encodes the buffered samples (all of them, or only as many as fill
// whole requests) and writes what is encoded to the queue file.
func (q *Queue) flush(ctx context.Context, all bool) {
	q.flushMu.Lock()
	defer q.flushMu.Unlock()
	q.mu.Lock()
	n := len(q.buf)
	if !all {
		n -= n % q.max
	}
	var taken []Sample
	if n > 0 {
		taken = q.buf[:n]
		q.buf = append(q.spare[:0], q.buf[n:]...)
		q.spare = nil
		q.st.flushing = pending{samples: int64(n), oldest: q.st.bufOldest} // no earlier than taken's oldest
		q.st.bufOldest = oldestOf(q.buf)                                   // less than MaxSamplesPerSend
	}
	q.mu.Unlock()
	if n > 0 {
		q.unsaved = q.enc.encode(taken, q.unsaved)
		clear(taken) // let go of the labels
		q.mu.Lock()
		q.spare = taken[:0]
		q.st.flushing = pending{}
		q.st.unsaved = summarize(q.unsaved)
		q.mu.Unlock()
	}
	q.boundUnsaved()
	if len(q.unsaved) > 0 {
		q.persist(ctx)
	}
}

// boundUnsaved drops the oldest encoded batches beyond MaxMemoryBytes: they
// pile up only while the queue file cannot be written.
func (q *Queue) boundUnsaved() {
	var size int64
	for _, b := range q.unsaved {
		size += int64(len(b.body))
	}
	drop, samples := 0, 0
	for ; size > q.opts.MaxMemoryBytes && drop < len(q.unsaved); drop++ {
		size -= int64(len(q.unsaved[drop].body))
		samples += q.unsaved[drop].samples
	}
	if drop == 0 {
		return
	}
	q.unsaved = q.unsaved[:copy(q.unsaved, q.unsaved[drop:])]
	q.m.dropped(reasonMemoryFull, samples)
	q.mu.Lock()
	q.st.unsaved = summarize(q.unsaved)
	q.mu.Unlock()
	q.noteMemoryFull(samples)
}

// noteMemoryFull logs the first memory_full drop since the last good write.
func (q *Queue) noteMemoryFull(samples int) {
	q.mu.Lock()
	first := !q.st.memFull
	q.st.memFull = true
	q.mu.Unlock()
	if first {
		q.log.Error("remote write dropping the oldest samples waiting in memory: the queue file cannot take them",
			"samples", samples, "max_memory_bytes", q.opts.MaxMemoryBytes)
	}
}

// persist writes the encoded batches to the queue file, one transaction each
// so that a nearly full disk takes what it can; those that fail stay in
// memory for the next flush.
func (q *Queue) persist(ctx context.Context) {
	written := 0
	var err error
	q.fileMu.Lock()
	for _, b := range q.unsaved {
		if b.id, err = q.file.insert(ctx, b); err != nil {
			break
		}
		written++
		q.mu.Lock()
		q.st.disk.add(b)
		q.mu.Unlock()
	}
	q.fileMu.Unlock()
	if written > 0 {
		n := copy(q.unsaved, q.unsaved[written:])
		clear(q.unsaved[n:])
		q.unsaved = q.unsaved[:n]
	}
	q.mu.Lock()
	q.st.unsaved = summarize(q.unsaved)
	wasFailing := q.st.fileErr != ""
	switch {
	case err != nil && ctx.Err() == nil:
		q.st.fileErr = describeFileError(err)
	case err == nil:
		q.st.fileErr = ""
		q.st.memFull = false
	}
	fileErr := q.st.fileErr
	q.mu.Unlock()
	switch {
	case err != nil && ctx.Err() == nil:
		q.m.writeErrors.Inc()
		if !wasFailing {
			q.log.Error("cannot write the remote-write queue file; keeping batches in memory and retrying",
				"err", fileErr, "batches", len(q.unsaved), "path", q.file.path)
		}
	case err == nil && wasFailing:
		q.log.Info("remote-write queue file writable again", "batches_written", written)
	}
	if written > 0 {
		q.trim(ctx)
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
}

func describeFileError(err error) string {
	if sqliteCode(err) == sqliteFull {
		return "disk full: " + err.Error()
	}
	return err.Error()
}

// trim drops the oldest batches beyond MaxQueueBytes, except the one being
// sent.
func (q *Queue) trim(ctx context.Context) {
	q.fileMu.Lock()
	defer q.fileMu.Unlock()
	q.mu.Lock()
	excess := q.st.disk.bytes - q.opts.MaxQueueBytes
	q.mu.Unlock()
	if excess <= 0 {
		q.queueFull = false
		return
	}
	after := max(q.cursor, q.inflight)
	dropped, err := q.file.trim(ctx, after, excess)
	if err != nil {
		q.log.Error("cannot trim the remote-write queue file", "err", err)
		return
	}
	if dropped.batches == 0 {
		return
	}
	q.m.dropped(reasonQueueFull, int(dropped.samples))
	if !q.queueFull {
		q.log.Warn("remote-write queue file full; dropping its oldest batches (counted, logged once)",
			"batches", dropped.batches, "samples", dropped.samples, "max_queue_bytes", q.opts.MaxQueueBytes)
		q.queueFull = true
	}
	q.mu.Lock()
	q.st.disk.batches -= dropped.batches
	q.st.disk.bytes -= dropped.bytes
	q.st.disk.samples -= dropped.samples
	q.mu.Unlock()
	q.refreshOldest(ctx)
}

// refreshOldest reads the oldest sample time of the first undelivered batch.
// The caller holds fileMu.
func (q *Queue) refreshOldest(ctx context.Context) {
	t, ok, err := q.file.oldestAfter(ctx, q.cursor)
	if err != nil {
		return // keep the old value; the next change reads it again
	}
	q.mu.Lock()
	q.st.disk.oldest = minTime{t: t, ok: ok}
	q.mu.Unlock()
}
