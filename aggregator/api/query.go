package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/util/stats"
)

// maxPoints is Prometheus' cap on the points per series of a range query:
// 60 s resolution for a week, or 1 h for a year.
const maxPoints = 11000

// query is /api/v1/query: query, time (default now), timeout, limit,
// lookback_delta, stats.
func (a *API) query(r *http.Request) result {
	limit, err := parseLimit(r.FormValue("limit"))
	if err != nil {
		return invalidParam(err, "limit")
	}
	ts, err := parseTimeParam(r, "time", a.now())
	if err != nil {
		return invalidParam(err, "time")
	}
	ctx, cancel, err := a.queryContext(r)
	if err != nil {
		return invalidParam(err, "timeout")
	}
	defer cancel()
	opts, err := queryOpts(r)
	if err != nil {
		return result{err: badData(err)}
	}
	qry, err := a.engine.NewInstantQuery(ctx, a.queryable, opts, r.FormValue("query"), ts)
	if err != nil {
		return invalidParam(err, "query")
	}
	return a.exec(ctx, r, qry, limit)
}

// queryRange is /api/v1/query_range: query, start, end, step (all
// required), timeout, limit, lookback_delta, stats.
func (a *API) queryRange(r *http.Request) result {
	limit, err := parseLimit(r.FormValue("limit"))
	if err != nil {
		return invalidParam(err, "limit")
	}
	start, err := parseTime(r.FormValue("start"))
	if err != nil {
		return invalidParam(err, "start")
	}
	end, err := parseTime(r.FormValue("end"))
	if err != nil {
		return invalidParam(err, "end")
	}
	if end.Before(start) {
		return invalidParam(errors.New("end timestamp must not be before start time"), "end")
	}
	step, err := parseDuration(r.FormValue("step"))
	if err != nil {
		return invalidParam(err, "step")
	}
	if step <= 0 {
		return invalidParam(errors.New("zero or negative query resolution step widths are not accepted. Try a positive integer"), "step")
	}
	if end.Sub(start)/step > maxPoints {
		return result{err: badData(errors.New("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"))}
	}
	ctx, cancel, err := a.queryContext(r)
	if err != nil {
		return invalidParam(err, "timeout")
	}
	defer cancel()
	opts, err := queryOpts(r)
	if err != nil {
		return result{err: badData(err)}
	}
	qry, err := a.engine.NewRangeQuery(ctx, a.queryable, opts, r.FormValue("query"), start, end, step)
	if err != nil {
		return invalidParam(err, "query")
	}
	return a.exec(ctx, r, qry, limit)
}

// exec runs a prepared query. The result keeps the query open until the
// response is written: its value lives in the query's memory.
func (a *API) exec(ctx context.Context, r *http.Request, qry promql.Query, limit int) (res result) {
	defer func() {
		if res.finalize == nil {
			qry.Close() // an error before Exec, or a panic
		}
	}()
	out := qry.Exec(ctx)
	if out.Err != nil {
		return result{err: errorFrom(out.Err), warnings: out.Warnings, finalize: qry.Close}
	}
	warnings := out.Warnings
	value := out.Value
	if limit > 0 {
		switch v := value.(type) {
		case promql.Matrix:
			if len(v) > limit {
				value = v[:limit]
				warnings = warnings.Add(errTruncated)
			}
		case promql.Vector:
			if len(v) > limit {
				value = v[:limit]
				warnings = warnings.Add(errTruncated)
			}
		}
	}
	data := &queryData{value: value}
	if s := r.FormValue("stats"); s != "" {
		if s != statsTrue && s != statsAll {
			warnings = warnings.Add(fmt.Errorf("value %q for parameter \"stats\" is deprecated and will be rejected in the next major release, use %q or %q", s, statsTrue, statsAll))
		}
		b, err := json.Marshal(stats.NewQueryStats(qry.Stats()))
		if err != nil {
			return result{err: &apiError{errorInternal, err}, finalize: qry.Close}
		}
		data.stats = b
	}
	return result{data: data, warnings: warnings, finalize: qry.Close}
}

// The values of the stats parameter: basic statistics, or those and the
// per-step ones (when the engine has EnablePerStepStats). Other non-empty
// values are taken as true with a deprecation warning, as Prometheus does.
const (
	statsTrue = "true"
	statsAll  = "all"
)

// queryOpts reads lookback_delta and stats=all.
func queryOpts(r *http.Request) (promql.QueryOpts, error) {
	var lookback time.Duration
	if s := r.FormValue("lookback_delta"); s != "" {
		d, err := parseDuration(s)
		if err != nil {
			return nil, fmt.Errorf("error parsing lookback delta duration: %w", err)
		}
		lookback = d
	}
	return promql.NewPrometheusQueryOpts(r.FormValue("stats") == statsAll, lookback), nil
}

// queryExemplars is /api/v1/query_exemplars. The store keeps no exemplars,
// so after Prometheus' parameter checks the answer is an empty list (or 204
// for a query without selectors, as Prometheus answers).
func (a *API) queryExemplars(r *http.Request) result {
	start, err := parseTimeParam(r, "start", minTime)
	if err != nil {
		return invalidParam(err, "start")
	}
	end, err := parseTimeParam(r, "end", maxTime)
	if err != nil {
		return invalidParam(err, "end")
	}
	if end.Before(start) {
		return result{err: badData(errors.New("end timestamp must not be before start timestamp"))}
	}
	expr, err := a.parser.ParseExpr(r.FormValue("query"))
	if err != nil {
		return result{err: badData(err)}
	}
	if len(parser.ExtractSelectors(expr)) == 0 {
		return result{}
	}
	return result{data: rawJSON("[]")}
}

// formatQuery is /api/v1/format_query: the query, pretty-printed.
func (a *API) formatQuery(r *http.Request) result {
	expr, err := a.parser.ParseExpr(r.FormValue("query"))
	if err != nil {
		return invalidParam(err, "query")
	}
	return result{data: expr.Pretty(0)}
}
