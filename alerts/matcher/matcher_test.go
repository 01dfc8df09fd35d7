package matcher

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // String() of the result
	}{
		{`severity=~"warning|critical"`, `{severity=~"warning|critical"}`},
		{`alertname!=Foo`, `{alertname!="Foo"}`},
		{`{a="b"}`, `{a="b"}`},
		{`{foo = "bar", dings != "bums", }`, `{foo="bar",dings!="bums"}`},
		{`foo=bar,dings!=bums`, `{foo="bar",dings!="bums"}`},
		{`statuscode=~"5.."`, `{statuscode=~"5.."}`},
		{`quote="She said: \"Hi, ladies!\""`, `{quote="She said: \"Hi, ladies!\""}`},
		{`instance=node-1:9400`, `{instance="node-1:9400"}`},
		{`a=`, `{a=""}`},
		{`a=""`, `{a=""}`},
		{`a!~"x|y", b=~.+`, `{a!~"x|y",b=~".+"}`},
		{`{}`, `{}`},
		{`"my label"="x"`, `{"my label"="x"}`},
		{`nl="a\nb"`, `{nl="a\nb"}`},
		{`path="C:\dir"`, `{path="C:\\dir"}`},
		{`a=b c`, `{a="b c"}`},
	} {
		ms, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got := ms.String(); got != tc.want {
			t.Errorf("Parse(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{
		`a`,
		`=b`,
		`a=b"`,
		`a="b`,
		`a="b"c"`,
		`a=~"("`,
		`1a=b`,
		`a=b,,c=d`,
	} {
		if ms, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %s, want an error", in, ms)
		}
	}
}

func TestMatches(t *testing.T) {
	ms, err := Parse(`severity=~"warning|critical", alertname!=Foo, team=""`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		labels map[string]string
		want   bool
	}{
		{map[string]string{"severity": "critical", "alertname": "Bar"}, true},
		{map[string]string{"severity": "critical", "alertname": "Foo"}, false},
		{map[string]string{"severity": "info"}, false},
		{map[string]string{"severity": "critical-ish"}, false}, // anchored
		{map[string]string{"severity": "warning", "team": "gpu"}, false},
	} {
		if got := ms.Matches(tc.labels); got != tc.want {
			t.Errorf("%s.Matches(%v) = %v, want %v", ms, tc.labels, got, tc.want)
		}
	}
}

func TestSortAndString(t *testing.T) {
	ms, _ := Parse(`b=1, a!=2, a=2`)
	ms.Sort()
	if got, want := ms.String(), `{a="2",a!="2",b="1"}`; got != want {
		t.Errorf("sorted = %s, want %s", got, want)
	}
}

func TestYAML(t *testing.T) {
	var v struct {
		M Matchers `yaml:"m"`
	}
	if err := yaml.Unmarshal([]byte("m:\n  - 'a=\"1\", b=~x'\n  - c!=3\n"), &v); err != nil {
		t.Fatal(err)
	}
	if got, want := v.M.String(), `{a="1",b=~"x",c!="3"}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	out, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `- b=~"x"`) {
		t.Errorf("marshalled:\n%s", out)
	}
	err = yaml.Unmarshal([]byte("m:\n  - a=1\n  - 'b=\"x'\n"), &v)
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("error = %v, want one on line 3", err)
	}
}
