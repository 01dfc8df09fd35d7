package route

import (
	"testing"
)

// FuzzParse feeds arbitrary YAML to the alerting configuration loader. Bad
// input is an error, never a panic. A configuration that loads has a routing
// tree whose every node names a defined receiver and has positive timers,
// routes every alert somewhere, and prints (String, what the Alertmanager
// API shows) as YAML that loads to the same tree when it loads at all
// (secrets print as <secret>, which a receiver may refuse).
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		good,
		"",
		"route: {receiver: r}\nreceivers: [{name: r}]",
		"global: {resolve_timeout: 1s}\nroute: {receiver: r, group_by: ['...'], group_wait: 0s}\nreceivers: [{name: r}]",
		"route: {group_by: [a]}\nreceivers: [{name: r}]",
		"route:\n  receiver: r\n  matchers: [a=b]\nreceivers: [{name: r}]",
		"route: {receiver: r, continue: true}\nreceivers: [{name: r}]",
		"route:\n  receiver: r\n  routes:\n  - receiver: r\n  - receiver: nope\nreceivers: [{name: r}]",
		"route: {receiver: r}\nreceivers: [{name: r}, {name: r}, {}]",
		"route: {receiver: r, recevier: x}\nreceivers: [{name: r}]\nfoo: 1",
		"route: {receiver: r, group_by: [a, b, a, '...', a-b], group_interval: 0s}\nreceivers: [{name: r}]",
		"route:\n  receiver: r\n  routes:\n  - {repeat_interval: 0s, group_wait: -1s, matchers: ['a=\"b', 'c=~\"(\"'], match_re: {a: '('}}\nreceivers: [{name: r}]",
		"route:\n  receiver: r\n  routes:\n  - {matchers: ['{x=~\"a|b\", y!~\"\"}'], match: {\"z\": \"\\\"\"}, receiver: r, routes: [{}, null]}\nreceivers: [{name: r}]",
		"route: {receiver: r, mute_time_intervals: [night]}\nreceivers: [{name: r, email_configs: [{to: a@b}]}]\ntime_intervals: []",
		"route: {receiver: r}\nreceivers: [{name: r}]\ninhibit_rules:\n- {equal: ['a b'], source_match_re: {a: '.*'}, target_matchers: ['b!=c']}\n- null",
		"route: {receiver: r}\nreceivers:\n- name: r\n  webhook_configs: [{url: 'http://127.0.0.1:1/hook', max_alerts: 3}]\n- name: s\n  webhook_configs: [{url: 'ftp://x'}]",
		"global: {resolve_timeout: 0s}\nroute: {receiver: r}\nreceivers: [{name: r}]",
		"- a\n- b",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			if c != nil {
				t.Fatal("a configuration with an error")
			}
			return
		}
		root := c.Root()
		if root == nil || root.Parent() != nil {
			t.Fatal("no root route")
		}
		root.Walk(func(r *Route) {
			if _, ok := c.Receiver(r.Receiver); !ok {
				t.Fatalf("route %s: undefined receiver %q", r.ID(), r.Receiver)
			}
			if r.GroupWait < 0 || r.GroupInterval <= 0 || r.RepeatInterval <= 0 {
				t.Fatalf("route %s: timers %v %v %v", r.ID(), r.GroupWait, r.GroupInterval, r.RepeatInterval)
			}
		})
		if c.ResolveTimeout() <= 0 {
			t.Fatalf("resolve_timeout %v", c.ResolveTimeout())
		}
		for _, lset := range []map[string]string{{}, {"alertname": "A", "severity": "critical"}} {
			if len(root.Match(lset)) == 0 {
				t.Fatalf("alert %v goes nowhere", lset)
			}
		}
		s := c.String()
		again, err := Parse([]byte(s))
		if err != nil {
			return
		}
		if s2 := again.String(); s2 != s {
			t.Fatalf("printed configuration loads differently:\n%s\nthen\n%s", s, s2)
		}
		if got, want := routeIDs(again.Root()), routeIDs(root); got != want {
			t.Fatalf("printed configuration has other routes:\n%s\nwant\n%s", got, want)
		}
	})
}

// routeIDs lists the tree's routes with their receivers.
func routeIDs(root *Route) string {
	var s string
	root.Walk(func(r *Route) { s += r.ID() + " -> " + r.Receiver + "\n" })
	return s
}
