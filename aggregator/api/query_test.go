package api

import (
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The whole body, byte for byte as Prometheus writes it.
func TestInstantQueryBody(t *testing.T) {
	srv := serve(t, Options{})
	code, body := get(t, srv, "/api/v1/query?query=up&time=1700000600")
	want := `{"status":"success","data":{"resultType":"vector","result":[` +
		`{"metric":{"__name__":"up","instance":"a:9400","job":"gpu"},"value":[1700000600,"1"]},` +
		`{"metric":{"__name__":"up","instance":"b:9400","job":"gpu"},"value":[1700000600,"0"]}]}}`
	if code != http.StatusOK || body != want {
		t.Errorf("got %d %s\nwant %s", code, body, want)
	}
}

type vectorJSON []struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

type matrixJSON []struct {
	Metric map[string]string `json:"metric"`
	Values [][2]any          `json:"values"`
}

func decodeResult(t *testing.T, body string, wantType string, result any) response {
	t.Helper()
	var d struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	r := decode(t, body, &d)
	if r.Status != "success" || d.ResultType != wantType {
		t.Fatalf("status %q resultType %q, want success %q: %s", r.Status, d.ResultType, wantType, body)
	}
	if err := json.Unmarshal(d.Result, result); err != nil {
		t.Fatal(err)
	}
	return r
}

func sampleValue(t *testing.T, v any) float64 {
	t.Helper()
	s, ok := v.(string)
	if !ok {
		t.Fatalf("sample value %v is not a string", v)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestInstantQueryValues(t *testing.T) {
	srv := serve(t, Options{})
	for _, tc := range []struct {
		expr string
		want float64
	}{
		// +10 every 15 s: 2/3 per second, at any time inside the data.
		{`rate(gpu_xid_errors_total[1m])`, 10.0 / 15},
		{`increase(gpu_xid_errors_total[5m])`, 200},
		{`avg(gpu_temp_celsius)`, 70},
		{`max by (job) (gpu_temp_celsius)`, 80},
		{`count(up == 1)`, 1},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			// No time: the API's now, t0+10m.
			_, body := get(t, srv, "/api/v1/query?query="+url.QueryEscape(tc.expr))
			var v vectorJSON
			decodeResult(t, body, "vector", &v)
			if len(v) != 1 {
				t.Fatalf("%d samples, want 1: %s", len(v), body)
			}
			if got := sampleValue(t, v[0].Value[1]); math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("value %v, want %v", got, tc.want)
			}
			if ts := v[0].Value[0].(float64); ts != float64(now.Unix()) {
				t.Errorf("time %v, want %d", ts, now.Unix())
			}
		})
	}
}

// Scalars and strings are written as promql.Scalar/String marshal
// themselves (time as a JSON float), vectors with jsonutil's timestamps.
func TestScalarStringAndTimeFormats(t *testing.T) {
	srv := serve(t, Options{})
	for _, tc := range []struct{ query, want string }{
		{"query=scalar(avg(gpu_temp_celsius))&time=1700000600.5",
			`{"resultType":"scalar","result":[1700000600.5,"70"]}`},
		{`query="a<b"&time=2023-11-14T22:23:20.25Z`,
			`{"resultType":"string","result":[1700000600.25,"a\u003cb"]}`},
		{"query=avg(gpu_temp_celsius)&time=1700000600.5",
			`{"resultType":"vector","result":[{"metric":{},"value":[1700000600.500,"70"]}]}`},
		{"query=avg(gpu_temp_celsius)&time=1700000600.0504", // rounded to the millisecond
			`{"resultType":"vector","result":[{"metric":{},"value":[1700000600.050,"70"]}]}`},
		{"query=vector(1e-7)&time=1700000600",
			`{"resultType":"vector","result":[{"metric":{},"value":[1700000600,"1e-07"]}]}`},
		{"query=vector(1/0)%20or%20vector(-1/0)&time=1700000600",
			`{"resultType":"vector","result":[{"metric":{},"value":[1700000600,"+Inf"]}]}`},
	} {
		_, body := get(t, srv, "/api/v1/query?"+tc.query)
		if want := `{"status":"success","data":` + tc.want + `}`; body != want {
			t.Errorf("%s:\n got %s\nwant %s", tc.query, body, want)
		}
	}
}

