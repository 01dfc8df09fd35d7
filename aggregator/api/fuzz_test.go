package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/store"
)

// The endpoints FuzzParams calls; label values takes the name in its path.
var fuzzEndpoints = []string{"query", "query_range", "series", "labels", "label/{name}/values"}

// FuzzParams calls the query API's endpoints (query, query_range, series,
// labels, label values) through the real handler, over a real store in a
// temporary directory, with fuzzed parameters: time, start, end, step,
// timeout, limit, match[], the label name, the query and anything else
// (extra, a raw query string). Whatever they are, the answer is
// Prometheus' JSON envelope and comes in bounded time: 400 with bad_data
// for parameters it cannot use, never another 5xx than a 503 timeout, never
// a panic; a range query answers at most 11,000 points a series, and a
// limit is kept.
func FuzzParams(f *testing.F) {
	const (
		start = "1700000000"
		end   = "1700001200"
	)
	for _, s := range []struct {
		ep                                                      uint8
		query, t1, t2, step, timeout, limit, match, name, extra string
	}{
		{0, "up", "1700000600", "", "", "", "", "", "", ""},
		{0, "rate(gpu_xid_errors_total[1m])", "2023-11-14T22:23:20.5Z", "", "", "10s", "1", "", "", "stats=all"},
		{0, `{"gpu.model"=~"H.*"}`, "", "", "", "", "", "", "", "lookback_delta=1m"},
		{0, "up", "-62135596800", "", "", "1e400", "-1", "", "", "stats=yes"},
		{1, "avg(gpu_temp_celsius)", start, end, "15", "", "", "", "", ""},
		{1, "up", start, end, "0.001", "", "", "", "", ""}, // a million points: refused
		{1, "up", "-9223372036854775", "9223372036854775", "1s", "", "", "", "", ""},
		{1, "sum_over_time(up[1h:1ms])", start, end, "1m", "1ms", "", "", "", ""},
		{1, "up", end, start, "15s", "", "", "", "", ""},
		{1, "up", start, end, "-15s", "", "", "", "", ""},
		{6, "up", start, end, "1h", "", "", "", "", "lookback_delta=x&stats=all"},
		{2, "", "", "", "", "", "", "up", "", ""},
		{2, "", start, end, "", "", "2", `{job="gpu"}`, "", "match[]=gpu_temp_celsius"},
		{2, "", "", "", "", "", "", `{job=~".*"}`, "", ""},
		{2, "", minTimeFormatted, maxTimeFormatted, "", "", "", `{__name__=~"gpu.+"}`, "", ""},
		{3, "", "", "", "", "", "", "", "", ""},
		{3, "", start, end, "", "", "1", `up`, "", "match[]=gpu_info"},
		{8, "", "", "", "", "", "1", "", "", ""},
		{4, "", "", "", "", "", "", "", "job", ""},
		{4, "", "", "", "", "", "2", `{job="gpu"}`, "U__gpu_2e_model", ""},
		{4, "", "", "", "", "", "", "", "a b", ""},
		{4, "", "", "", "", "", "", "", "__name__", "%zz"},
	} {
		f.Add(s.ep, s.query, s.t1, s.t2, s.step, s.timeout, s.limit, s.match, s.name, s.extra)
	}
	mux := http.NewServeMux()
	New(Options{
		Queryable:    fuzzStore(f),
		Engine:       newEngine(1e6),
		QueryTimeout: 2 * time.Second,
		Now:          func() time.Time { return now },
	}).Register(mux)
	f.Fuzz(func(t *testing.T, ep uint8, query, t1, t2, step, timeout, limit, match, name, extra string) {
		path := fuzzEndpoints[int(ep)%len(fuzzEndpoints)]
		if strings.Contains(path, "{name}") && name == "" {
			return // the mux redirects …/label//values
		}
		post := ep/uint8(len(fuzzEndpoints))%2 == 1 && !strings.Contains(path, "{name}")
		path = "/api/v1/" + strings.Replace(path, "{name}", url.PathEscape(name), 1)
		form := url.Values{}
		for k, v := range map[string]string{"query": query, "step": step, "timeout": timeout, "limit": limit, "match[]": match} {
			if v != "" {
				form.Set(k, v)
			}
		}
		if t1 != "" {
			form.Set("time", t1)
			form.Set("start", t1)
		}
		if t2 != "" {
			form.Set("end", t2)
		}
		params := form.Encode()
		if extra != "" {
			params += "&" + extra
		}
		var req *http.Request
		if post {
			req = httptest.NewRequest(http.MethodPost, path, strings.NewReader(params))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req = httptest.NewRequest(http.MethodGet, path, nil)
			req.URL.RawQuery = params // as the server reads it, whatever the bytes
		}
		rec := httptest.NewRecorder()
		began := time.Now()
		mux.ServeHTTP(rec, req)
		if took := time.Since(began); took > time.Minute {
			t.Fatalf("%s %s took %v", req.Method, req.URL, took)
		}
		checkAnswer(t, req, rec, path, form)
	})
}

