package api

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/timestamp"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"
)

// checkContextEvery is how many series /series reads between looks at the
// request's context.
const checkContextEvery = 128

// series is /api/v1/series: the label sets of the series that any match[]
// selects between start and end (default: all time), up to limit.
func (a *API) series(r *http.Request) (res result) {
	if len(r.Form["match[]"]) == 0 {
		return result{err: badData(errors.New("no match[] parameter provided"))}
	}
	limit, err := parseLimit(r.FormValue("limit"))
	if err != nil {
		return invalidParam(err, "limit")
	}
	start, end, bad := timeRange(r)
	if bad != nil {
		return *bad
	}
	sets, err := a.parseMatchers(r.Form["match[]"])
	if err != nil {
		return invalidParam(err, "match[]")
	}
	q, err := a.queryable.Querier(start, end)
	if err != nil {
		return result{err: errorFrom(err)}
	}
	// The answer may point into the querier's memory: it stays open until
	// the response is written.
	defer func() {
		if res.finalize == nil {
			q.Close()
		}
	}()

	ctx := r.Context()
	hints := &storage.SelectHints{
		Start: start,
		End:   end,
		Func:  "series", // Prometheus' token for a select that needs no samples
		Limit: hintLimit(limit),
	}
	var set storage.SeriesSet
	if len(sets) > 1 {
		all := make([]storage.SeriesSet, 0, len(sets))
		for _, ms := range sets {
			all = append(all, q.Select(ctx, true, hints, ms...)) // merging needs sorted sets
		}
		set = storage.NewMergeSeriesSet(all, 0, storage.ChainedSeriesMerge)
	} else {
		set = q.Select(ctx, false, hints, sets[0]...)
	}

	list := seriesList{}
	warnings := set.Warnings()
	for i := 1; set.Next(); i++ {
		if i%checkContextEvery == 0 {
			if err := ctx.Err(); err != nil {
				return result{err: errorFrom(err), warnings: warnings}
			}
		}
		list = append(list, set.At().Labels())
		if limit > 0 && len(list) > limit {
			list = list[:limit]
			warnings = warnings.Add(errTruncated)
			break
		}
	}
	if err := set.Err(); err != nil {
		return result{err: errorFrom(err), warnings: warnings}
	}
	return result{data: list, warnings: warnings, finalize: closer(q)}
}

// labelNames is /api/v1/labels: the label names of the series that match[]
// selects (every series without it) between start and end.
func (a *API) labelNames(r *http.Request) result {
	return a.labelQuery(r, func(q storage.Querier, hints *storage.LabelHints, ms []*labels.Matcher) ([]string, annotations.Annotations, error) {
		return q.LabelNames(r.Context(), hints, ms...)
	})
}

// labelValues is /api/v1/label/{name}/values. A name that is not a valid
// legacy label name can be asked for in Prometheus' U__ escaping
// (U__gpu_2e_model for "gpu.model").
func (a *API) labelValues(r *http.Request) result {
	name := r.PathValue("name")
	if strings.HasPrefix(name, "U__") {
		name = model.UnescapeName(name, model.ValueEncodingEscaping)
	}
	if !model.UTF8Validation.IsValidLabelName(name) {
		return result{err: badData(fmt.Errorf("invalid label name: %q", name))}
	}
	return a.labelQuery(r, func(q storage.Querier, hints *storage.LabelHints, ms []*labels.Matcher) ([]string, annotations.Annotations, error) {
		return q.LabelValues(r.Context(), name, hints, ms...)
	})
}

type labelFunc func(storage.Querier, *storage.LabelHints, []*labels.Matcher) ([]string, annotations.Annotations, error)

// labelQuery does what /labels and /label/…/values share: start, end,
// match[] (the union over several), limit, and a sorted, never-null list.
func (a *API) labelQuery(r *http.Request, get labelFunc) (res result) {
	limit, err := parseLimit(r.FormValue("limit"))
	if err != nil {
		return invalidParam(err, "limit")
	}
	start, end, bad := timeRange(r)
	if bad != nil {
		return *bad
	}
	sets, err := a.parseMatchers(r.Form["match[]"])
	if err != nil {
		return result{err: badData(err)}
	}
	q, err := a.queryable.Querier(start, end)
	if err != nil {
		return result{err: errorFrom(err)}
	}
	// The answer may point into the querier's memory: it stays open until
	// the response is written.
	defer func() {
		if res.finalize == nil {
			q.Close()
		}
	}()

	hints := &storage.LabelHints{Limit: hintLimit(limit)}
	var (
		list     []string
		warnings annotations.Annotations
	)
	if len(sets) > 1 {
		seen := map[string]struct{}{}
		for _, ms := range sets {
			vals, w, err := get(q, hints, ms)
			warnings.Merge(w)
			if err != nil {
				return result{err: errorFrom(err), warnings: warnings}
			}
			for _, v := range vals {
				seen[v] = struct{}{}
			}
		}
		list = make([]string, 0, len(seen))
		for v := range seen {
			list = append(list, v)
		}
	} else {
		var ms []*labels.Matcher
		if len(sets) == 1 {
			ms = sets[0]
		}
		if list, warnings, err = get(q, hints, ms); err != nil {
			return result{err: &apiError{errorExec, err}, warnings: warnings}
		}
	}
	slices.Sort(list)
	if limit > 0 && len(list) > limit {
		list = list[:limit]
		warnings = warnings.Add(errTruncated)
	}
	if list == nil {
		list = []string{}
	}
	return result{data: stringList(list), warnings: warnings, finalize: closer(q)}
}

// timeRange reads the optional start and end, in milliseconds.
func timeRange(r *http.Request) (start, end int64, bad *result) {
	s, err := parseTimeParam(r, "start", minTime)
	if err != nil {
		res := invalidParam(err, "start")
		return 0, 0, &res
	}
	e, err := parseTimeParam(r, "end", maxTime)
	if err != nil {
		res := invalidParam(err, "end")
		return 0, 0, &res
	}
	return timestamp.FromTime(s), timestamp.FromTime(e), nil
}

func closer(q storage.Querier) func() { return func() { q.Close() } }
