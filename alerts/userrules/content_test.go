package userrules

import (
	"context"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/rules"
	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
)

// awkward are valid rules whose text YAML must quote or fold.
func awkward() []Rule {
	return []Rule{
		hot(),
		{Name: "NodeDown", Expr: "up{job=\"gpu\"} == 0", For: 90 * time.Second},
		{Name: "XidStorm", Expr: "sum by (instance) (\n  increase(DCGM_FI_DEV_XID_ERRORS[10m])\n) > 3 # more than three\n", KeepFiringFor: 1500 * time.Millisecond,
			Labels: map[string]string{"severity": "warning", "y": "no", "team": "", "node": "{{ $labels.instance }}"},
			Annotations: map[string]string{
				"summary":     "#1: 'quoted' \"double\" {{ $value }}: - [x] {y}",
				"description": "line one\nline two\n  indented\ttab\n",
				"runbook_url": "https://wiki.example/gpu#xid",
				"null":        "null",
				"true":        "true",
				"num":         "0x1F",
				"lead":        " leading and trailing spaces ",
			}},
		{Name: "Scalar", Expr: "1"},
	}
}

// checkRoundTrip parses content as the rule manager does and compares the
// group with rs.
func checkRoundTrip(t *testing.T, content []byte, rs []Rule) {
	t.Helper()
	groups, err := rules.Parse(File, content, rules.LoadOptions{DefaultInterval: time.Minute})
	if err != nil {
		t.Fatalf("rules.Parse: %v\n%s", err, content)
	}
	if len(rs) == 0 {
		if len(groups) != 0 {
			t.Fatalf("%d groups for no rules", len(groups))
		}
		return
	}
	if len(groups) != 1 || groups[0].Name() != Group || groups[0].File() != File || groups[0].Interval() != time.Minute {
		t.Fatalf("groups %+v, want one named %q", groups, Group)
	}
	got := groups[0].Rules()
	if len(got) != len(rs) {
		t.Fatalf("%d rules, want %d", len(got), len(rs))
	}
	for i, want := range rs {
		g, ok := got[i].(*rules.AlertingRule)
		if !ok {
			t.Fatalf("rule %d is not an alerting rule", i)
		}
		e, err := parser.NewParser(parser.Options{}).ParseExpr(want.Expr)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case g.Name() != want.Name:
			t.Errorf("rule %d: name %q, want %q", i, g.Name(), want.Name)
		case g.Query() != e.String():
			t.Errorf("%s: expr %q, want %q", want.Name, g.Query(), e.String())
		case g.For() != want.For || g.KeepFiringFor() != want.KeepFiringFor:
			t.Errorf("%s: for %s keep %s, want %s %s", want.Name, g.For(), g.KeepFiringFor(), want.For, want.KeepFiringFor)
		case !maps.Equal(g.Labels().Map(), nonNil(want.Labels)) && !(len(want.Labels) == 0 && g.Labels().IsEmpty()):
			t.Errorf("%s: labels %v, want %v", want.Name, g.Labels().Map(), want.Labels)
		case !maps.Equal(g.Annotations().Map(), nonNil(want.Annotations)) && !(len(want.Annotations) == 0 && g.Annotations().IsEmpty()):
			t.Errorf("%s: annotations %q, want %q", want.Name, g.Annotations().Map(), want.Annotations)
		}
	}
}

func TestContentRoundTripsAndPromtoolAccepts(t *testing.T) {
	promtool := testenv.LookPath(t, "promtool")
	s := mustOpen(t, openDB(t, t.TempDir()))
	for _, r := range awkward() {
		if w, err := Validate(r, nil); err != nil || len(w) != 0 {
			t.Fatalf("%s: %v %v", r.Name, w, err)
		}
		mustSave(t, s, r, "", "alice")
	}
	ctx := context.Background()
	stored, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		rules []Rule
		want  string
	}{
		{"all", stored, "SUCCESS: 4 rules found"},
		{"none", nil, "SUCCESS: 0 rules found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			content, err := Marshal(tc.rules)
			if err != nil {
				t.Fatal(err)
			}
			checkRoundTrip(t, content, tc.rules)
			if res := rules.CheckContent(File, content); len(res.Errors) != 0 || res.Rules != len(tc.rules) {
				t.Fatalf("CheckContent: %+v", res)
			}
			file := filepath.Join(t.TempDir(), "dashboard.yml")
			if err := os.WriteFile(file, content, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(promtool, "check", "rules", file).CombinedOutput()
			if err != nil || !strings.Contains(string(out), tc.want) {
				t.Fatalf("promtool check rules: %v\n%s\n%s", err, out, content)
			}
		})
	}
	// Content is Marshal of List.
	content, err := s.Content(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := Marshal(stored); string(content) != string(want) {
		t.Fatalf("Content differs from Marshal(List)")
	}
}

func TestMarshalLooksLikeARuleFile(t *testing.T) {
	content, err := Marshal([]Rule{{Name: "NodeDown", Expr: "up == 0", For: 5 * time.Minute, Labels: map[string]string{"severity": "critical"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := `# Alerting rules edited in the gpu-watchdog dashboard.
groups:
  - name: dashboard
    rules:
      - alert: NodeDown
        expr: up == 0
        for: 5m
        labels:
          severity: critical
`
	if string(content) != want {
		t.Fatalf("got\n%s\nwant\n%s", content, want)
	}
}

// FuzzValidateMarshal: whatever Validate accepts, the rule file of it
// parses back to the same rule.
func FuzzValidateMarshal(f *testing.F) {
	for _, r := range awkward() {
		var k, v string
		for k, v = range r.Annotations {
			break
		}
		f.Add(r.Name, r.Expr, int64(r.For), "severity", "warning", k, v)
	}
	f.Add("A", "up", int64(0), "a", "{{ $labels.x }}", "b", "\x00")
	f.Fuzz(func(t *testing.T, name, expr string, forNS int64, lk, lv, ak, av string) {
		r := Rule{Name: name, Expr: expr, For: time.Duration(forNS), Labels: map[string]string{lk: lv}, Annotations: map[string]string{ak: av}}
		if _, err := Validate(r, nil); err != nil {
			return
		}
		content, err := Marshal([]Rule{r})
		if err != nil {
			t.Fatalf("Marshal of a valid rule: %v", err)
		}
		checkRoundTrip(t, content, []Rule{r})
	})
}
