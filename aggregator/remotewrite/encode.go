package remotewrite

import (
	"cmp"
	"fmt"
	"slices"
	"sort"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
)

// encoder turns appended samples into request bodies. It keeps its buffers
// from one flush to the next; it is used by one goroutine at a time.
type encoder struct {
	ext    []prompb.Label // external labels, sorted
	max    int            // samples per request
	index  map[uint64]int32
	series []encSeries // in order of first appearance; n in use
	n      int
	ts     []prompb.TimeSeries
	lbls   []prompb.Label // one flush's labels, sliced by ts
	raw    []byte
}

type encSeries struct {
	lset    labels.Labels
	samples []prompb.Sample
	next    int32 // next series with the same hash, or -1
}

func newEncoder(ext []prompb.Label, maxSamples int) *encoder {
	return &encoder{ext: ext, max: maxSamples, index: map[uint64]int32{}}
}

// encode appends to out the request bodies for samples: at most max samples
// each, one TimeSeries per label set with its samples in time order (of two
// samples of a series at the same time the later appended wins: a receiver
// refuses the whole request otherwise). Series keep the order in which they
// first appear, and a series split over two requests has its older samples
// in the first.
func (e *encoder) encode(samples []Sample, out []batch) []batch {
	if len(samples) == 0 {
		return out
	}
	e.group(samples)
	var (
		count      int
		minT, maxT int64
	)
	finish := func() {
		out = append(out, batch{body: e.marshal(), samples: count, minT: minT, maxT: maxT})
		e.ts = e.ts[:0]
		count = 0
	}
	for i := range e.n {
		s := &e.series[i]
		s.samples = timeOrder(s.samples)
		ls := e.seriesLabels(s.lset)
		for off := 0; off < len(s.samples); {
			take := min(e.max-count, len(s.samples)-off)
			part := s.samples[off : off+take]
			if count == 0 {
				minT, maxT = part[0].Timestamp, part[0].Timestamp
			}
			minT = min(minT, part[0].Timestamp)
			maxT = max(maxT, part[len(part)-1].Timestamp)
			e.ts = append(e.ts, prompb.TimeSeries{Labels: ls, Samples: part})
			count += take
			off += take
			if count == e.max {
				finish()
			}
		}
	}
	if count > 0 {
		finish()
	}
	e.reset()
	return out
}

// group sorts the samples into series.
func (e *encoder) group(samples []Sample) {
	for _, smp := range samples {
		h := smp.Labels.Hash()
		i, ok := e.index[h]
		if ok {
			for i >= 0 && !labels.Equal(e.series[i].lset, smp.Labels) {
				i = e.series[i].next
			}
		}
		if !ok || i < 0 {
			i = e.add(smp.Labels)
			if first, ok := e.index[h]; ok {
				e.series[i].next = e.series[first].next // chain behind the first
				e.series[first].next = i
			} else {
				e.index[h] = i
			}
		}
		e.series[i].samples = append(e.series[i].samples, prompb.Sample{Value: smp.V, Timestamp: smp.T})
	}
}

func (e *encoder) add(lset labels.Labels) int32 {
	if e.n == len(e.series) {
		e.series = append(e.series, encSeries{})
	}
	s := &e.series[e.n]
	s.lset, s.samples, s.next = lset, s.samples[:0], -1
	e.n++
	return int32(e.n - 1)
}

// seriesLabels are the series' labels merged with the external labels it lacks,
// sorted by name.
func (e *encoder) seriesLabels(lset labels.Labels) []prompb.Label {
	start := len(e.lbls)
	ext := e.ext
	lset.Range(func(l labels.Label) {
		for len(ext) > 0 && ext[0].Name < l.Name {
			e.lbls = append(e.lbls, ext[0])
			ext = ext[1:]
		}
		if len(ext) > 0 && ext[0].Name == l.Name {
			ext = ext[1:] // the series' own value wins
		}
		e.lbls = append(e.lbls, prompb.Label{Name: l.Name, Value: l.Value})
	})
	e.lbls = append(e.lbls, ext...)
	// Earlier series keep pointing into the old array if this one grew it;
	// nothing is overwritten before reset.
	return e.lbls[start:len(e.lbls):len(e.lbls)]
}

// timeOrder sorts a series' samples by time and keeps the last appended of
// samples with the same time. Samples from scrapes are almost always in
// order already, which costs one pass.
func timeOrder(ss []prompb.Sample) []prompb.Sample {
	ordered := true
	for i := 1; i < len(ss) && ordered; i++ {
		ordered = ss[i-1].Timestamp < ss[i].Timestamp
	}
	if ordered {
		return ss
	}
	slices.SortStableFunc(ss, func(a, b prompb.Sample) int { return cmp.Compare(a.Timestamp, b.Timestamp) })
	out := ss[:0]
	for i, s := range ss {
		if i+1 < len(ss) && ss[i+1].Timestamp == s.Timestamp {
			continue
		}
		out = append(out, s)
	}
	return out
}

// marshal encodes the pending TimeSeries as a snappy-compressed WriteRequest.
func (e *encoder) marshal() []byte {
	req := prompb.WriteRequest{Timeseries: e.ts}
	size := req.Size()
	e.raw = slices.Grow(e.raw[:0], size)[:size]
	n, err := req.MarshalToSizedBuffer(e.raw)
	if err != nil || n != size {
		panic(fmt.Sprintf("remotewrite: marshal a WriteRequest of %d bytes: %d, %v", size, n, err)) // cannot happen
	}
	return snappy.Encode(nil, e.raw)
}

// reset forgets the flush, keeping the buffers.
func (e *encoder) reset() {
	for i := range e.n {
		e.series[i].lset = labels.EmptyLabels()
	}
	e.n = 0
	clear(e.index)
	clear(e.ts[:cap(e.ts)])
	e.ts = e.ts[:0]
	clear(e.lbls)
	e.lbls = e.lbls[:0]
}

// externalLabels sorts the external labels by name, as the protocol wants
// labels; empty values are left out (a label with no value is no label).
func externalLabels(m map[string]string) []prompb.Label {
	var ls []prompb.Label
	for n, v := range m {
		if v != "" {
			ls = append(ls, prompb.Label{Name: n, Value: v})
		}
	}
	sort.Slice(ls, func(i, j int) bool { return ls[i].Name < ls[j].Name })
	return ls
}
