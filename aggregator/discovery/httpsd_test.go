package discovery

import (
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"testing"
)

func TestHTTPSD(t *testing.T) {
	h := newHarness(t, regConfig+`
scrape_configs:
  - job_name: gpu
    scheme: https
    static_configs:
      - targets: ['gpu1:9400']
        labels: {rack: r1}
`, "", Options{})
	h.register(t, registerBody(agentURL, "1.2"))

	get := func(path string) []sdGroup {
		t.Helper()
		rec := httptest.NewRecorder()
		h.m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("GET %s: %d %q", path, rec.Code, rec.Header().Get("Content-Type"))
		}
		var gs []sdGroup
		if err := json.Unmarshal(rec.Body.Bytes(), &gs); err != nil {
			t.Fatal(err)
		}
		return gs
	}
	want := []sdGroup{
		{Targets: []string{"gpu1:9400"}, Labels: map[string]string{
			"job": "gpu", "__scheme__": "https", "__metrics_path__": "/metrics", "rack": "r1",
		}},
		{Targets: []string{"10.0.0.5:9400"}, Labels: map[string]string{
			"job": "gpuwd-agent", "__scheme__": "http", "__metrics_path__": "/metrics",
			"cluster": "train", "team": "ml",
			"__meta_gpuwd_node": "node-a", "__meta_gpuwd_pod_id": "pod-1", "__meta_gpuwd_version": "1.2",
			"__meta_gpuwd_gpus": "8", "__meta_gpuwd_gpu_models": "NVIDIA H100 80GB HBM3",
		}},
	}
	if got := get("/api/v1/sd"); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if got := get("/api/v1/sd?job=gpuwd-agent"); !reflect.DeepEqual(got, want[1:]) {
		t.Errorf("?job=gpuwd-agent: %+v", got)
	}
	rec := httptest.NewRecorder()
	h.m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/sd?job=none", nil))
	if body := rec.Body.String(); body != "[]\n" {
		t.Errorf("no targets: %q, want an empty list", body)
	}
}
