package api

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
)

func TestSeries(t *testing.T) {
	srv := serve(t, Options{})
	code, body := get(t, srv, "/api/v1/series?match[]=up")
	want := `{"status":"success","data":[{"__name__":"up","instance":"a:9400","job":"gpu"},{"__name__":"up","instance":"b:9400","job":"gpu"}]}`
	if code != 200 || body != want {
		t.Errorf("got %d %s", code, body)
	}

	// Several match[] are a union, without duplicates, sorted; POST works.
	_, body = post(t, srv, "/api/v1/series", url.Values{"match[]": {`up{instance="b:9400"}`, `{job="gpu",instance="b:9400"}`, `gpu_temp_celsius{gpu="1"}`}})
	var got []map[string]string
	decode(t, body, &got)
	if len(got) != 3 || got[0]["__name__"] != "gpu_temp_celsius" || got[1]["__name__"] != "gpu_temp_celsius" || got[2]["__name__"] != "up" {
		t.Errorf("union: %s", body)
	}

	// start/end select series with samples in the range.
	_, body = get(t, srv, "/api/v1/series?match[]=up&start=1600000000&end=1600000100")
	if want := `{"status":"success","data":[]}`; body != want {
		t.Errorf("outside the data: %s", body)
	}

	_, body = get(t, srv, "/api/v1/series?match[]=gpu_temp_celsius&limit=1")
	r := decode(t, body, &got)
	if len(got) != 1 || len(r.Warnings) != 1 || r.Warnings[0] != "results truncated due to limit" {
		t.Errorf("limit: %s", body)
	}
}

func TestSeriesErrors(t *testing.T) {
	srv := serve(t, Options{})
	for _, tc := range []struct{ path, msg string }{
		{"/api/v1/series", "no match[] parameter provided"},
		{"/api/v1/series?match[]=" + url.QueryEscape(`{job=~".*"}`), `invalid parameter "match[]": match[] must contain at least one non-empty matcher`},
		{"/api/v1/series?match[]=up{", `invalid parameter "match[]": 1:4: parse error: unexpected end of input inside braces`},
		{"/api/v1/series?match[]=up&start=x", `invalid parameter "start": invalid time value for 'start': cannot parse "x" to a valid timestamp`},
		{"/api/v1/labels?match[]=" + url.QueryEscape(`{job=""}`), "match[] must contain at least one non-empty matcher"},
		{"/api/v1/label/%FF/values", `invalid label name: "\xff"`}, // UTF-8 names are valid, others not
		{"/api/v1/label/job/values?limit=x", `invalid parameter "limit": strconv.Atoi: parsing "x": invalid syntax`},
	} {
		code, body := get(t, srv, tc.path)
		if r := decode(t, body, nil); code != 400 || r.ErrorType != "bad_data" || r.Error != tc.msg {
			t.Errorf("%s: %d %s, want %q", tc.path, code, body, tc.msg)
		}
	}
}

func TestLabels(t *testing.T) {
	srv := serve(t, Options{})
	var names []string
	_, body := get(t, srv, "/api/v1/labels")
	decode(t, body, &names)
	if want := []string{"__name__", "gpu", "gpu.model", "instance", "job"}; !slices.Equal(names, want) {
		t.Errorf("labels = %q, want %q", names, want)
	}
	_, body = post(t, srv, "/api/v1/labels", url.Values{"match[]": {"up", "gpu_temp_celsius"}})
	decode(t, body, &names)
	if want := []string{"__name__", "gpu", "instance", "job"}; !slices.Equal(names, want) {
		t.Errorf("labels of up and gpu_temp_celsius = %q, want %q", names, want)
	}
	_, body = get(t, srv, "/api/v1/labels?match[]=nothing")
	if body != `{"status":"success","data":[]}` {
		t.Errorf("no series: %s", body)
	}

	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/api/v1/label/instance/values", []string{"a:9400", "b:9400"}},
		{"/api/v1/label/__name__/values", []string{"gpu_info", "gpu_temp_celsius", "gpu_xid_errors_total", "up"}},
		{"/api/v1/label/gpu/values?match[]=" + url.QueryEscape(`gpu_temp_celsius{instance="a:9400"}`), []string{"0", "1"}},
		{"/api/v1/label/instance/values?match[]=gpu_xid_errors_total&match[]=up", []string{"a:9400", "b:9400"}},
		{"/api/v1/label/__name__/values?limit=2", []string{"gpu_info", "gpu_temp_celsius"}},
		{"/api/v1/label/nope/values", []string{}},
		{"/api/v1/label/" + model.EscapeName("gpu.model", model.ValueEncodingEscaping) + "/values", []string{"H100 <SXM>"}},
		{"/api/v1/label/instance/values?start=1600000000&end=1600000100", []string{}},
	} {
		var vals []string
		_, body := get(t, srv, tc.path)
		r := decode(t, body, &vals)
		if !slices.Equal(vals, tc.want) || vals == nil {
			t.Errorf("%s = %q, want %q", tc.path, vals, tc.want)
		}
		if strings.Contains(tc.path, "limit") != (len(r.Warnings) == 1) {
			t.Errorf("%s: warnings %q", tc.path, r.Warnings)
		}
	}
	// Escaped as encoding/json does.
	if _, body := get(t, srv, "/api/v1/label/U__gpu_2e_model/values"); body != `{"status":"success","data":["H100 \u003cSXM\u003e"]}` {
		t.Errorf("body %s", body)
	}
}

// Prometheus answers label values on GET only; other methods are refused.
func TestMethods(t *testing.T) {
	srv := serve(t, Options{})
	for _, tc := range []struct {
		method, path string
		code         int
	}{
		{http.MethodPost, "/api/v1/label/job/values", http.StatusMethodNotAllowed},
		{http.MethodPost, "/api/v1/targets", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/api/v1/query", http.StatusMethodNotAllowed},
		{http.MethodPost, "/api/v1/query_exemplars?query=up", http.StatusOK},
		{http.MethodGet, "/api/v1/nothing", http.StatusNotFound},
	} {
		req, err := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, resp.StatusCode, tc.code)
		}
	}
}
