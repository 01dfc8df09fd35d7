package api

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
)

// MetadataLister is what /api/v1/metadata shows: what expositions say
// about metric families.
type MetadataLister interface {
	// Metadata returns the metadata of metric, or of every metric when it is
	// "", keyed by metric name. A metric whose targets disagree has several.
	Metadata(ctx context.Context, metric string) (map[string][]Metadata, error)
}

// Metadata is a metric family's type, help and unit.
type Metadata struct {
	Type string `json:"type"` // counter, gauge, histogram, summary, info, stateset, unknown
	Help string `json:"help"`
	Unit string `json:"unit"`
}

// metricMetadata is /api/v1/metadata: metric filters by name; limit caps
// the metrics (0 gives none, as in Prometheus) and limit_per_metric the
// entries per metric. Metrics are taken in name order.
func (a *API) metricMetadata(r *http.Request) result {
	limit, err := optionalInt(r.FormValue("limit"))
	if err != nil {
		return result{err: badData(errLimitNumber)}
	}
	perMetric, err := optionalInt(r.FormValue("limit_per_metric"))
	if err != nil {
		return result{err: badData(errLimitPerMetricNumber)}
	}
	res := map[string][]Metadata{}
	if a.metadata == nil {
		return result{data: res}
	}
	all, err := a.metadata.Metadata(r.Context(), r.FormValue("metric"))
	if err != nil {
		return result{err: &apiError{errorInternal, err}}
	}
	names := make([]string, 0, len(all))
	for name := range all {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if limit >= 0 && len(res) >= limit {
			break
		}
		ms := slices.Clone(all[name])
		slices.SortFunc(ms, func(a, b Metadata) int {
			return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Help, b.Help), cmp.Compare(a.Unit, b.Unit))
		})
		ms = slices.Compact(ms)
		if perMetric > 0 && len(ms) > perMetric {
			ms = ms[:perMetric]
		}
		if ms == nil {
			ms = []Metadata{}
		}
		res[name] = ms
	}
	return result{data: res}
}

var (
	errLimitNumber          = errors.New("limit must be a number")
	errLimitPerMetricNumber = errors.New("limit_per_metric must be a number")
)

// optionalInt reads an integer parameter whose absence is -1.
func optionalInt(s string) (int, error) {
	if s == "" {
		return -1, nil
	}
	return strconv.Atoi(s)
}
