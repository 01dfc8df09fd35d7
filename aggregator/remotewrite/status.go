package remotewrite

import "time"

// Status is what a queue is doing, for the status page and the metrics.
type Status struct {
	Name string
	URL  string // without user info and query
	// PendingBatches and PendingBytes are the requests in the queue file
	// not yet delivered (bytes as sent: compressed).
	PendingBatches int
	PendingBytes   int64
	// PendingSamples are all the samples not yet delivered: in the queue
	// file and in memory.
	PendingSamples int64
	// BufferedSamples have been appended and wait for the next flush.
	BufferedSamples int
	// UnsavedBatches are encoded requests held in memory because the queue
	// file could not be written (see QueueFileError).
	UnsavedBatches int
	// Oldest is the time of the oldest sample not yet delivered; zero when
	// everything was delivered.
	Oldest time.Time
	// LastError is the last failed request's error (retried or dropped), at
	// LastErrorTime; LastSuccess is when a request last succeeded.
	LastError     string
	LastErrorTime time.Time
	LastSuccess   time.Time
	// QueueFileError is set while batches cannot be written to the queue
	// file (disk full, …); they are kept in memory and written later.
	QueueFileError string
}

// Lag is how long the oldest sample not yet delivered has waited.
func (s Status) Lag() time.Duration {
	if s.Oldest.IsZero() {
		return 0
	}
	return max(time.Since(s.Oldest), 0)
}

// status is the queue's state behind Status, guarded by Queue.mu.
type status struct {
	disk      pending // rows of the queue file not yet delivered; oldest: the first row's
	flushing  pending // taken from the buffer, being encoded
	unsaved   pending // encoded, not yet in the queue file
	bufOldest minTime

	lastErr     string
	lastErrAt   time.Time
	lastSuccess time.Time
	fileErr     string
	memFull     bool // memory_full drops were logged since the last good write
}

// pending counts batches not yet delivered.
type pending struct {
	batches int
	bytes   int64
	samples int64
	oldest  minTime
}

func (p *pending) add(b batch) {
	p.batches++
	p.bytes += int64(len(b.body))
	p.samples += int64(b.samples)
	p.oldest.note(b.minT)
}

func (p *pending) sub(b batch) {
	p.batches--
	p.bytes -= int64(len(b.body))
	p.samples -= int64(b.samples)
	if p.batches <= 0 {
		// Nothing waits: no oldest sample, even before the file is read
		// again (refreshOldest), so the lag is 0 as soon as all is sent.
		p.oldest = minTime{}
	}
}

func summarize(bs []batch) pending {
	var p pending
	for _, b := range bs {
		p.add(b)
	}
	return p
}

// minTime is the earliest of some sample times (ms), if any.
type minTime struct {
	t  int64
	ok bool
}

func (m *minTime) note(t int64) {
	if !m.ok || t < m.t {
		m.t, m.ok = t, true
	}
}

func (m *minTime) merge(o minTime) {
	if o.ok {
		m.note(o.t)
	}
}

func oldestOf(ss []Sample) minTime {
	var m minTime
	for _, s := range ss {
		m.note(s.T)
	}
	return m
}

// Status reports the queue's state.
func (q *Queue) Status() Status {
	q.mu.Lock()
	defer q.mu.Unlock()
	st := &q.st
	s := Status{
		Name:            q.name,
		URL:             q.redacted,
		PendingBatches:  st.disk.batches,
		PendingBytes:    st.disk.bytes,
		PendingSamples:  st.disk.samples + st.flushing.samples + st.unsaved.samples + int64(len(q.buf)),
		BufferedSamples: len(q.buf),
		UnsavedBatches:  st.unsaved.batches,
		LastError:       st.lastErr,
		LastErrorTime:   st.lastErrAt,
		LastSuccess:     st.lastSuccess,
		QueueFileError:  st.fileErr,
	}
	oldest := st.disk.oldest
	oldest.merge(st.flushing.oldest)
	oldest.merge(st.unsaved.oldest)
	oldest.merge(st.bufOldest)
	if oldest.ok {
		s.Oldest = time.UnixMilli(oldest.t)
	}
	return s
}
