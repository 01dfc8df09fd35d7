package route

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
)

const good = `
global:
  resolve_timeout: 10m
route:
  receiver: default
  group_by: [alertname]
  group_wait: 10s
  routes:
  - matchers: ['severity="critical"']
    receiver: pager
    group_by: [alertname, instance]
    repeat_interval: 1h
    routes:
    - match:
        team: gpu
      receiver: gpu-pager
      continue: true
    - match_re:
        team: "db|storage"
      receiver: storage
  - matchers:
    - '{severity=~"warning|info", alertname!=Watchdog}'
    receiver: chat
    continue: true
    group_by: ['...']
  - matchers: [severity=warning]
    receiver: warnings
    group_by: []
    group_interval: 1m
receivers:
- name: default
- name: pager
  webhook_configs:
  - url: http://127.0.0.1:1/hook
    http_config:
      authorization:
        credentials: topsecret
- name: gpu-pager
- name: storage
- name: chat
- name: warnings
inhibit_rules:
- source_matchers: [severity="critical"]
  target_matchers: [severity="warning"]
  equal: [instance]
- source_match: {alertname: NodeDown}
  target_match_re: {alertname: "GPU.*"}
`

func mustParse(t *testing.T, s string) *Config {
	t.Helper()
	c, err := Parse([]byte(s))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

func TestParseAndInherit(t *testing.T) {
	c := mustParse(t, good)
	root := c.Root()
	if root.Receiver != "default" || root.GroupWait != 10*time.Second || root.GroupInterval != DefaultGroupInterval || root.RepeatInterval != DefaultRepeatInterval {
		t.Errorf("root = %+v", root)
	}
	if c.ResolveTimeout() != 10*time.Minute {
		t.Errorf("resolve timeout = %s", c.ResolveTimeout())
	}
	crit := root.Routes[0]
	if crit.GroupWait != 10*time.Second || crit.RepeatInterval != time.Hour || !slices.Equal(crit.GroupBy, []string{"alertname", "instance"}) {
		t.Errorf("critical route = %+v", crit)
	}
	gpu := crit.Routes[0]
	if gpu.Receiver != "gpu-pager" || gpu.RepeatInterval != time.Hour || !slices.Equal(gpu.GroupBy, []string{"alertname", "instance"}) {
		t.Errorf("gpu route did not inherit: %+v", gpu)
	}
	if !root.Routes[1].GroupByAll {
		t.Error("'...' is not group by all")
	}
	if w := root.Routes[2]; len(w.GroupBy) != 0 || w.GroupByAll || w.GroupInterval != time.Minute {
		t.Errorf("group_by: [] route = %+v", w)
	}
	if got := c.InhibitRules[1].Sources().String(); got != `{alertname="NodeDown"}` {
		t.Errorf("source_match = %s", got)
	}
	if got := c.InhibitRules[1].Targets().String(); got != `{alertname=~"^(?:GPU.*)$"}` {
		t.Errorf("target_match_re = %s", got)
	}
}

func receiversOf(rs []*Route) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Receiver)
	}
	return out
}

func TestMatch(t *testing.T) {
	root := mustParse(t, good).Root()
	for _, tc := range []struct {
		labels map[string]string
		want   []string
	}{
		{map[string]string{"alertname": "X"}, []string{"default"}},
		{map[string]string{"alertname": "X", "severity": "critical"}, []string{"pager"}},
		{map[string]string{"alertname": "X", "severity": "critical", "team": "gpu"}, []string{"gpu-pager"}},
		{map[string]string{"alertname": "X", "severity": "critical", "team": "db"}, []string{"storage"}},
		// continue on the chat route: the next sibling is tried too.
		{map[string]string{"alertname": "X", "severity": "warning"}, []string{"chat", "warnings"}},
		{map[string]string{"alertname": "X", "severity": "info"}, []string{"chat"}},
		{map[string]string{"alertname": "Watchdog", "severity": "warning"}, []string{"warnings"}},
	} {
		if got := receiversOf(root.Match(tc.labels)); !slices.Equal(got, tc.want) {
			t.Errorf("Match(%v) = %v, want %v", tc.labels, got, tc.want)
		}
	}
}

func TestContinueMatchesLaterSiblings(t *testing.T) {
	root := mustParse(t, `
route:
  receiver: a
  routes:
  - {matchers: [x=1], receiver: b, continue: true}
  - {matchers: [x=1], receiver: c}
  - {matchers: [x=1], receiver: d}
receivers: [{name: a}, {name: b}, {name: c}, {name: d}]
`).Root()
	if got := receiversOf(root.Match(map[string]string{"x": "1"})); !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("got %v, want [b c]", got)
	}
}

