package ruletest

import (
	"context"
	"errors"
	"math"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/rules"
)

func TestStoreAppendFollowsTSDB(t *testing.T) {
	s := NewStore()
	a := labels.FromStrings("__name__", "a")
	if err := s.Append(a, 1000, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(a, 1000, 1); err != nil {
		t.Errorf("exact duplicate: %v, want accepted", err)
	}
	if err := s.Append(a, 1000, 2); !errors.Is(err, storage.ErrDuplicateSampleForTimestamp) {
		t.Errorf("same time, other value: %v", err)
	}
	if err := s.Append(a, 999, 1); !errors.Is(err, storage.ErrOutOfOrderSample) {
		t.Errorf("older sample: %v", err)
	}
	if err := s.Append(a, 2000, stale); err != nil {
		t.Errorf("stale marker: %v", err)
	}
	if err := s.Append(a, 2000, stale); err != nil {
		t.Errorf("same stale marker again: %v", err)
	}
	if err := s.Append(labels.EmptyLabels(), 0, 1); err == nil {
		t.Error("empty label set accepted")
	}
	if got := s.series[string(a.Bytes(nil))]; !slices.Equal(got.ts, []int64{1000, 2000}) {
		t.Errorf("stored times %v", got.ts)
	}
}

func TestStoreWriteIsARuleSink(t *testing.T) {
	var _ rules.Sink = NewStore()
	s := NewStore()
	a := labels.FromStrings("__name__", "a")
	ctx := context.Background()
	if err := s.Write(ctx, promql.Vector{{Metric: a, T: 1000, F: 1}}); err != nil {
		t.Fatal(err)
	}
	// Another rule's stale marker for a series written at the same time is
	// dropped silently, as Prometheus does.
	if err := s.Write(ctx, promql.Vector{{Metric: a, T: 1000, F: stale}}); err != nil {
		t.Errorf("stale marker refused loudly: %v", err)
	}
	b := labels.FromStrings("__name__", "b")
	err := s.Write(ctx, promql.Vector{{Metric: a, T: 1000, F: 5}, {Metric: b, T: 1000, F: 7}})
	if !errors.Is(err, storage.ErrDuplicateSampleForTimestamp) {
		t.Errorf("conflicting sample: %v", err)
	}
	if s.series[string(b.Bytes(nil))] == nil {
		t.Error("the valid sample of a partly refused write was dropped")
	}
	err = s.Write(ctx, promql.Vector{{Metric: b, T: 2000, H: &histogram.FloatHistogram{}}})
	if !errors.Is(err, ErrHistogram) {
		t.Errorf("histogram: %v", err)
	}
}

// instant queries the store through the aggregator's engine settings.
func instant(t *testing.T, s *Store, q string, at time.Duration) promql.Vector {
	t.Helper()
	v, err := rules.EngineQueryFunc(newEngine(time.Minute), s)(context.Background(), q, time.Unix(0, 0).Add(at))
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}

func TestStoreStalenessAndLookback(t *testing.T) {
	s := NewStore()
	in, err := newInputSeries([]series{
		{Series: `x{i="stale"}`, Values: "1 2 stale 4"},
		{Series: `x{i="gap"}`, Values: "1 _x5 7"},
	}, time.Unix(0, 0), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := in.loadTill(s, math.MaxInt64); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at   time.Duration
		want []string
	}{
		{time.Minute, []string{`{__name__="x", i="gap"} => 1`, `{__name__="x", i="stale"} => 2`}},
		// The stale marker ends its series at once; the gap is bridged
		// for the lookback delta (5m, left-open).
		{2 * time.Minute, []string{`{__name__="x", i="gap"} => 1`}},
		{150 * time.Second, []string{`{__name__="x", i="gap"} => 1`}},
		{3 * time.Minute, []string{`{__name__="x", i="gap"} => 1`, `{__name__="x", i="stale"} => 4`}},
		{5*time.Minute - time.Second, []string{`{__name__="x", i="gap"} => 1`, `{__name__="x", i="stale"} => 4`}},
		{5 * time.Minute, []string{`{__name__="x", i="stale"} => 4`}},
		{6 * time.Minute, []string{`{__name__="x", i="gap"} => 7`, `{__name__="x", i="stale"} => 4`}},
	} {
		var got []string
		for _, smpl := range instant(t, s, "x", tc.at) {
			got = append(got, smpl.Metric.String()+" => "+promqlValue(smpl.F))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("x at %s = %q, want %q", tc.at, got, tc.want)
		}
	}
	v := instant(t, s, "count_over_time(x[10m])", 9*time.Minute)
	if len(v) != 2 || v[0].F != 2 || v[1].F != 3 {
		t.Errorf("count_over_time = %v, want gap 2, stale 3 (the marker is no sample)", v)
	}
}

func promqlValue(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func TestStoreQuerier(t *testing.T) {
	s := NewStore()
	for _, l := range []labels.Labels{
		labels.FromStrings("__name__", "up", "job", "b", "instance", "2"),
		labels.FromStrings("__name__", "up", "job", "a", "instance", "1"),
		labels.FromStrings("__name__", "temp", "job", "a", "gpu", "0"),
	} {
		for ts := int64(0); ts <= 3000; ts += 1000 {
			if err := s.Append(l, ts, float64(ts)); err != nil {
				t.Fatal(err)
			}
		}
	}
	q, err := s.Querier(1000, 2000)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	ctx := context.Background()
	set := q.Select(ctx, true, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "up"))
	var names []string
	for set.Next() {
		sr := set.At()
		names = append(names, sr.Labels().Get("job"))
		it := sr.Iterator(nil)
		var ts []int64
		for it.Next() != 0 {
			ts = append(ts, it.AtT())
		}
		if !slices.Equal(ts, []int64{1000, 2000}) {
			t.Errorf("%s: samples at %v, want clipped to [1000, 2000]", sr.Labels(), ts)
		}
	}
	if set.Err() != nil || !slices.Equal(names, []string{"a", "b"}) {
		t.Errorf("selected %v (%v), want a, b in label order", names, set.Err())
	}
	vals, _, _ := q.LabelValues(ctx, "job", nil)
	names, _, _ = q.LabelNames(ctx, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "temp"))
	if !slices.Equal(vals, []string{"a", "b"}) || !slices.Equal(names, []string{"__name__", "gpu", "job"}) {
		t.Errorf("label values %v, names %v", vals, names)
	}
	late, _ := s.Querier(5000, 6000)
	if late.Select(ctx, true, nil, labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+")).Next() {
		t.Error("a series without samples in range was selected")
	}
}

func TestStoreConcurrentWritesAndQueries(t *testing.T) {
	s := NewStore()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			l := labels.FromStrings("__name__", "x", "w", string(rune('a'+w)))
			for ts := range int64(200) {
				if err := s.Append(l, ts*1000, 1); err != nil {
					t.Error(err)
					return
				}
			}
		})
		wg.Go(func() {
			for range 50 {
				instant(t, s, "sum(count_over_time(x[10m]))", 100*time.Second)
			}
		})
	}
	wg.Wait()
	if v := instant(t, s, "sum(count_over_time(x[10m]))", 200*time.Second); len(v) != 1 || v[0].F != 4*200 {
		t.Errorf("got %v, want 800 samples", v)
	}
}
