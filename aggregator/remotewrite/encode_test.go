package remotewrite

import (
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
)

func decodeBatches(t *testing.T, bs []batch) []*prompb.WriteRequest {
	t.Helper()
	out := make([]*prompb.WriteRequest, len(bs))
	for i, b := range bs {
		wr, err := decodeBody(b.body)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		minT, maxT := int64(1<<62), int64(-1<<62)
		for _, ts := range wr.Timeseries {
			n += len(ts.Samples)
			for _, s := range ts.Samples {
				minT, maxT = min(minT, s.Timestamp), max(maxT, s.Timestamp)
			}
		}
		if n != b.samples || minT != b.minT || maxT != b.maxT {
			t.Errorf("batch %d says %d samples %d..%d, holds %d samples %d..%d", i, b.samples, b.minT, b.maxT, n, minT, maxT)
		}
		out[i] = wr
	}
	return out
}

// render is a request as "labels: t=v t=v; labels: …".
func render(wr *prompb.WriteRequest) string {
	s := ""
	for i, ts := range wr.Timeseries {
		if i > 0 {
			s += "; "
		}
		s += promLabels(ts.Labels) + ":"
		for _, smp := range ts.Samples {
			s += " " + itoa(int(smp.Timestamp)) + "=" + itoa(int(smp.Value))
		}
	}
	return s
}

func TestEncodeGroupsSplitsAndOrders(t *testing.T) {
	a := labels.FromStrings("__name__", "a")
	b := labels.FromStrings("__name__", "b")
	e := newEncoder(nil, 4)
	in := []Sample{{a, 3, 3}, {b, 1, 10}, {a, 1, 1}, {a, 2, 2}, {b, 2, 20}, {a, 1, 9}, {a, 5, 5}, {b, 3, 30}, {a, 4, 4}}
	got := decodeBatches(t, e.encode(in, nil))
	want := []string{
		`__name__="a": 1=9 2=2 3=3 4=4`, // the 1=1 duplicate lost to the later 1=9
		`__name__="a": 5=5; __name__="b": 1=10 2=20 3=30`,
	}
	if len(got) != len(want) {
		t.Fatalf("%d batches, want %d", len(got), len(want))
	}
	for i := range want {
		if r := render(got[i]); r != want[i] {
			t.Errorf("batch %d = %s, want %s", i, r, want[i])
		}
	}
	// The encoder's buffers are reused: a second flush owes nothing to the
	// first.
	got = decodeBatches(t, e.encode([]Sample{{b, 7, 7}}, nil))
	if len(got) != 1 || render(got[0]) != `__name__="b": 7=7` {
		t.Errorf("second flush: %v", got)
	}
}

func TestEncodeExternalLabels(t *testing.T) {
	ext := externalLabels(map[string]string{"a": "1", "job": "ext", "zone": "z9", "empty": ""})
	e := newEncoder(ext, 100)
	in := []Sample{
		{labels.FromStrings("__name__", "up", "job", "gpuwd"), 1, 1},
		{labels.FromStrings("__name__", "up", "zzz", "last"), 1, 1},
	}
	got := decodeBatches(t, e.encode(in, nil))
	want := `__name__="up",a="1",job="gpuwd",zone="z9": 1=1; __name__="up",a="1",job="ext",zone="z9",zzz="last": 1=1`
	if r := render(got[0]); r != want {
		t.Errorf("got  %s\nwant %s", r, want)
	}
}

// TestEncodeHashCollision forces two label sets onto one hash bucket.
func TestEncodeHashCollision(t *testing.T) {
	a := labels.FromStrings("__name__", "a")
	b := labels.FromStrings("__name__", "b")
	e := newEncoder(nil, 100)
	e.group([]Sample{{a, 1, 1}})
	e.index[b.Hash()] = 0 // b's bucket now starts at a's series
	e.group([]Sample{{b, 1, 10}, {a, 2, 2}, {b, 2, 20}})
	if e.n != 2 || !labels.Equal(e.series[1].lset, b) || len(e.series[0].samples) != 2 || len(e.series[1].samples) != 2 {
		t.Fatalf("collision mixed the series: %+v", e.series[:e.n])
	}
	e.reset()
}