func TestRangeQuery(t *testing.T) {
	srv := serve(t, Options{})
	form := url.Values{
		"query": {`gpu_xid_errors_total{gpu="0"}`},
		"start": {"1700000000"},
		"end":   {"2023-11-14T22:14:20Z"}, // t0+60s
		"step":  {"15s"},
	}
	code, body := post(t, srv, "/api/v1/query_range", form)
	want := `{"status":"success","data":{"resultType":"matrix","result":[` +
		`{"metric":{"__name__":"gpu_xid_errors_total","gpu":"0","instance":"a:9400","job":"gpu"},` +
		`"values":[[1700000000,"0"],[1700000015,"10"],[1700000030,"20"],[1700000045,"30"],[1700000060,"40"]]}]}}`
	if code != http.StatusOK || body != want {
		t.Errorf("got %d %s\nwant %s", code, body, want)
	}

	// rate over the whole range, float step.
	_, body = get(t, srv, "/api/v1/query_range?query="+url.QueryEscape("rate(gpu_xid_errors_total[1m])")+
		"&start=1700000300&end=1700000900&step=60.0")
	var m matrixJSON
	decodeResult(t, body, "matrix", &m)
	if len(m) != 1 || len(m[0].Values) != 11 {
		t.Fatalf("want 1 series of 11 points: %s", body)
	}
	if _, ok := m[0].Metric["__name__"]; ok {
		t.Errorf("rate kept the metric name: %v", m[0].Metric)
	}
	for i, p := range m[0].Values {
		if ts := p[0].(float64); ts != float64(1700000300+60*i) {
			t.Errorf("point %d at %v", i, ts)
		}
		if v := sampleValue(t, p[1]); math.Abs(v-10.0/15) > 1e-9 {
			t.Errorf("point %d = %v, want 2/3", i, v)
		}
	}
}

// Grafana POSTs forms; parameters may also be split between URL and body.
func TestPostForm(t *testing.T) {
	srv := serve(t, Options{})
	resp, err := srv.Client().Post(srv.URL+"/api/v1/query?time=1700000600", "application/x-www-form-urlencoded",
		strings.NewReader("query=avg%28gpu_temp_celsius%29"))
	if err != nil {
		t.Fatal(err)
	}
	_, body := readBody(t, resp)
	if want := `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000600,"70"]}]}}`; body != want {
		t.Errorf("got %s", body)
	}
}

func TestQueryErrors(t *testing.T) {
	srv := serve(t, Options{})
	for _, tc := range []struct {
		path, errType, msg string
		code               int
	}{
		{"/api/v1/query?query=sum(", "bad_data", `invalid parameter "query": 1:5: parse error: unclosed left parenthesis`, 400},
		{"/api/v1/query?query=up&time=yesterday", "bad_data", `invalid parameter "time": invalid time value for 'time': cannot parse "yesterday" to a valid timestamp`, 400},
		{"/api/v1/query?query=up&timeout=soon", "bad_data", `invalid parameter "timeout": cannot parse "soon" to a valid duration`, 400},
		{"/api/v1/query?query=up&limit=-1", "bad_data", `invalid parameter "limit": limit must be non-negative`, 400},
		{"/api/v1/query?query=up&lookback_delta=x", "bad_data", `error parsing lookback delta duration: cannot parse "x" to a valid duration`, 400},
		{"/api/v1/query_range?query=up&start=1&end=100&step=0", "bad_data", `invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer`, 400},
		{"/api/v1/query_range?query=up&start=1&end=100&step=-15s", "bad_data", `invalid parameter "step": cannot parse "-15s" to a valid duration`, 400},
		{"/api/v1/query_range?query=up&start=100&end=1&step=1", "bad_data", `invalid parameter "end": end timestamp must not be before start time`, 400},
		{"/api/v1/query_range?query=up&start=0&end=11001&step=1", "bad_data", `exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)`, 400},
		{"/api/v1/query_range?query=up&end=1&step=1", "bad_data", `invalid parameter "start": cannot parse "" to a valid timestamp`, 400},
		{"/api/v1/query?query=" + url.QueryEscape(`{__name__=~"gpu.*"} + on() group_left {__name__=~"gpu.*"}`) + "&time=1700000600", "execution", "", 422},
	} {
		code, body := get(t, srv, tc.path)
		r := decode(t, body, nil)
		if code != tc.code || r.Status != "error" || r.ErrorType != tc.errType || (tc.msg != "" && r.Error != tc.msg) {
			t.Errorf("%s: %d %s, want %d %s %q", tc.path, code, body, tc.code, tc.errType, tc.msg)
		}
	}
	// Exactly 11,000 points is allowed.
	if code, body := get(t, srv, "/api/v1/query_range?query=vector(1)&start=0&end=11000&step=1"); code != 200 {
		t.Errorf("11,000 points: %d %.200s", code, body)
	}
}