// checkAnswer checks one answer of FuzzParams.
func checkAnswer(t *testing.T, req *http.Request, rec *httptest.ResponseRecorder, path string, form url.Values) {
	t.Helper()
	what := req.Method + " " + req.URL.String()
	if rec.Code == http.StatusNoContent {
		return
	}
	var r response
	if !json.Valid(rec.Body.Bytes()) || json.Unmarshal(rec.Body.Bytes(), &r) != nil {
		t.Fatalf("%s: %d, body is not JSON: %q", what, rec.Code, rec.Body.String())
	}
	want := map[int]string{
		http.StatusOK:                  "",
		http.StatusBadRequest:          string(errorBadData),
		http.StatusUnprocessableEntity: string(errorExec),
		http.StatusServiceUnavailable:  string(errorTimeout),
	}
	errType, ok := want[rec.Code]
	if !ok || r.ErrorType != errType || (r.Status == "success") != (rec.Code == http.StatusOK) {
		t.Fatalf("%s: %d, status %q, errorType %q: %s", what, rec.Code, r.Status, r.ErrorType, r.Error)
	}
	if rec.Code != http.StatusOK {
		return
	}
	limit := 0
	if n, err := parseLimit(form.Get("limit")); err == nil {
		limit = n
	}
	switch {
	case strings.HasSuffix(path, "/query_range"):
		var d struct {
			Result []struct {
				Values []json.RawMessage `json:"values"`
			} `json:"result"`
		}
		if err := json.Unmarshal(r.Data, &d); err != nil {
			t.Fatalf("%s: data %s: %v", what, r.Data, err)
		}
		for _, s := range d.Result {
			if len(s.Values) > maxPoints+1 {
				t.Fatalf("%s: %d points in a series", what, len(s.Values))
			}
		}
		if limit > 0 && len(d.Result) > limit {
			t.Fatalf("%s: %d series over limit %d", what, len(d.Result), limit)
		}
	case strings.HasSuffix(path, "/series"), strings.HasSuffix(path, "/labels"), strings.HasSuffix(path, "/values"):
		var list []json.RawMessage
		if err := json.Unmarshal(r.Data, &list); err != nil {
			t.Fatalf("%s: data %s: %v", what, r.Data, err)
		}
		if limit > 0 && len(list) > limit {
			t.Fatalf("%s: %d entries over limit %d", what, len(list), limit)
		}
	}
}

// fuzzStore is a store in a temporary directory holding testStore's series:
// every 15 s for 20 minutes from t0.
func fuzzStore(f *testing.F) *store.Store {
	st, err := store.Open(context.Background(), f.TempDir(), store.Options{
		Now:                 func() time.Time { return t0.Add(20 * time.Minute) },
		MaintenanceInterval: time.Hour,
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = st.Close() })
	p := parser.NewParser(parser.Options{})
	var samples []store.Sample
	for _, desc := range []string{
		`gpu_xid_errors_total{job="gpu",instance="a:9400",gpu="0"}`,
		`gpu_temp_celsius{job="gpu",instance="a:9400",gpu="0"}`,
		`gpu_temp_celsius{job="gpu",instance="b:9400",gpu="0"}`,
		`up{job="gpu",instance="a:9400"}`,
		`up{job="gpu",instance="b:9400"}`,
		`{__name__="gpu_info",job="gpu",instance="a:9400","gpu.model"="H100 <SXM>"}`,
	} {
		ls, err := p.ParseMetric(desc)
		if err != nil {
			f.Fatal(err)
		}
		ref, err := st.Ref(ls)
		if err != nil {
			f.Fatal(err)
		}
		for i := range nSamples {
			samples = append(samples, store.Sample{Ref: ref, T: t0ms + int64(i)*stepMS, V: float64(i % 7)})
		}
	}
	if err := st.Append(context.Background(), samples); err != nil {
		f.Fatal(err)
	}
	return st
}
