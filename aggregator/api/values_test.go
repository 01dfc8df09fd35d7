package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
)

// encode returns what an encoder writes for a.
func encode(a jsonAppender) string {
	var out bytes.Buffer
	e := getEncoder(&out)
	defer putEncoder(e)
	a.appendJSON(e)
	e.flush()
	return out.String()
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{
		"", "plain", `quote " backslash \ slash /`, "<tag> & amp", "\n\r\t\b\f\x00\x01\x1f\x7f",
		"é ü 中文 🚀", "line\u2028sep\u2029", "bad \xff utf8 \xc3", "{{ $labels.gpu }}",
	} {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendString(nil, s); string(got) != string(want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	}
}

func TestSampleValueAndTimestampFormats(t *testing.T) {
	for _, tc := range []struct {
		f    float64
		want string
	}{
		{0, `"0"`}, {math.Copysign(0, -1), `"-0"`}, {1, `"1"`}, {0.1, `"0.1"`}, {-2.5, `"-2.5"`},
		{1e-6, `"0.000001"`}, {9.9e-7, `"9.9e-07"`}, {123456789012, `"123456789012"`},
		{1e20, `"100000000000000000000"`}, {1e21, `"1e+21"`},
		{math.NaN(), `"NaN"`}, {math.Inf(1), `"+Inf"`}, {math.Inf(-1), `"-Inf"`},
	} {
		if got := string(appendSampleValue(nil, tc.f)); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.f, got, tc.want)
		}
	}
	for _, tc := range []struct {
		ms   int64
		want string
	}{
		{0, "0"}, {1700000000000, "1700000000"}, {1700000000123, "1700000000.123"},
		{1700000000500, "1700000000.500"}, {1700000000007, "1700000000.007"}, {-1500, "-1.500"},
	} {
		if got := string(appendTimestamp(nil, tc.ms)); got != tc.want {
			t.Errorf("%d: %s, want %s", tc.ms, got, tc.want)
		}
	}
	// Scalars and strings as promql's own MarshalJSON writes them.
	for _, s := range []promql.Scalar{{T: 1700000000500, V: 70}, {T: 0, V: 1e-9}, {T: -1, V: math.Inf(1)}, {T: 1700000000123, V: 1e300}} {
		want, err := s.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if got := encode(&queryData{value: s}); got != `{"resultType":"scalar","result":`+string(want)+`}` {
			t.Errorf("%v: %s, want %s", s, got, want)
		}
	}
	str := promql.String{T: 1700000000001, V: `a "<b>"`}
	want, _ := str.MarshalJSON()
	if got := encode(&queryData{value: str}); got != `{"resultType":"string","result":`+string(want)+`}` {
		t.Errorf("string: %s, want %s", got, want)
	}
}

func TestHistogramEncoding(t *testing.T) {
	h := &histogram.FloatHistogram{
		Schema: 0, Count: 3, Sum: 5, ZeroThreshold: 0.001, ZeroCount: 1,
		PositiveSpans: []histogram.Span{{Offset: 0, Length: 3}}, PositiveBuckets: []float64{1, 0, 1},
	}
	v := promql.Vector{{T: 1700000000000, H: h, Metric: labels.FromStrings("__name__", "lat")}}
	want := `{"resultType":"vector","result":[{"metric":{"__name__":"lat"},"histogram":[1700000000,` +
		`{"count":"3","sum":"5","buckets":[[3,"-0.001","0.001","1"],[0,"0.5","1","1"],[0,"2","4","1"]]}]}]}`
	if got := encode(&queryData{value: v}); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	m := promql.Matrix{{Metric: labels.FromStrings("__name__", "lat"), Histograms: []promql.HPoint{{T: 1000, H: &histogram.FloatHistogram{Count: 0, Sum: 0}}}}}
	if got := encode(&queryData{value: m}); got != `{"resultType":"matrix","result":[{"metric":{"__name__":"lat"},"histograms":[[1,{"count":"0","sum":"0"}]]}]}` {
		t.Errorf("histogram-only series: %s", got)
	}
}

// bigMatrix is a dashboard-sized result: series × points, a minute apart,
// with a fleet's labels.
func bigMatrix(series, points int) promql.Matrix {
	m := make(promql.Matrix, series)
	for i := range m {
		m[i].Metric = labels.FromStrings("__name__", "gpu_utilization_percent", "gpu", strconv.Itoa(i%8),
			"instance", fmt.Sprintf("node-%03d.cluster.local:9400", i/8), "job", "gpu", "model", "NVIDIA H100 80GB HBM3",
			"uuid", fmt.Sprintf("GPU-%08x-1f2e-4d3c-8b9a-%012x", i, i*7919))
		m[i].Floats = make([]promql.FPoint, points)
		for j := range points {
			m[i].Floats[j] = promql.FPoint{T: 1700000000000 + int64(j)*60000, F: float64((i*31+j*17)%10000) / 100}
		}
	}
	return m
}

// A big matrix decodes with the client's model types to what was encoded.
func TestMatrixRoundTrip(t *testing.T) {
	m := bigMatrix(50, 200)
	m[3].Floats[7].F = math.NaN()
	m[4].Floats[0].F = math.Inf(-1)
	m[5].Floats[9].F = 3e-9
	body := encode(&queryData{value: m})
	v, err := decodeValue([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	got := v.(model.Matrix)
	if len(got) != len(m) {
		t.Fatalf("%d series, want %d", len(got), len(m))
	}
	for i, s := range got {
		if s.Metric["uuid"] != model.LabelValue(m[i].Metric.Get("uuid")) || len(s.Values) != len(m[i].Floats) {
			t.Fatalf("series %d: %v, %d points", i, s.Metric, len(s.Values))
		}
		for j, p := range s.Values {
			want := m[i].Floats[j]
			if int64(p.Timestamp) != want.T || (float64(p.Value) != want.F && !(math.IsNaN(want.F) && math.IsNaN(float64(p.Value)))) {
				t.Fatalf("series %d point %d: %v, want %v", i, j, p, want)
			}
		}
	}
}

// BenchmarkEncodeMatrix encodes an 800-series × 1440-point range result (a
// day at one-minute steps for 100 nodes of 8 GPUs), as /query_range writes
// it, and with encoding/json over client_golang's model.Matrix for scale.
func BenchmarkEncodeMatrix(b *testing.B) {
	m := bigMatrix(800, 1440)
	b.Run("api", func(b *testing.B) {
		d := &queryData{value: m}
		b.SetBytes(int64(len(encode(d))))
		b.ReportAllocs()
		for b.Loop() {
			e := getEncoder(io.Discard)
			d.appendJSON(e)
			e.flush()
			putEncoder(e)
		}
	})
	b.Run("encoding-json-model", func(b *testing.B) {
		mm, err := decodeValue([]byte(encode(&queryData{value: m})))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if err := json.NewEncoder(io.Discard).Encode(mm); err != nil {
				b.Fatal(err)
			}
		}
	})
}
