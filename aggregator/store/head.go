package store

import (
	"slices"

	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// maxHeadChunkSamples stays below the XOR chunk's 16-bit sample count.
const maxHeadChunkSamples = 60_000

// headChunk holds one series' samples of one window in memory, XOR-encoded
// (about 1.5 bytes a sample) until the window is compacted.
type headChunk struct {
	window     int64 // start of the window (ms)
	minT, maxT int64
	chunk      *chunkenc.XORChunk
	app        chunkenc.Appender
}

// append adds a sample newer than every sample of the series; it reports
// false (and stores nothing) for a sample that is not.
func (s *memSeries) append(t int64, v float64, window int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	var c *headChunk
	if n := len(s.head); n > 0 {
		c = s.head[n-1]
		if t <= c.maxT {
			return false
		}
		if c.window != window || c.chunk.NumSamples() >= maxHeadChunkSamples {
			c = nil
		}
	}
	if c == nil {
		xc := chunkenc.NewXORChunk()
		app, err := xc.Appender()
		if err != nil { // cannot happen for a new chunk
			panic(err)
		}
		c = &headChunk{window: window, minT: t, chunk: xc, app: app}
		s.head = append(s.head, c)
	}
	c.app.Append(0, t, v)
	c.maxT = t
	if h := s.held.Load(); h != nil && h.t <= t {
		s.held.Store(nil)
	}
	for {
		last := s.lastT.Load()
		if t <= last || s.lastT.CompareAndSwap(last, t) {
			break
		}
	}
	return true
}

// heldSample is the newest sample of a series that a failing disk refused.
// Queries see it until a newer sample is stored, so current values, the
// dashboard and alert rules (GpuwdStorageNotWritable among them) keep
// working while the disk is full. It is never written: history has a gap
// for that time, and a restart forgets it.
type heldSample struct {
	t int64
	v float64
}

// hold keeps a refused sample if it is the series' newest.
func (s *memSeries) hold(t int64, v float64) {
	for {
		cur := s.held.Load()
		if t <= s.lastT.Load() || (cur != nil && t <= cur.t) {
			return
		}
		if s.held.CompareAndSwap(cur, &heldSample{t: t, v: v}) {
			return
		}
	}
}

// heldAfterHead is the held sample, if it is newer than every stored one.
func (s *memSeries) heldAfterHead() (heldSample, bool) {
	h := s.held.Load()
	if h == nil || h.t <= s.lastT.Load() {
		return heldSample{}, false
	}
	return *h, true
}

// newestT is the time of the newest sample queries see (ms).
func (s *memSeries) newestT() int64 {
	if h, ok := s.heldAfterHead(); ok {
		return h.t
	}
	return s.lastT.Load()
}

// heldSegment is the held sample as a one-sample head segment.
func heldSegment(h heldSample) segment {
	xc := chunkenc.NewXORChunk()
	app, err := xc.Appender()
	if err != nil { // cannot happen for a new chunk
		panic(err)
	}
	app.Append(0, h.t, h.v)
	return segment{kind: segHead, minT: h.t, maxT: h.t, data: xc.Bytes()}
}

// headCopy is a stable copy of a head chunk's bytes for a reader.
type headCopy struct {
	minT, maxT int64
	data       []byte
}

// headOverlapping copies the head chunks that hold samples in [mint, maxt].
func (s *memSeries) headOverlapping(mint, maxt int64, dst []headCopy) []headCopy {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.head {
		if c.maxT >= mint && c.minT <= maxt {
			dst = append(dst, headCopy{minT: c.minT, maxT: c.maxT, data: slices.Clone(c.chunk.Bytes())})
		}
	}
	return dst
}

// headBefore returns the samples of the head chunks whose window starts
// before end, for compaction, grouped by window.
func (s *memSeries) headBefore(end int64) []windowSamples {
	s.mu.Lock()
	copies := make([]headCopy, 0, 2)
	var windows []int64
	for _, c := range s.head {
		if c.window < end {
			copies = append(copies, headCopy{minT: c.minT, maxT: c.maxT, data: slices.Clone(c.chunk.Bytes())})
			windows = append(windows, c.window)
		}
	}
	s.mu.Unlock()
	var out []windowSamples
	var it chunkenc.Iterator
	xc := chunkenc.NewXORChunk()
	for i, c := range copies {
		if len(out) == 0 || out[len(out)-1].window != windows[i] {
			out = append(out, windowSamples{window: windows[i]})
		}
		ws := &out[len(out)-1]
		xc.Reset(c.data)
		it = xc.Iterator(it)
		for it.Next() == chunkenc.ValFloat {
			t, v := it.At()
			ws.ts = append(ws.ts, t)
			ws.vs = append(ws.vs, v)
		}
	}
	return out
}

// dropHeadBefore forgets the head chunks of windows that start before end;
// it reports whether the series still has head samples.
func (s *memSeries) dropHeadBefore(end int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.head = slices.DeleteFunc(s.head, func(c *headChunk) bool { return c.window < end })
	return len(s.head) > 0
}

// windowSamples are one series' samples of one window.
type windowSamples struct {
	window int64
	ts     []int64
	vs     []float64
}
