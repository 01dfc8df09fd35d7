package route

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string // substrings of the error
	}{
		{"empty", "", []string{"empty"}},
		{"no route", "receivers: [{name: r}]", []string{"route: missing"}},
		{"root without receiver", "route: {group_by: [a]}\nreceivers: [{name: r}]", []string{"line 1: route: root route must specify a default receiver"}},
		{"root with matchers", "route:\n  receiver: r\n  matchers: [a=b]\nreceivers: [{name: r}]", []string{"line 2: route: root route must not have any matchers"}},
		{"root with match", "route:\n  receiver: r\n  match: {a: b}\nreceivers: [{name: r}]", []string{"root route must not have any matchers"}},
		{"root continue", "route: {receiver: r, continue: true}\nreceivers: [{name: r}]", []string{"cannot have continue in root route"}},
		{"unknown receiver", `
route:
  receiver: r
  routes:
  - receiver: r
  - receiver: r
  - receiver: nope
receivers: [{name: r}]`, []string{`line 7: route.routes[2].receiver: undefined receiver "nope"`}},
		{"duplicate receiver", "route: {receiver: r}\nreceivers: [{name: r}, {name: r}]", []string{`receivers[1]: receiver name "r" is not unique`}},
		{"receiver without name", "route: {receiver: r}\nreceivers: [{name: r}, {}]", []string{`line 2: receivers[1]: missing name`}},
		{"unknown field", "route: {receiver: r, recevier: x}\nreceivers: [{name: r}]", []string{`line 1: route: unknown field "recevier" in a route`}},
		{"unknown top-level field", "route: {receiver: r}\nreceivers: [{name: r}]\nfoo: 1", []string{`line 3: unknown field "foo" in the top level`}},
		{"unknown receiver field", "route: {receiver: r}\nreceivers:\n- name: r\n  webhook_configs:\n  - urll: x", []string{`line 5: receivers[0].webhook_configs[0]: unknown field "urll" in a webhook_config`}},
		{"duplicate group_by", "route: {receiver: r, group_by: [a, b, a]}\nreceivers: [{name: r}]", []string{`route.group_by: duplicated label "a"`}},
		{"wildcard and labels", "route: {receiver: r, group_by: ['...', a]}\nreceivers: [{name: r}]", []string{"cannot have wildcard group_by"}},
		{"bad group_by label", "route: {receiver: r, group_by: [a-b]}\nreceivers: [{name: r}]", []string{`invalid label name "a-b"`}},
		{"zero group_interval", "route: {receiver: r, group_interval: 0s}\nreceivers: [{name: r}]", []string{"group_interval cannot be zero"}},
		{"zero repeat_interval", "route:\n  receiver: r\n  routes:\n  - repeat_interval: 0s\nreceivers: [{name: r}]", []string{"line 4: route.routes[0].repeat_interval: repeat_interval cannot be zero"}},
		{"bad duration", "route:\n  receiver: r\n  group_wait: 30\nreceivers: [{name: r}]", []string{`line 3: route.group_wait: invalid duration "30"`}},
		{"negative duration", "route: {receiver: r, group_wait: -1s}\nreceivers: [{name: r}]", []string{`invalid duration "-1s"`}},
		{"bad matcher", "route:\n  receiver: r\n  routes:\n  - matchers:\n    - 'a=\"b'\nreceivers: [{name: r}]", []string{"line 5: route.routes[0].matchers[0]: ", "unescaped double quote"}},
		{"bad regex", "route:\n  receiver: r\n  routes:\n  - matchers: ['a=~\"(\"']\nreceivers: [{name: r}]", []string{"line 4:", "invalid regular expression"}},
		{"bad match_re", "route:\n  receiver: r\n  routes:\n  - match_re: {a: '('}\nreceivers: [{name: r}]", []string{"line 4:", "invalid regular expression"}},
		{"mute_time_intervals", "route:\n  receiver: r\n  routes:\n  - receiver: r\n    mute_time_intervals: [night]\nreceivers: [{name: r}]", []string{"line 5: route.routes[0].mute_time_intervals: not supported"}},
		{"active_time_intervals", "route: {receiver: r, active_time_intervals: [x]}\nreceivers: [{name: r}]", []string{"route.active_time_intervals: not supported"}},
		{"time_intervals", "route: {receiver: r}\nreceivers: [{name: r}]\ntime_intervals: []", []string{"line 3: time_intervals: not supported"}},
		{"email", "route: {receiver: r}\nreceivers:\n- name: r\n  email_configs: [{to: a@b}]", []string{"line 4: receivers[0].email_configs: not supported"}},
		{"bad equal", "route: {receiver: r}\nreceivers: [{name: r}]\ninhibit_rules:\n- equal: ['a b']", []string{`line 4: inhibit_rules[0].equal: invalid label name "a b"`}},
		{"zero resolve_timeout", "global: {resolve_timeout: 0s}\nroute: {receiver: r}\nreceivers: [{name: r}]", []string{"line 1: global.resolve_timeout: must be greater than zero"}},
		{"no global", "route: {receiver: r}\nreceivers: [{name: r}]", nil},
		{"bad webhook", "route: {receiver: r}\nreceivers:\n- name: r\n- name: s\n  webhook_configs: [{url: 'ftp://x'}]", []string{`line 4: receivers[1]: receiver "s": webhook_configs[0]`}},
		{"several problems", "route:\n  receiver: r\n  routes:\n  - receiver: x\n  - receiver: y\nreceivers: [{name: r}]", []string{`undefined receiver "x"`, `undefined receiver "y"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok.yml")
	bad := filepath.Join(dir, "bad.yml")
	os.WriteFile(ok, []byte(good), 0o600)
	os.WriteFile(bad, []byte("route: {receiver: nope}\nreceivers: [{name: r}]\n"), 0o600)
	var out bytes.Buffer
	if err := Check(&out, ok); err != nil {
		t.Fatalf("Check: %v\n%s", err, out.String())
	}
	want := "Checking '" + ok + "'  SUCCESS\nFound:\n - global config\n - route\n - 2 inhibit rules\n - 6 receivers\n\n"
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
	out.Reset()
	if err := Check(&out, ok, bad); err == nil {
		t.Error("Check of a bad file succeeded")
	}
	if !strings.Contains(out.String(), "Checking '"+bad+"'  FAILED: line 1: route.receiver: undefined receiver \"nope\"") {
		t.Errorf("output:\n%s", out.String())
	}
}