func TestKeys(t *testing.T) {
	root := mustParse(t, good).Root()
	crit := root.Routes[0]
	if got, want := root.Key(), "{}"; got != want {
		t.Errorf("root key = %s", got)
	}
	if got, want := crit.Key(), `{}/{severity="critical"}`; got != want {
		t.Errorf("key = %s, want %s", got, want)
	}
	if got, want := crit.ID(), `{}/{severity="critical"}/0`; got != want {
		t.Errorf("id = %s, want %s", got, want)
	}
	if got, want := crit.Routes[1].Key(), `{}/{severity="critical"}/{team=~"^(?:db|storage)$"}`; got != want {
		t.Errorf("key = %s, want %s", got, want)
	}
	if got, want := root.Routes[1].Key(), `{}/{alertname!="Watchdog",severity=~"warning|info"}`; got != want {
		t.Errorf("key = %s, want %s", got, want)
	}
	gl := crit.GroupLabels(map[string]string{"alertname": "GPUDown", "instance": "n1:9400", "severity": "critical"})
	if got, want := crit.GroupKey(gl), `{}/{severity="critical"}:{alertname="GPUDown", instance="n1:9400"}`; got != want {
		t.Errorf("group key = %s, want %s", got, want)
	}
	if got, want := root.GroupKey(root.GroupLabels(map[string]string{"a": "b"})), `{}:{}`; got != want {
		t.Errorf("group key = %s, want %s", got, want)
	}
}

func TestSecretsHidden(t *testing.T) {
	s := mustParse(t, good).String()
	if strings.Contains(s, "topsecret") || !strings.Contains(s, "<secret>") {
		t.Errorf("config string:\n%s", s)
	}
	if !strings.Contains(s, `severity="critical"`) || !strings.Contains(s, "resolve_timeout: 10m") {
		t.Errorf("config string:\n%s", s)
	}
	// What String prints parses again into the same tree.
	again, err := Parse([]byte(strings.ReplaceAll(s, "<secret>", "http://127.0.0.1:1/x")))
	if err != nil {
		t.Fatalf("re-parse: %v\n%s", err, s)
	}
	var before, after []string
	mustParse(t, good).Root().Walk(func(r *Route) {
		before = append(before, fmt.Sprintf("%s %s %v %v", r.ID(), r.Receiver, r.GroupBy, r.GroupByAll))
	})
	again.Root().Walk(func(r *Route) {
		after = append(after, fmt.Sprintf("%s %s %v %v", r.ID(), r.Receiver, r.GroupBy, r.GroupByAll))
	})
	if !slices.Equal(before, after) {
		t.Errorf("tree after a round trip:\n%s\nwant:\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
	}
}

func TestDefaults(t *testing.T) {
	c := mustParse(t, "route: {receiver: r}\nreceivers: [{name: r}]\n")
	r := c.Root()
	if r.GroupWait != 30*time.Second || r.GroupInterval != 5*time.Minute || r.RepeatInterval != 4*time.Hour || c.ResolveTimeout() != 5*time.Minute {
		t.Errorf("defaults: %+v, resolve %s", r, c.ResolveTimeout())
	}
	if len(r.GroupBy) != 0 || r.GroupByAll {
		t.Errorf("default grouping: %+v", r)
	}
	if len(c.Warnings()) != 0 {
		t.Errorf("warnings: %v", c.Warnings())
	}
}

func TestWarnings(t *testing.T) {
	c := mustParse(t, "route: {receiver: r, repeat_interval: 1m}\nreceivers: [{name: r}]\n")
	if w := c.Warnings(); len(w) != 1 || !strings.Contains(w[0], "repeat_interval 1m is less than group_interval 5m") {
		t.Errorf("warnings = %q", w)
	}
}

// The group keys and fingerprints Alertmanager 0.25 sent to a webhook for
// these alerts and this configuration.
func TestGroupKeysMatchAlertmanager(t *testing.T) {
	c := mustParse(t, `
route:
  receiver: hook
  group_by: [alertname]
  routes:
  - matchers: ['{severity=~"warning|critical", alertname!=Foo}']
    receiver: hook
    group_by: [alertname, instance]
    routes:
    - match: {team: gpu}
      match_re: {zone: "eu.*"}
      receiver: hook
  - matchers: ['q="a\"b"']
    receiver: hook
receivers: [{name: hook}]
`)
	for _, tc := range []struct {
		labels           map[string]string
		groupKey, fprint string
	}{
		{map[string]string{"alertname": "A", "instance": "i1", "severity": "warning", "team": "gpu", "zone": "eu1"},
			`{}/{alertname!="Foo",severity=~"warning|critical"}/{team="gpu",zone=~"^(?:eu.*)$"}:{alertname="A", instance="i1"}`, "ada69333f0e67c33"},
		{map[string]string{"alertname": "B", "instance": "i2", "severity": "critical"},
			`{}/{alertname!="Foo",severity=~"warning|critical"}:{alertname="B", instance="i2"}`, "a720a60098a16eaa"},
		{map[string]string{"alertname": "C"}, `{}:{alertname="C"}`, "d2beefc389d73779"},
		{map[string]string{"alertname": "D", "q": `a"b`}, `{}/{q="a\"b"}:{alertname="D"}`, "854c26e41b861dd2"},
	} {
		rs := c.Root().Match(tc.labels)
		if len(rs) != 1 {
			t.Fatalf("%v matched %d routes", tc.labels, len(rs))
		}
		if got := rs[0].GroupKey(rs[0].GroupLabels(tc.labels)); got != tc.groupKey {
			t.Errorf("group key %s, want %s", got, tc.groupKey)
		}
		if got := notify.Fingerprint(tc.labels); got != tc.fprint {
			t.Errorf("fingerprint of %v = %s, want %s", tc.labels, got, tc.fprint)
		}
	}
}
