package target

import "testing"

func TestFromURL(t *testing.T) {
	for raw, want := range map[string]Target{
		"http://10.0.0.5:9400/metrics":              {Job: "j", Scheme: "http", Address: "10.0.0.5:9400", MetricsPath: "/metrics"},
		"https://abc-9400.proxy.runpod.net/metrics": {Job: "j", Scheme: "https", Address: "abc-9400.proxy.runpod.net:443", MetricsPath: "/metrics"},
		"http://[fe80::1]:9400":                     {Job: "j", Scheme: "http", Address: "[fe80::1]:9400", MetricsPath: "/metrics"},
		"http://node/custom/path":                   {Job: "j", Scheme: "http", Address: "node:80", MetricsPath: "/custom/path"},
	} {
		got, err := FromURL("j", raw)
		if err != nil || got.Job != want.Job || got.Scheme != want.Scheme || got.Address != want.Address || got.MetricsPath != want.MetricsPath {
			t.Errorf("FromURL(%q) = %+v, %v; want %+v", raw, got, err, want)
		}
	}
	for _, bad := range []string{"ftp://x/metrics", "http:///metrics", "http://u:p@x/metrics", "http://x/metrics?token=1", "::"} {
		if _, err := FromURL("j", bad); err == nil {
			t.Errorf("FromURL(%q) accepted", bad)
		}
	}
}

func TestDiscoveredLabelsAndURL(t *testing.T) {
	tg := Target{Job: "gpu", Scheme: "https", Address: "n:9400", MetricsPath: "/metrics",
		Labels: map[string]string{"rack": "a"}, Meta: map[string]string{"gpuwd_node": "n"}}
	if got := tg.URL(); got != "https://n:9400/metrics" {
		t.Errorf("URL = %q", got)
	}
	d := tg.DiscoveredLabels()
	for k, v := range map[string]string{"__address__": "n:9400", "__scheme__": "https", "__metrics_path__": "/metrics", "job": "gpu", "rack": "a", "__meta_gpuwd_node": "n"} {
		if d[k] != v {
			t.Errorf("DiscoveredLabels[%s] = %q, want %q", k, d[k], v)
		}
	}
	ts := []Target{{Job: "b", Scheme: "http", Address: "x:1"}, {Job: "a", Scheme: "http", Address: "y:1"}}
	Sort(ts)
	if ts[0].Job != "a" {
		t.Errorf("Sort: %v", ts)
	}
}
