package api

import (
	"math"
	"strconv"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
)

// queryData is the data of /query and /query_range:
// {"resultType":"matrix","result":[…],"stats":{…}}.
type queryData struct {
	value parser.Value
	stats []byte // encoded stats, when asked for
}

func (d *queryData) appendJSON(e *encoder) {
	e.buf = append(e.buf, `{"resultType":`...)
	e.buf = appendString(e.buf, string(d.value.Type()))
	e.buf = append(e.buf, `,"result":`...)
	switch v := d.value.(type) {
	case promql.Matrix:
		appendMatrix(e, v)
	case promql.Vector:
		appendVector(e, v)
	case promql.Scalar:
		e.buf = appendScalar(e.buf, v.T, strconv.FormatFloat(v.V, 'f', -1, 64))
	case promql.String:
		e.buf = appendScalar(e.buf, v.T, v.V)
	default:
		e.buf = append(e.buf, "null"...)
	}
	if d.stats != nil {
		e.buf = append(e.buf, `,"stats":`...)
		e.buf = append(e.buf, d.stats...)
	}
	e.buf = append(e.buf, '}')
}

// appendMatrix writes [{"metric":{…},"values":[[t,"v"],…]},…], as
// Prometheus does: "values" is left out of a series without float points,
// and "histograms" follows for one with histogram points.
func appendMatrix(e *encoder, m promql.Matrix) {
	e.buf = append(e.buf, '[')
	for i, s := range m {
		b := e.buf
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"metric":`...)
		b = appendLabels(b, s.Metric)
		if len(s.Floats) > 0 {
			b = append(b, `,"values":[`...)
			for j, p := range s.Floats {
				if j > 0 {
					b = append(b, ',')
				}
				b = append(b, '[')
				b = appendTimestamp(b, p.T)
				b = append(b, ',')
				b = appendSampleValue(b, p.F)
				b = append(b, ']')
			}
			b = append(b, ']')
		}
		if len(s.Histograms) > 0 {
			b = append(b, `,"histograms":[`...)
			for j, p := range s.Histograms {
				if j > 0 {
					b = append(b, ',')
				}
				b = append(b, '[')
				b = appendTimestamp(b, p.T)
				b = append(b, ',')
				b = appendHistogram(b, p.H)
				b = append(b, ']')
			}
			b = append(b, ']')
		}
		e.buf = append(b, '}')
		e.maybeFlush()
		if e.err != nil {
			return // the client is gone; the rest would be thrown away
		}
	}
	e.buf = append(e.buf, ']')
}

// appendVector writes [{"metric":{…},"value":[t,"v"]},…]; a histogram
// sample has "histogram":[t,{…}] instead of "value".
func appendVector(e *encoder, v promql.Vector) {
	e.buf = append(e.buf, '[')
	for i, s := range v {
		b := e.buf
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"metric":`...)
		b = appendLabels(b, s.Metric)
		if s.H == nil {
			b = append(b, `,"value":[`...)
			b = appendTimestamp(b, s.T)
			b = append(b, ',')
			b = appendSampleValue(b, s.F)
		} else {
			b = append(b, `,"histogram":[`...)
			b = appendTimestamp(b, s.T)
			b = append(b, ',')
			b = appendHistogram(b, s.H)
		}
		e.buf = append(b, "]}"...)
		e.maybeFlush()
		if e.err != nil {
			return
		}
	}
	e.buf = append(e.buf, ']')
}

// appendScalar writes a scalar or string result, [t,"v"], the way
// promql.Scalar and promql.String marshal themselves: the time as a JSON
// float (1700000000.5, where a vector sample says 1700000000.500).
func appendScalar(b []byte, t int64, v string) []byte {
	b = append(b, '[')
	b = strconv.AppendFloat(b, float64(t)/1000, 'f', -1, 64)
	b = append(b, ',')
	b = appendString(b, v)
	return append(b, ']')
}

// appendLabels writes a label set as a JSON object in label order.
func appendLabels(b []byte, ls labels.Labels) []byte {
	b = append(b, '{')
	first := true
	ls.Range(func(l labels.Label) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, l.Name)
		b = append(b, ':')
		b = appendString(b, l.Value)
	})
	return append(b, '}')
}

// appendTimestamp writes milliseconds as seconds with up to three decimals,
// like Prometheus' jsonutil.MarshalTimestamp: 1700000000123 is
// 1700000000.123, 1700000000500 is 1700000000.500 and 1700000000000 is
// 1700000000.
func appendTimestamp(b []byte, t int64) []byte {
	if t < 0 {
		b = append(b, '-')
		t = -t
	}
	b = strconv.AppendInt(b, t/1000, 10)
	if frac := t % 1000; frac != 0 {
		b = append(b, '.')
		if frac < 100 {
			b = append(b, '0')
		}
		if frac < 10 {
			b = append(b, '0')
		}
		b = strconv.AppendInt(b, frac, 10)
	}
	return b
}

// appendSampleValue writes a sample value as a JSON string the way
// Prometheus' jsonutil.MarshalFloat does: shortest 'f' formatting, 'e' for
// magnitudes below 1e-6 or from 1e21, and NaN, +Inf, -Inf as such.
func appendSampleValue(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = append(b, '"')
	b = strconv.AppendFloat(b, f, format, -1, 64)
	return append(b, '"')
}

// appendHistogram writes a native histogram as Prometheus'
// jsonutil.MarshalHistogram does: count, sum and the non-empty buckets as
// [boundaryRule, "lower", "upper", "count"].
func appendHistogram(b []byte, h *histogram.FloatHistogram) []byte {
	b = append(b, `{"count":`...)
	b = appendSampleValue(b, h.Count)
	b = append(b, `,"sum":`...)
	b = appendSampleValue(b, h.Sum)
	found := false
	for it := h.AllBucketIterator(); it.Next(); {
		bucket := it.At()
		if bucket.Count == 0 {
			continue
		}
		if found {
			b = append(b, ',')
		} else {
			b = append(b, `,"buckets":[`...)
			found = true
		}
		// 0: (lower, upper], 1: [lower, upper), 2: (lower, upper), 3: [lower, upper]
		rule := 2
		switch {
		case bucket.LowerInclusive && bucket.UpperInclusive:
			rule = 3
		case bucket.LowerInclusive:
			rule = 1
		case bucket.UpperInclusive:
			rule = 0
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(rule), 10)
		b = append(b, ',')
		b = appendSampleValue(b, bucket.Lower)
		b = append(b, ',')
		b = appendSampleValue(b, bucket.Upper)
		b = append(b, ',')
		b = appendSampleValue(b, bucket.Count)
		b = append(b, ']')
	}
	if found {
		b = append(b, ']')
	}
	return append(b, '}')
}

// seriesList is /series' data: [{"__name__":"up",…},…].
type seriesList []labels.Labels

func (l seriesList) appendJSON(e *encoder) {
	e.buf = append(e.buf, '[')
	for i, ls := range l {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = appendLabels(e.buf, ls)
		e.maybeFlush()
	}
	e.buf = append(e.buf, ']')
}
