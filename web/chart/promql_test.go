package chart

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
)

// floats returns samples every 15 s from t0 for the given values; a value of
// -1 leaves the sample out.
func floats(vals ...float64) []promql.FPoint {
	var out []promql.FPoint
	for i, v := range vals {
		if v == -1 {
			continue
		}
		out = append(out, promql.FPoint{T: t0.Add(time.Duration(i) * 15 * time.Second).UnixMilli(), F: v})
	}
	return out
}

func TestFromMatrix(t *testing.T) {
	stale := math.Float64frombits(value.StaleNaN)
	m := promql.Matrix{
		{Metric: labels.FromStrings("__name__", "gpu_util", "gpu", "10"), Floats: floats(1, 2, 3)},
		{Metric: labels.FromStrings("__name__", "gpu_util", "gpu", "2"), Floats: floats(1, stale, 3, -1, -1, -1, 7, 8)},
		{Metric: labels.FromStrings("__name__", "gpu_util", "gpu", "1"), Histograms: []promql.HPoint{{T: t0.UnixMilli(), H: &histogram.FloatHistogram{}}}},
	}
	got := FromMatrix(m, func(l labels.Labels) string { return "GPU " + l.Get("gpu") })
	if names := []string{got[0].Name, got[1].Name}; len(got) != 2 || !slices.Equal(names, []string{"GPU 2", "GPU 10"}) {
		t.Fatalf("series %v, want GPU 2, GPU 10 (histogram-only dropped)", got)
	}
	var vals []float64
	var offs []time.Duration
	for _, p := range got[0].Points {
		vals = append(vals, p.V)
		offs = append(offs, p.T.Sub(t0))
	}
	nan := math.NaN()
	// The stale marker is a NaN; the 60 s hole gets a NaN one step after 3.
	if want := []float64{1, nan, 3, nan, 7, 8}; !slices.EqualFunc(vals, want, sameFloat) {
		t.Errorf("values %v, want %v", vals, want)
	}
	if want := []time.Duration{0, 15 * time.Second, 30 * time.Second, 45 * time.Second, 90 * time.Second, 105 * time.Second}; !slices.Equal(offs, want) {
		t.Errorf("times %v, want %v", offs, want)
	}
	if math.Float64bits(vals[1]) == value.StaleNaN {
		t.Error("stale marker passed through as is")
	}
	if got[0].Points[0].T.Location() != time.UTC {
		t.Error("times not in UTC")
	}

	// Drawn, the hole and the stale marker break the line.
	d := doc(t, render(t, TimeSeries(Chart{Series: got[:1]})))
	path, _ := d.Find(".chart-lines path").Attr("d")
	if n := strings.Count(path, "M"); n != 3 {
		t.Errorf("%d subpaths in %q, want 3", n, path)
	}
}

func TestFromMatrixDefaultNames(t *testing.T) {
	m := promql.Matrix{
		{Metric: labels.FromStrings("__name__", "up"), Floats: floats(1)},
		{Metric: labels.FromStrings("__name__", "gpu_temp", "gpu", "0", "host", "a"), Floats: floats(60)},
		{Metric: labels.FromStrings("gpu", "1"), Floats: floats(61)},
	}
	var names []string
	for _, s := range FromMatrix(m, nil) {
		names = append(names, s.Name)
	}
	if want := []string{"up", `{gpu="0", host="a"}`, `{gpu="1"}`}; !slices.Equal(names, want) {
		t.Errorf("names %q, want %q", names, want)
	}
}

func TestNaturalCompare(t *testing.T) {
	in := []string{"GPU 10", "GPU 2", "node-b/GPU 1", "GPU 1", "node-a/GPU 10", "node-a/GPU 9", "GPU 02", "gpu"}
	slices.SortStableFunc(in, naturalCompare)
	want := []string{"GPU 1", "GPU 02", "GPU 2", "GPU 10", "gpu", "node-a/GPU 9", "node-a/GPU 10", "node-b/GPU 1"}
	if !slices.Equal(in, want) {
		t.Errorf("sorted %q, want %q", in, want)
	}
}
