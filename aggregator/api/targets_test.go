package api

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

type fakeTargets struct {
	active  []Target
	dropped []DroppedTarget
}

func (f fakeTargets) ActiveTargets() []Target         { return f.active }
func (f fakeTargets) DroppedTargets() []DroppedTarget { return f.dropped }

func TestTargets(t *testing.T) {
	last := time.Date(2023, 11, 14, 22, 23, 5, 500_000_000, time.UTC)
	targets := fakeTargets{
		active: []Target{
			{
				DiscoveredLabels: map[string]string{"__address__": "b:9400", "job": "gpu"},
				Labels:           map[string]string{"instance": "b:9400", "job": "gpu"},
				ScrapePool:       "gpu", ScrapeURL: "http://b:9400/metrics",
				LastError: "connection refused", LastScrape: last, LastScrapeDuration: 0.25,
				Health: "down", ScrapeInterval: "15s", ScrapeTimeout: "10s",
			},
			{ScrapePool: "agents", ScrapeURL: "http://a:9400/metrics"},
		},
		dropped: []DroppedTarget{
			{DiscoveredLabels: map[string]string{"__address__": "c:9400"}, ScrapePool: "gpu"},
			{ScrapePool: "agents"},
		},
	}
	srv := serve(t, Options{Targets: targets})

	_, body := get(t, srv, "/api/v1/targets?state=active&scrapePool=gpu")
	want := `{"status":"success","data":{"activeTargets":[{"discoveredLabels":{"__address__":"b:9400","job":"gpu"},` +
		`"labels":{"instance":"b:9400","job":"gpu"},"scrapePool":"gpu","scrapeUrl":"http://b:9400/metrics",` +
		`"globalUrl":"http://b:9400/metrics","lastError":"connection refused","lastScrape":"2023-11-14T22:23:05.5Z",` +
		`"lastScrapeDuration":0.25,"health":"down","scrapeInterval":"15s","scrapeTimeout":"10s"}],` +
		`"droppedTargets":[],"droppedTargetCounts":null}}`
	if body != want {
		t.Errorf("active in gpu:\n got %s\nwant %s", body, want)
	}

	var d struct {
		Active []struct {
			ScrapePool string            `json:"scrapePool"`
			Labels     map[string]string `json:"labels"`
			Health     string            `json:"health"`
		} `json:"activeTargets"`
		Dropped []struct {
			ScrapePool       string            `json:"scrapePool"`
			DiscoveredLabels map[string]string `json:"discoveredLabels"`
		} `json:"droppedTargets"`
		Counts map[string]int `json:"droppedTargetCounts"`
	}
	_, body = get(t, srv, "/api/v1/targets")
	decode(t, body, &d)
	if len(d.Active) != 2 || d.Active[0].ScrapePool != "agents" || d.Active[0].Health != "unknown" || d.Active[0].Labels == nil {
		t.Errorf("active sorted by pool, defaults filled: %s", body)
	}
	if len(d.Dropped) != 2 || d.Dropped[0].ScrapePool != "agents" || d.Dropped[0].DiscoveredLabels == nil {
		t.Errorf("dropped: %s", body)
	}
	if d.Counts["gpu"] != 1 || d.Counts["agents"] != 1 {
		t.Errorf("counts: %s", body)
	}
	_, body = get(t, srv, "/api/v1/targets?state=dropped&scrapePool=gpu")
	decode(t, body, &d)
	if len(d.Active) != 0 || len(d.Dropped) != 1 || d.Counts["agents"] != 1 {
		t.Errorf("dropped in gpu (counts unfiltered): %s", body)
	}

	// No lister: empty lists.
	_, body = get(t, serve(t, Options{}), "/api/v1/targets")
	if want := `{"status":"success","data":{"activeTargets":[],"droppedTargets":[],"droppedTargetCounts":{}}}`; body != want {
		t.Errorf("no targets: %s", body)
	}
}

type fakeMetadata map[string][]Metadata

func (f fakeMetadata) Metadata(_ context.Context, metric string) (map[string][]Metadata, error) {
	if metric == "broken" {
		return nil, errors.New("database is locked")
	}
	if metric == "" {
		return f, nil
	}
	if m, ok := f[metric]; ok {
		return map[string][]Metadata{metric: m}, nil
	}
	return nil, nil
}

func TestMetadata(t *testing.T) {
	md := fakeMetadata{
		"up":               {{Type: "gauge", Help: "Whether the target is up."}},
		"gpu_temp_celsius": {{Type: "gauge", Help: "GPU temperature.", Unit: "celsius"}, {Type: "gauge", Help: "Old help."}, {Type: "gauge", Help: "Old help."}},
		"gpu_xid_errors":   {{Type: "counter", Help: "XID errors."}},
	}
	srv := serve(t, Options{Metadata: md})
	for _, tc := range []struct{ query, want string }{
		{"metric=up", `{"up":[{"type":"gauge","help":"Whether the target is up.","unit":""}]}`},
		{"metric=nope", `{}`},
		{"limit=1", `{"gpu_temp_celsius":[{"type":"gauge","help":"GPU temperature.","unit":"celsius"},{"type":"gauge","help":"Old help.","unit":""}]}`},
		{"limit=0", `{}`},
		{"metric=gpu_temp_celsius&limit_per_metric=1", `{"gpu_temp_celsius":[{"type":"gauge","help":"GPU temperature.","unit":"celsius"}]}`},
	} {
		if _, body := get(t, srv, "/api/v1/metadata?"+tc.query); body != `{"status":"success","data":`+tc.want+`}` {
			t.Errorf("%s: %s", tc.query, body)
		}
	}
	var all map[string][]Metadata
	_, body := get(t, srv, "/api/v1/metadata")
	if decode(t, body, &all); len(all) != 3 || len(all["gpu_temp_celsius"]) != 2 {
		t.Errorf("all: %s", body)
	}
	if code, body := get(t, srv, "/api/v1/metadata?limit=x"); code != 400 || !strings.Contains(body, `"limit must be a number"`) {
		t.Errorf("bad limit: %d %s", code, body)
	}
	if code, body := get(t, srv, "/api/v1/metadata?metric=broken"); code != 500 || !strings.Contains(body, `"errorType":"internal"`) {
		t.Errorf("lister error: %d %s", code, body)
	}
	if _, body := get(t, serve(t, Options{}), "/api/v1/metadata"); body != `{"status":"success","data":{}}` {
		t.Errorf("no lister: %s", body)
	}
}
