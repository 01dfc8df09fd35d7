package ruletest

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// ErrHistogram is returned for input or expected values in native
// histogram notation, which the store does not hold.
var ErrHistogram = errors.New("native histograms are not supported")

// Sample is one point of a series: T in Unix milliseconds.
type Sample struct {
	T int64
	F float64
}

// ExpandSeries parses one input_series entry: series is a metric in the
// usual notation (`up{job="gpu"}`), values is promtool's expanding notation
// ('1+2x10', '1x5', '-2+4x3', '_' for a missing sample, 'stale' for a stale
// marker). The i-th value is stamped start + i*interval; missing samples
// leave a gap, stale ones are value.StaleNaN.
func ExpandSeries(series, values string, start time.Time, interval time.Duration) (labels.Labels, []Sample, error) {
	p := parser.NewParser(parser.Options{})
	lset, vals, err := p.ParseSeriesDesc(series + " " + values)
	if err != nil {
		return labels.EmptyLabels(), nil, fmt.Errorf("series %s: %w", series, err)
	}
	if interval <= 0 {
		return labels.EmptyLabels(), nil, fmt.Errorf("series %s: interval must be positive, not %s", series, interval)
	}
	samples := make([]Sample, 0, len(vals))
	for i, v := range vals {
		if v.Histogram != nil {
			return labels.EmptyLabels(), nil, fmt.Errorf("series %s: %w", series, ErrHistogram)
		}
		if v.Omitted {
			continue
		}
		t := start.Add(time.Duration(i) * interval)
		samples = append(samples, Sample{T: t.UnixMilli(), F: v.Value})
	}
	return lset, samples, nil
}

// inputSeries are a test group's input series, handed to the store step by
// step as promtool's lazy loader does, so that rules never see a sample
// from after the time they are evaluated at.
type inputSeries struct {
	order   []uint64 // first appearance; a series given twice keeps its last values
	metrics map[uint64]labels.Labels
	pending map[uint64][]Sample
}

func newInputSeries(defs []series, start time.Time, interval time.Duration) (*inputSeries, error) {
	in := &inputSeries{metrics: map[uint64]labels.Labels{}, pending: map[uint64][]Sample{}}
	for _, d := range defs {
		lset, samples, err := ExpandSeries(d.Series, d.Values, start, interval)
		if err != nil {
			return nil, err
		}
		h := lset.Hash()
		if _, ok := in.metrics[h]; !ok {
			in.order = append(in.order, h)
		}
		in.metrics[h], in.pending[h] = lset, samples
	}
	return in, nil
}

// loadTill appends to s every pending sample at or before t (Unix ms).
func (in *inputSeries) loadTill(s *Store, t int64) error {
	for _, h := range in.order {
		samples := in.pending[h]
		n := 0
		for n < len(samples) && samples[n].T <= t {
			if err := s.Append(in.metrics[h], samples[n].T, samples[n].F); err != nil {
				return err
			}
			n++
		}
		in.pending[h] = samples[n:]
	}
	return nil
}
