package rules

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"go.yaml.in/yaml/v3"
)

// FuzzParse feeds arbitrary content to the rule file loader (which gpuwd
// rules check uses too). Bad content is an error, never a panic. A file
// that loads is written back from the loaded groups (rulefmt's YAML), which
// must load to the same groups: the stored queries are what evaluation
// parses again, so each must parse to itself.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"../../packaging/rules/*.yml", "ruletest/testdata/rules/*.yml", "ruletest/testdata/rules/*/*.yml"} {
		files, err := filepath.Glob(pattern)
		if err != nil || len(files) == 0 {
			f.Fatalf("no rule files match %s", pattern)
		}
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	for _, s := range []string{
		"",
		"groups: []",
		"groups:\n- name: g\n  rules: []",
		"groups:\n- name: g\n  interval: 10s\n  query_offset: 1m\n  limit: 3\n  labels: {team: ml}\n  rules:\n" +
			"  - record: job:up:sum\n    expr: sum by (job) (up)\n    labels: {team: infra}\n" +
			"  - alert: Down\n    expr: up == 0\n    for: 5m\n    keep_firing_for: 1m\n    annotations: {summary: '{{ $labels.instance }} is {{ $value }}'}\n",
		"groups:\n- name: g\n  rules:\n  - alert: A\n    expr: 'rate(x[5m] @ end()) offset -1m > bool 1'\n",
		"groups:\n- name: g\n  rules:\n  - alert: A\n    expr: '{\"gpu.temp\", \"model.name\"=~\"H1.*\"} > 80'\n    labels: {\"a.b\": \"$value\"}\n",
		"groups:\n- name: g\n  rules:\n  - record: r\n    alert: a\n    expr: up\n",
		"groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    annotations: {x: '{{ .Nope'}\n",
		"groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n- name: g\n  rules: []\n",
		"groups: {a: b}",
		"\t",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, content []byte) {
		groups, err := Parse("fuzz.yml", content, LoadOptions{})
		if err != nil {
			if groups != nil {
				t.Fatal("groups with an error")
			}
			return
		}
		for _, g := range groups {
			if g.interval <= 0 {
				t.Fatalf("group %q: interval %v", g.name, g.interval)
			}
		}
		rendered := renderGroups(t, groups)
		again, err := Parse("fuzz.yml", rendered, LoadOptions{})
		if err != nil {
			t.Fatalf("the loaded groups, rendered, do not load: %v\n%s", err, rendered)
		}
		if got, want := describeGroups(again), describeGroups(groups); !reflect.DeepEqual(got, want) {
			t.Fatalf("the loaded groups, rendered and loaded again, differ:\n%s\ngot  %+v\nwant %+v", rendered, got, want)
		}
	})
}

// renderGroups writes loaded groups back as a rule file: the group labels
// already merged into the rules', each query as the loader keeps it.
func renderGroups(t *testing.T, groups []*Group) []byte {
	t.Helper()
	var out rulefmt.RuleGroups
	for _, g := range groups {
		rg := rulefmt.RuleGroup{Name: g.name, Interval: model.Duration(g.interval), Limit: g.limit, Rules: []rulefmt.Rule{}}
		if g.queryOffset != 0 {
			off := model.Duration(g.queryOffset)
			rg.QueryOffset = &off
		}
		for _, r := range g.rules {
			rr := rulefmt.Rule{Expr: r.Query(), Labels: r.Labels().Map()}
			switch r := r.(type) {
			case *RecordingRule:
				rr.Record = r.name
			case *AlertingRule:
				rr.Alert = r.name
				rr.For = model.Duration(r.hold)
				rr.KeepFiringFor = model.Duration(r.keepFiringFor)
				rr.Annotations = r.annotations.Map()
			}
			rg.Rules = append(rg.Rules, rr)
		}
		out.Groups = append(out.Groups, rg)
	}
	b, err := yaml.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ruleDesc is what a loaded rule is, for comparison.
type ruleDesc struct {
	Kind, Name, Query, Labels, Annotations string
	For, KeepFiringFor                     time.Duration
}

type groupDesc struct {
	Name                  string
	Interval, QueryOffset time.Duration
	Limit                 int
	Rules                 []ruleDesc
}

func describeGroups(groups []*Group) []groupDesc {
	var out []groupDesc
	for _, g := range groups {
		gd := groupDesc{Name: g.name, Interval: g.interval, QueryOffset: g.queryOffset, Limit: g.limit}
		for _, r := range g.rules {
			rd := ruleDesc{Kind: "record", Name: r.Name(), Query: r.Query(), Labels: r.Labels().String()}
			if a, ok := r.(*AlertingRule); ok {
				rd.Kind, rd.Annotations, rd.For, rd.KeepFiringFor = "alert", a.annotations.String(), a.hold, a.keepFiringFor
			}
			gd.Rules = append(gd.Rules, rd)
		}
		out = append(out, gd)
	}
	return out
}
