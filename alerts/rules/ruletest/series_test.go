package ruletest

import (
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
)

var stale = math.Float64frombits(value.StaleNaN)

func TestExpandSeries(t *testing.T) {
	m := int64(time.Minute / time.Millisecond)
	for _, tc := range []struct {
		values string
		want   []Sample
	}{
		{"1+2x3", []Sample{{0, 1}, {m, 3}, {2 * m, 5}, {3 * m, 7}}},
		{"1x4", []Sample{{0, 1}, {m, 1}, {2 * m, 1}, {3 * m, 1}, {4 * m, 1}}},
		{"-2+4x3", []Sample{{0, -2}, {m, 2}, {2 * m, 6}, {3 * m, 10}}},
		{"1-2x4", []Sample{{0, 1}, {m, -1}, {2 * m, -3}, {3 * m, -5}, {4 * m, -7}}},
		{"1 _x3 stale", []Sample{{0, 1}, {4 * m, stale}}},
		{"_ 5 _ 7", []Sample{{m, 5}, {3 * m, 7}}},
		{"10+10x2 30+20x1", []Sample{{0, 10}, {m, 20}, {2 * m, 30}, {3 * m, 30}, {4 * m, 50}}},
		{"1.5e3 -Inf", []Sample{{0, 1500}, {m, math.Inf(-1)}}},
	} {
		lset, got, err := ExpandSeries(`up{job="gpu"}`, tc.values, time.Unix(0, 0), time.Minute)
		if err != nil {
			t.Errorf("%q: %v", tc.values, err)
			continue
		}
		if want := labels.FromStrings("__name__", "up", "job", "gpu"); !labels.Equal(lset, want) {
			t.Errorf("%q: labels %s, want %s", tc.values, lset, want)
		}
		same := slices.EqualFunc(got, tc.want, func(a, b Sample) bool {
			return a.T == b.T && math.Float64bits(a.F) == math.Float64bits(b.F)
		})
		if !same {
			t.Errorf("%q: got %v, want %v", tc.values, got, tc.want)
		}
	}
}

func TestExpandSeriesStartAndInterval(t *testing.T) {
	start := time.Unix(1700000000, 0)
	_, got, err := ExpandSeries(`{__name__="x"}`, "1 2 3", start, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	want := []Sample{{1700000000000, 1}, {1700000030000, 2}, {1700000060000, 3}}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestExpandSeriesErrors(t *testing.T) {
	for _, tc := range []struct{ series, values string }{
		{"up", "1 x 2"},
		{"up{", "1"},
		{"up", "one"},
	} {
		if _, _, err := ExpandSeries(tc.series, tc.values, time.Unix(0, 0), time.Minute); err == nil {
			t.Errorf("%s %q: no error", tc.series, tc.values)
		}
	}
	_, _, err := ExpandSeries("h", "{{schema:1 sum:2 count:3 buckets:[1 2]}}x2", time.Unix(0, 0), time.Minute)
	if !errors.Is(err, ErrHistogram) {
		t.Errorf("histogram: %v, want ErrHistogram", err)
	}
	if _, _, err := ExpandSeries("up", "1", time.Unix(0, 0), 0); err == nil {
		t.Error("zero interval accepted")
	}
}

func TestInputSeriesLoadStepByStep(t *testing.T) {
	in, err := newInputSeries([]series{
		{Series: `a`, Values: "1 2 3"},
		{Series: `b`, Values: "9"},
		{Series: `a`, Values: "_ 5 6 7"}, // a series given twice keeps its last values
	}, time.Unix(0, 0), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	s := NewStore()
	count := func() (n int) {
		for _, ms := range s.series {
			n += len(ms.ts)
		}
		return n
	}
	for _, step := range []struct {
		till int64
		want int
	}{{0, 1}, {59999, 1}, {60000, 2}, {180000, 4}, {600000, 4}} {
		if err := in.loadTill(s, step.till); err != nil {
			t.Fatal(err)
		}
		if got := count(); got != step.want {
			t.Errorf("loaded till %d: %d samples, want %d", step.till, got, step.want)
		}
	}
	a := s.series[string(labels.FromStrings("__name__", "a").Bytes(nil))]
	if a == nil || !slices.Equal(a.vs, []float64{5, 6, 7}) {
		t.Errorf("series a = %+v, want the last definition's 5 6 7", a)
	}
}
