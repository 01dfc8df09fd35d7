package api

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
)

type fakeRules []RuleGroup

func (f fakeRules) RuleGroups() []RuleGroup { return f }

func testRules() fakeRules {
	active := time.Date(2023, 11, 14, 22, 20, 0, 0, time.UTC)
	eval := time.Date(2023, 11, 14, 22, 23, 0, 0, time.UTC)
	return fakeRules{
		{
			Name: "gpu", File: "/etc/gpuwd/rules.yml", Interval: 30 * time.Second,
			EvaluationTime: 2 * time.Millisecond, LastEvaluation: eval,
			Rules: []Rule{
				{
					Alerting: true, Name: "GPUHot", Query: "gpu_temp_celsius > 75",
					Labels: map[string]string{"severity": "warning"}, Health: "ok",
					EvaluationTime: time.Millisecond, LastEvaluation: eval,
					State: "firing", For: 2 * time.Minute,
					Annotations: map[string]string{"summary": "GPU {{ $labels.gpu }} is hot"},
					Alerts: []Alert{{
						Labels:      map[string]string{"alertname": "GPUHot", "gpu": "0", "severity": "warning"},
						Annotations: map[string]string{"summary": "GPU 0 is hot"},
						State:       "firing", ActiveAt: active, Value: 80,
					}},
				},
				{Name: "job:gpu_temp_celsius:avg", Query: "avg by (job) (gpu_temp_celsius)", Health: "ok"},
			},
		},
		{
			Name: "agents", File: "/etc/gpuwd/rules.yml", Interval: time.Minute,
			Rules: []Rule{{Alerting: true, Name: "AgentDown", Query: "up == 0", State: "inactive", Labels: map[string]string{"severity": "critical"}}},
		},
	}
}

func TestRules(t *testing.T) {
	srv := serve(t, Options{Rules: testRules()})
	_, body := get(t, srv, "/api/v1/rules?rule_group[]=gpu&type=alert")
	want := `{"status":"success","data":{"groups":[{"name":"gpu","file":"/etc/gpuwd/rules.yml","rules":[` +
		`{"state":"firing","name":"GPUHot","query":"gpu_temp_celsius \u003e 75","duration":120,"keepFiringFor":0,` +
		`"labels":{"severity":"warning"},"annotations":{"summary":"GPU {{ $labels.gpu }} is hot"},` +
		`"alerts":[{"labels":{"alertname":"GPUHot","gpu":"0","severity":"warning"},"annotations":{"summary":"GPU 0 is hot"},` +
		`"state":"firing","activeAt":"2023-11-14T22:20:00Z","value":"8e+01"}],` +
		`"health":"ok","evaluationTime":0.001,"lastEvaluation":"2023-11-14T22:23:00Z","type":"alerting"}],` +
		`"interval":30,"limit":0,"evaluationTime":0.002,"lastEvaluation":"2023-11-14T22:23:00Z"}]}}`
	if body != want {
		t.Errorf("got  %s\nwant %s", body, want)
	}

	type rulesJSON struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []struct {
				Name   string          `json:"name"`
				Type   string          `json:"type"`
				Health string          `json:"health"`
				Alerts json.RawMessage `json:"alerts"`
			} `json:"rules"`
		} `json:"groups"`
		Next string `json:"groupNextToken"`
	}
	for _, tc := range []struct {
		query string
		want  []string // group/rule
	}{
		{"", []string{"gpu/GPUHot", "gpu/job:gpu_temp_celsius:avg", "agents/AgentDown"}},
		{"type=record", []string{"gpu/job:gpu_temp_celsius:avg"}},
		{"rule_name[]=AgentDown&rule_name[]=GPUHot", []string{"gpu/GPUHot", "agents/AgentDown"}},
		{"match[]=" + url.QueryEscape(`{severity="critical"}`), []string{"agents/AgentDown"}},
		{"file[]=/other.yml", nil},
	} {
		var d rulesJSON
		_, body := get(t, srv, "/api/v1/rules?"+tc.query)
		decode(t, body, &d)
		var got []string
		for _, g := range d.Groups {
			for _, r := range g.Rules {
				got = append(got, g.Name+"/"+r.Name)
				if r.Type == "alerting" && !strings.HasPrefix(string(r.Alerts), "[") {
					t.Errorf("%s: alerting rule without an alerts list: %s", tc.query, body)
				}
				if r.Health == "" {
					t.Errorf("%s: no health", tc.query)
				}
			}
		}
		if len(got) != len(tc.want) || (len(got) > 0 && (got[0] != tc.want[0] || got[len(got)-1] != tc.want[len(tc.want)-1])) {
			t.Errorf("%s: rules %q, want %q", tc.query, got, tc.want)
		}
	}

	// exclude_alerts makes "alerts" null, as in Prometheus.
	var d rulesJSON
	_, body = get(t, srv, "/api/v1/rules?type=alert&exclude_alerts=true")
	if decode(t, body, &d); len(d.Groups) != 2 || string(d.Groups[0].Rules[0].Alerts) != "null" {
		t.Errorf("exclude_alerts: %s", body)
	}

	// Paging: one group at a time.
	_, body = get(t, srv, "/api/v1/rules?group_limit=1")
	if decode(t, body, &d); len(d.Groups) != 1 || d.Groups[0].Name != "gpu" || d.Next == "" {
		t.Fatalf("page 1: %s", body)
	}
	_, body = get(t, srv, "/api/v1/rules?group_limit=1&group_next_token="+d.Next)
	d = rulesJSON{}
	if decode(t, body, &d); len(d.Groups) != 1 || d.Groups[0].Name != "agents" || d.Next != "" {
		t.Errorf("page 2: %s", body)
	}

	for _, q := range []string{"type=alerts", "exclude_alerts=maybe", "group_next_token=abc", "group_limit=0", "group_limit=1&group_next_token=abc"} {
		if code, body := get(t, srv, "/api/v1/rules?"+q); code != 400 {
			t.Errorf("%s: %d %s", q, code, body)
		}
	}
}

func TestAlerts(t *testing.T) {
	srv := serve(t, Options{Rules: testRules()})
	_, body := get(t, srv, "/api/v1/alerts")
	want := `{"status":"success","data":{"alerts":[{"labels":{"alertname":"GPUHot","gpu":"0","severity":"warning"},` +
		`"annotations":{"summary":"GPU 0 is hot"},"state":"firing","activeAt":"2023-11-14T22:20:00Z","value":"8e+01"}]}}`
	if body != want {
		t.Errorf("got  %s\nwant %s", body, want)
	}

	// Without a rule lister (the alerts subsystem comes later).
	srv = serve(t, Options{})
	if _, body := get(t, srv, "/api/v1/alerts"); body != `{"status":"success","data":{"alerts":[]}}` {
		t.Errorf("alerts: %s", body)
	}
	if _, body := get(t, srv, "/api/v1/rules"); body != `{"status":"success","data":{"groups":[]}}` {
		t.Errorf("rules: %s", body)
	}
}
