package loadtest

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sort"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// counters is one reading of the aggregator's own /metrics: the families
// the report is made of; the scrape families of the fleet's job only.
type counters struct {
	scrapes      map[string]float64 // gpuwd_scrapes_total by result
	missed       float64            // gpuwd_scrape_missed_total
	appended     float64            // gpuwd_storage_samples_appended_total
	series       float64            // gpuwd_storage_series
	goroutines   float64
	delay        histogram // gpuwd_scrape_delay_seconds
	duration     histogram // gpuwd_scrape_duration_seconds
	ruleFailures float64   // gpuwd_rule_evaluation_failures_total
	ruleMissed   float64   // gpuwd_rule_group_iterations_missed_total
	ruleSeconds  float64   // gpuwd_rule_group_last_duration_seconds, summed over groups
}

// histogram is a cumulative histogram summed over label sets.
type histogram struct {
	count, sum float64
	buckets    map[float64]float64 // upper bound → cumulative count
}

func readCounters(ctx context.Context, client *http.Client, base string) (counters, error) {
	c := counters{scrapes: map[string]float64{}, delay: newHistogram(), duration: newHistogram()}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return c, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return c, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return c, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return c, fmt.Errorf("GET /metrics: %w", err)
	}
	sum := func(name string) float64 {
		total := 0.0
		if f := families[name]; f != nil {
			for _, m := range f.Metric {
				total += value(m)
			}
		}
		return total
	}
	if f := families["gpuwd_scrapes_total"]; f != nil {
		for _, m := range f.Metric {
			if label(m, "job") == fleetJob {
				c.scrapes[label(m, "result")] += value(m)
			}
		}
	}
	if f := families["gpuwd_scrape_missed_total"]; f != nil {
		for _, m := range f.Metric {
			if label(m, "job") == fleetJob {
				c.missed += value(m)
			}
		}
	}
	c.appended = sum("gpuwd_storage_samples_appended_total")
	c.series = sum("gpuwd_storage_series")
	c.goroutines = sum("go_goroutines")
	c.ruleFailures = sum("gpuwd_rule_evaluation_failures_total")
	c.ruleMissed = sum("gpuwd_rule_group_iterations_missed_total")
	c.ruleSeconds = sum("gpuwd_rule_group_last_duration_seconds")
	c.delay.add(families["gpuwd_scrape_delay_seconds"])
	c.duration.add(families["gpuwd_scrape_duration_seconds"])
	return c, nil
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.Label {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	}
	return 0
}

func newHistogram() histogram { return histogram{buckets: map[float64]float64{}} }

func (h *histogram) add(f *dto.MetricFamily) {
	if f == nil {
		return
	}
	for _, m := range f.Metric {
		hm := m.GetHistogram()
		if hm == nil || label(m, "job") != fleetJob {
			continue
		}
		h.count += float64(hm.GetSampleCount())
		h.sum += hm.GetSampleSum()
		for _, b := range hm.Bucket {
			h.buckets[b.GetUpperBound()] += float64(b.GetCumulativeCount())
		}
	}
}

// since is h minus an earlier reading: the observations in between.
func (h histogram) since(earlier histogram) histogram {
	d := histogram{count: h.count - earlier.count, sum: h.sum - earlier.sum, buckets: map[float64]float64{}}
	for le, n := range h.buckets {
		d.buckets[le] = n - earlier.buckets[le]
	}
	return d
}

func (h histogram) mean() float64 {
	if h.count == 0 {
		return math.NaN()
	}
	return h.sum / h.count
}

// quantileBound is the upper bound of the bucket that holds quantile q:
// the value q of the observations are at most (+Inf when beyond the last).
func (h histogram) quantileBound(q float64) float64 {
	if h.count == 0 {
		return math.NaN()
	}
	bounds := make([]float64, 0, len(h.buckets))
	for le := range h.buckets {
		bounds = append(bounds, le)
	}
	sort.Float64s(bounds)
	for _, le := range bounds {
		if h.buckets[le] >= q*h.count {
			return le
		}
	}
	return math.Inf(1)
}
