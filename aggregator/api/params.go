package api

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// minTime and maxTime are the defaults of optional start and end, the same
// instants as Prometheus' v1.MinTime and v1.MaxTime (clients such as promtool
// send them back as parameters).
var (
	minTime = time.Unix(math.MinInt64/1000+62135596801, 0).UTC()
	maxTime = time.Unix(math.MaxInt64/1000-62135596801, 999999999).UTC()

	minTimeFormatted = minTime.Format(time.RFC3339Nano)
	maxTimeFormatted = maxTime.Format(time.RFC3339Nano)
)

// parseTimeParam reads an optional time parameter.
func parseTimeParam(r *http.Request, name string, def time.Time) (time.Time, error) {
	v := r.FormValue(name)
	if v == "" {
		return def, nil
	}
	t, err := parseTime(v)
	if err != nil {
		return time.Time{}, fmt.Errorf("invalid time value for '%s': %w", name, err)
	}
	return t, nil
}

// parseTime accepts Unix seconds with an optional fraction (rounded to the
// millisecond) or RFC 3339.
func parseTime(s string) (time.Time, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		sec, frac := math.Modf(f)
		frac = math.Round(frac*1000) / 1000
		return time.Unix(int64(sec), int64(frac*float64(time.Second))).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	switch s {
	case minTimeFormatted:
		return minTime, nil
	case maxTimeFormatted:
		return maxTime, nil
	}
	return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
}

// parseDuration accepts seconds as a float ("15", "0.5") or a Prometheus
// duration ("15s", "1h30m").
func parseDuration(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		ns := f * float64(time.Second)
		if ns > float64(math.MaxInt64) || ns < float64(math.MinInt64) {
			return 0, fmt.Errorf("cannot parse %q to a valid duration. It overflows int64", s)
		}
		return time.Duration(ns), nil
	}
	if d, err := model.ParseDuration(s); err == nil {
		return time.Duration(d), nil
	}
	return 0, fmt.Errorf("cannot parse %q to a valid duration", s)
}

// parseLimit reads the limit parameter: absent or 0 is no limit.
func parseLimit(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, errors.New("limit must be non-negative")
	}
	return n, nil
}

// hintLimit asks the store for one more than limit, so truncation can be
// told from an exact fit.
func hintLimit(limit int) int {
	if limit > 0 && limit < math.MaxInt {
		return limit + 1
	}
	return limit
}

// errTruncated is the warning added when limit cut a result.
var errTruncated = errors.New("results truncated due to limit")

// parseMatchers parses match[] selectors. Each must have a matcher that
// rejects the empty string, or it would select every series.
func (a *API) parseMatchers(selectors []string) ([][]*labels.Matcher, error) {
	sets, err := a.parser.ParseMetricSelectors(selectors)
	if err != nil {
		return nil, err
	}
next:
	for _, set := range sets {
		for _, m := range set {
			if m != nil && !m.Matches("") {
				continue next
			}
		}
		return nil, errors.New("match[] must contain at least one non-empty matcher")
	}
	return sets, nil
}

// queryContext applies the timeout parameter, bounded by Options.QueryTimeout,
// which is also its default.
func (a *API) queryContext(r *http.Request) (context.Context, context.CancelFunc, error) {
	timeout := a.queryTimeout
	if s := r.FormValue("timeout"); s != "" {
		d, err := parseDuration(s)
		if err != nil {
			return nil, nil, err
		}
		if timeout <= 0 || d < timeout {
			timeout = d
		}
	}
	if timeout <= 0 && r.FormValue("timeout") == "" {
		return r.Context(), func() {}, nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	return ctx, cancel, nil
}