func TestQueryExecutionErrors(t *testing.T) {
	t.Run("too many samples", func(t *testing.T) {
		srv := serve(t, Options{Engine: newEngine(10)})
		code, body := get(t, srv, "/api/v1/query?query="+url.QueryEscape("gpu_temp_celsius[10m]"))
		r := decode(t, body, nil)
		if code != 422 || r.ErrorType != "execution" || !strings.Contains(r.Error, "too many samples") {
			t.Errorf("%d %s", code, body)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		// The store waits for the deadline; the timeout parameter is capped
		// by QueryTimeout, so either could end it.
		srv := serve(t, Options{Queryable: blockingStore{}, QueryTimeout: time.Hour})
		code, body := get(t, srv, "/api/v1/query?query=up&timeout=10ms")
		if r := decode(t, body, nil); code != 503 || r.ErrorType != "timeout" {
			t.Errorf("%d %s", code, body)
		}
		srv = serve(t, Options{Queryable: blockingStore{}, QueryTimeout: 10 * time.Millisecond})
		code, body = get(t, srv, "/api/v1/query_range?query=up&start=0&end=60&step=15&timeout=1h")
		if r := decode(t, body, nil); code != 503 || r.ErrorType != "timeout" {
			t.Errorf("%d %s", code, body)
		}
	})
	t.Run("storage", func(t *testing.T) {
		srv := serve(t, Options{Queryable: failingStore{}})
		code, body := get(t, srv, "/api/v1/query?query=up")
		if r := decode(t, body, nil); code != 500 || r.ErrorType != "internal" || !strings.Contains(r.Error, "unexpected EOF") {
			t.Errorf("%d %s", code, body)
		}
	})
}

func TestQueryLimitWarningsInfosStats(t *testing.T) {
	srv := serve(t, Options{})
	_, body := get(t, srv, "/api/v1/query?query=gpu_temp_celsius&limit=2")
	var v vectorJSON
	r := decodeResult(t, body, "vector", &v)
	if len(v) != 2 || len(r.Warnings) != 1 || r.Warnings[0] != "results truncated due to limit" {
		t.Errorf("limit=2: %s", body)
	}
	_, body = get(t, srv, "/api/v1/query?query=gpu_temp_celsius&limit=3")
	if r := decodeResult(t, body, "vector", &v); len(v) != 3 || r.Warnings != nil || strings.Contains(body, "warnings") {
		t.Errorf("limit=3: %s", body)
	}

	// rate() of a gauge-named series is an info, quantile > 1 a warning.
	_, body = get(t, srv, "/api/v1/query?query="+url.QueryEscape("quantile(2, rate(gpu_temp_celsius[5m]))"))
	r = decodeResult(t, body, "vector", &v)
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "quantile value should be between 0 and 1") {
		t.Errorf("warnings %q", r.Warnings)
	}
	if len(r.Infos) != 1 || !strings.Contains(r.Infos[0], `metric might not be a counter`) {
		t.Errorf("infos %q", r.Infos)
	}

	_, body = get(t, srv, "/api/v1/query?query=up&stats=true")
	var d struct {
		Stats struct {
			Timings map[string]float64 `json:"timings"`
			Samples struct {
				TotalQueryableSamples int `json:"totalQueryableSamples"`
			} `json:"samples"`
		} `json:"stats"`
	}
	decode(t, body, &d)
	if d.Stats.Samples.TotalQueryableSamples != 2 || d.Stats.Timings == nil {
		t.Errorf("stats: %s", body)
	}
	if strings.Contains(must(get(t, srv, "/api/v1/query?query=up")), "stats") {
		t.Error("stats without asking")
	}
}

func must(_ int, body string) string { return body }

func TestExemplarsAndFormatQuery(t *testing.T) {
	srv := serve(t, Options{})
	if _, body := get(t, srv, "/api/v1/query_exemplars?query=up&start=1&end=2"); body != `{"status":"success","data":[]}` {
		t.Errorf("exemplars: %s", body)
	}
	if code, _ := get(t, srv, "/api/v1/query_exemplars?query=1"); code != http.StatusNoContent {
		t.Errorf("exemplars without selectors: %d, want 204", code)
	}
	if code, _ := get(t, srv, "/api/v1/query_exemplars?query=up&start=2&end=1"); code != 400 {
		t.Errorf("exemplars end<start: %d", code)
	}
	_, body := post(t, srv, "/api/v1/format_query", url.Values{"query": {"sum(rate(x[5m]))by(job)"}})
	if want := `{"status":"success","data":"sum by (job) (rate(x[5m]))"}`; body != want {
		t.Errorf("format_query: %s", body)
	}
}
