package api

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

func TestClient(t *testing.T) {
	srv := serve(t, Options{})
	c := &Client{BaseURL: srv.URL + "/", HTTP: srv.Client()}
	ctx := context.Background()

	res, err := c.Query(ctx, "up", now)
	if err != nil {
		t.Fatal(err)
	}
	vec, ok := res.Value.(model.Vector)
	if !ok || len(vec) != 2 || vec[0].Metric["instance"] != "a:9400" || vec[0].Value != 1 || vec[1].Value != 0 ||
		vec[0].Timestamp.Time() != now {
		t.Errorf("query up: %#v", res.Value)
	}

	res, err = c.QueryRange(ctx, `gpu_xid_errors_total`, t0, t0.Add(time.Minute), 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	mat, ok := res.Value.(model.Matrix)
	if !ok || len(mat) != 1 || len(mat[0].Values) != 3 || mat[0].Values[2].Value != 40 || mat[0].Values[2].Timestamp.Unix() != t0.Unix()+60 {
		t.Errorf("query_range: %v", res.Value)
	}

	res, err = c.Query(ctx, "quantile(2, gpu_temp_celsius)", time.Time{}) // zero time: the server's now
	if err != nil || len(res.Warnings) != 1 {
		t.Errorf("warnings: %v %+v", err, res)
	}

	res, err = c.Query(ctx, "scalar(avg(gpu_temp_celsius))", now)
	if s, ok := res.Value.(*model.Scalar); err != nil || !ok || s.Value != 70 {
		t.Errorf("scalar: %v %v", err, res.Value)
	}

	_, err = c.Query(ctx, "sum(", now)
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Type != "bad_data" ||
		err.Error() != `bad_data: invalid parameter "query": 1:5: parse error: unclosed left parenthesis` {
		t.Errorf("error: %#v", err)
	}
	_, err = c.QueryRange(ctx, "up", t0, t0.Add(time.Hour), 0)
	if !errors.As(err, &apiErr) || apiErr.Type != "bad_data" {
		t.Errorf("step 0: %v", err)
	}
}

func TestClientTokenAndPrefix(t *testing.T) {
	mux := http.NewServeMux()
	New(Options{Queryable: testStore(), Engine: newEngine(50e6)}).Register(mux)
	srv := httptest.NewServer(http.StripPrefix("/gpuwd", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	})))
	defer srv.Close()

	c := &Client{BaseURL: srv.URL + "/gpuwd", HTTP: srv.Client(), Token: "s3cret"}
	if _, err := c.Query(context.Background(), "up", now); err != nil {
		t.Errorf("with token: %v", err)
	}
	c.Token = ""
	_, err := c.Query(context.Background(), "up", now)
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 || err.Error() != "server returned HTTP status 401: unauthorized" {
		t.Errorf("without token: %v", err)
	}
}

func TestFormatValue(t *testing.T) {
	ts := model.TimeFromUnixNano(1700000000123 * int64(time.Millisecond))
	for _, tc := range []struct {
		v    model.Value
		want string
	}{
		{model.Vector{
			{Metric: model.Metric{"__name__": "up", "job": "y", "instance": "x"}, Value: 1, Timestamp: ts},
			{Metric: model.Metric{}, Value: 0.5, Timestamp: ts},
		}, "up{instance=\"x\", job=\"y\"} => 1 @[1700000000.123]\n{} => 0.5 @[1700000000.123]\n"},
		{model.Matrix{{Metric: model.Metric{"gpu": "0"}, Values: []model.SamplePair{{Timestamp: 1700000000000, Value: 1}, {Timestamp: 1700000015000, Value: 2}}}},
			"{gpu=\"0\"} =>\n1 @[1700000000]\n2 @[1700000015]\n"},
		{&model.Scalar{Value: 70, Timestamp: ts}, "scalar: 70 @[1700000000.123]\n"},
		{&model.String{Value: "hello", Timestamp: ts}, "hello\n"},
		{model.Vector{}, "\n"},
	} {
		var b strings.Builder
		if err := FormatValue(&b, tc.v); err != nil {
			t.Fatal(err)
		}
		if b.String() != tc.want {
			t.Errorf("got %q, want %q", b.String(), tc.want)
		}
	}
}
